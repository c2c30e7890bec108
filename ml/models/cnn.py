"""The study's small CNN, trained from scratch (REFERENCE.md, model 1).

Three 3x3x32 convolutions, each followed by 2x2 max pooling, then dense 64 -> dropout 0.5
-> dense K softmax: 92,868 parameters for K=4 on 64x64x1 input (dense width and dropout
can be tuned: ``train --tune``). A ``Rescaling(1/255)``
layer (no parameters) sits inside the model, so a saved model takes raw 0..255 pixels.
"""
from __future__ import annotations


def build_cnn(num_classes: int = 4, input_shape: tuple[int, int, int] = (64, 64, 1), *,
              dense_units: int = 64, dropout: float = 0.5):
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for i in (1, 2, 3):
        x = layers.Conv2D(32, (3, 3), activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    # float32 softmax also under a mixed_float16 policy (numerically stable probabilities)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="study_cnn")
