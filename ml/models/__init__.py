"""The study's Keras models: :mod:`ml.models.cnn` (small CNN from scratch) and
:mod:`ml.models.vggface` (VGG16 pre-trained on VGGFace, the project's own Keras 3 builder).

Keras is imported inside the builders, so importing these modules stays cheap.
"""
