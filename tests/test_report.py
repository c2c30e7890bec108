"""The evaluation report: file set, valid PNGs, offline HTML with escaped text, Markdown links,
and a real render in headless Chromium.  Crops are real LFW photos from ../shared/data."""
from __future__ import annotations

import html
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from ml.metrics import evaluate_predictions, examples
from ml.report import build_report, safe_names
from tests.browser import render_page
from tests.conftest import require_shared_data

HTML_LABEL = '<b>&"x"'
LABELS = ["economics", "computer science", HTML_LABEL]
N_FACES = 30
KERAS_HISTORY = {"accuracy": [0.40, 0.52, 0.61], "val_accuracy": [0.38, 0.45, 0.50],
                 "loss": [1.10, 0.95, 0.83], "val_loss": [1.12, 1.05, 1.01]}
PROBE_HISTORY = {"cv_accuracy": {"0.001": 0.41, "0.01": 0.55, "0.1": 0.61, "1.0": 0.58}}
ALWAYS = {"report.html", "report.md", "metrics.json", "model_card.md", "confusion.png", "class_distribution.png"}
EXAMPLE_FILES = {f"examples-{name}.png" for name in ("economics", "computer_science", "b_x")}


def _crops() -> tuple[list[str], list[str], dict[str, bytes]]:
    """~30 real face photos: ids, person names (the groups) and JPEG bytes by id."""
    paths = sorted((require_shared_data() / "faces" / "lfw").glob("*/*.jpg"))[:N_FACES]
    assert len(paths) == N_FACES
    ids = [f"face-{i:03d}" for i in range(N_FACES)]
    return ids, [p.parent.name for p in paths], {i: p.read_bytes() for i, p in zip(ids, paths)}


def _probabilities(y_index: np.ndarray) -> np.ndarray:
    """Noisy scores with some signal, so every kind of example row occurs."""
    rng = np.random.default_rng(7)
    scores = rng.dirichlet(np.ones(len(LABELS)), len(y_index))
    scores[np.arange(len(y_index)), y_index] += 0.25
    return scores / scores.sum(axis=1, keepdims=True)


def _controls() -> dict:
    return {
        "blur": {"status": "skipped", "finding": "blur control skipped: no crops <available> & none blurred"},
        "lodo": {
            "status": "done", "finding": "Accuracy stays near the model's when a department is held out.",
            "accuracy": 0.52, "ci_low": 0.40, "ci_high": 0.63, "n_test": 30, "chance": 1 / 3, "p_value": 0.03,
            "folds": [{"department": "Economics, Uni A", "slug": "uni-a-econ", "category": "economics", "n": 12,
                       "accuracy": 0.58, "ci_low": 0.32, "ci_high": 0.81},
                      {"department": "CS, Uni B", "slug": "uni-b-cs", "category": "computer science", "n": 10,
                       "accuracy": 0.5, "ci_low": 0.24, "ci_high": 0.76}],
            "skipped": [{"slug": "uni-c-x", "reason": "only one category left in training"}]},
    }


def _per_department() -> list[dict]:
    return [{"department": "Economics, Uni A", "slug": "uni-a-econ", "category": "economics", "n": 12,
             "accuracy": 0.58, "ci_low": 0.32, "ci_high": 0.81},
            {"department": f"Dept {HTML_LABEL}", "slug": "uni-d", "category": HTML_LABEL, "n": 8,
             "accuracy": 0.25, "ci_low": 0.07, "ci_high": 0.59}]


@pytest.fixture(scope="module")
def crops():
    return _crops()


@pytest.fixture(scope="module")
def metrics(crops) -> dict:
    ids, people, _ = crops
    y_index = np.arange(N_FACES) % len(LABELS)
    y_true = [LABELS[i] for i in y_index]
    proba = _probabilities(y_index)
    result = evaluate_predictions(y_true, proba, LABELS, groups=people, n_permutations=200)
    result.update(run="probe-20250101-000000", kind="probe", data_fingerprint="0123456789abcdef0123",
                  same_data_as_training=False, examples=examples(ids, y_true, proba, LABELS, k=5),
                  per_department=_per_department(), controls=_controls(), verdict="inconclusive",
                  verdict_reason="The controls that tell face from context did not run.", detectable_accuracy=0.71,
                  provenance={"photos": N_FACES, "people": len(set(people)), "crawled_from": "2026-11-01T00:00:00Z",
                              "crawled_to": "2026-11-02T00:00:00Z",
                              "departments": [{"slug": "uni-a-econ", "university": "Uni A", "department": "Economics",
                                               "categories": ["economics"], "people": 3, "photos": 6}]})
    return result


@pytest.fixture(scope="module")
def images(crops) -> dict[str, bytes]:
    _, _, by_id = crops
    first_example_id = min(by_id)
    return {i: b for i, b in by_id.items() if i != first_example_id}  # one crop missing: a grey cell


@pytest.fixture(scope="module")
def plain_metrics(metrics) -> dict:
    """Without examples, controls and departments: fewer pictures for tests about other parts."""
    return {k: v for k, v in metrics.items() if k not in {"examples", "controls", "per_department"}}


@pytest.fixture(scope="module")
def report(metrics, images) -> dict[str, bytes]:
    return build_report(metrics, KERAS_HISTORY, images)


def _assert_png(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
        assert image.format == "PNG"
    assert len(data) < 600_000


# ---------- files ----------

def test_report_file_set_and_valid_pngs(report, metrics):
    expected = ALWAYS | EXAMPLE_FILES | {"training_curves.png", "departments.png", "controls.png"}
    assert set(report) == expected
    for name in expected - {"report.html", "report.md", "metrics.json", "model_card.md"}:
        _assert_png(report[name])
    assert report["metrics.json"] == json.dumps(metrics, indent=1).encode()


@pytest.mark.parametrize("history", [KERAS_HISTORY, {"loss": [1.0, 0.9]}, PROBE_HISTORY],
                         ids=["keras", "keras-loss-only", "probe"])
def test_training_curves_for_both_history_shapes(history):
    files = build_report({"run": "r1"}, history, {})  # no other pictures: keeps the test fast
    _assert_png(files["training_curves.png"])


@pytest.mark.parametrize("history", [{}, {"accuracy": [], "val_loss": []}, {"cv_accuracy": {}}])
def test_no_training_curves_without_history(history):
    files = build_report({"run": "r1"}, history, {})
    assert "training_curves.png" not in files
    assert "No training history to plot." in files["report.md"].decode()


def test_controls_picture_only_when_a_control_is_done():
    not_done = {name: {**c, "status": "not_run"} for name, c in _controls().items()}
    files = build_report({"controls": not_done}, {}, {})
    assert "controls.png" not in files
    assert "<td>not_run</td>" in files["report.html"].decode()
    assert "<code>academic-faces evaluate --controls all</code>" in files["report.html"].decode()


def test_saliency_section_with_maps_and_without(crops):
    from ml.face_mask import nominal_ellipse
    from ml.saliency import SaliencyMap, SaliencySummary, face_share

    ids, _, data = crops
    e = nominal_ellipse(128, 128)
    heat = np.zeros((128, 128), dtype=np.float32)
    heat[60:80, 54:74] = 1.0
    summary = SaliencySummary(["occlusion", "grad_cam"], [
        SaliencyMap(i, label, label, method, heat, e, face_share(heat, e))
        for i, label in ((ids[0], "economics"), (ids[1], "computer science")) for method in ("occlusion", "grad_cam")])
    metrics = {"per_class": {"economics": {}, "computer science": {}}, "saliency": summary.to_json({ids[0]})}
    files = build_report(metrics, {}, {ids[0]: data[ids[0]]}, saliency=summary)
    _assert_png(files["saliency-mean.png"])
    _assert_png(files["saliency-examples.png"])
    md = files["report.md"].decode()
    assert "## Where the model looks" in md and "Grad-CAM (HiResCAM)" in md and "1.00" in md
    bare = build_report({"run": "r1"}, {}, {})
    assert "saliency-mean.png" not in bare and "--saliency on" in bare["report.md"].decode()


def test_safe_names_reduce_and_deduplicate():
    names = safe_names(["a b", "a/b", "a_b", "<>", "ok-1"])
    assert names == {"a b": "a_b", "a/b": "a_b-2", "a_b": "a_b-3", "<>": "class", "ok-1": "ok-1"}


# ---------- Markdown ----------

def test_markdown_links_only_returned_files(report):
    markdown = report["report.md"].decode()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown.replace("\\]", ""))
    assert set(links) == {n for n in report if n.endswith(".png")}
    assert "Evaluation of run probe-20250101-000000" in markdown
    assert "test split may overlap its training data" in markdown
    assert "<b>" not in markdown  # web text never becomes raw HTML


def test_markdown_sections_in_order(report):
    markdown = report["report.md"].decode()
    headings = ["# Evaluation of run", "## Verdict", "## Face or website?", "## Summary", "## Per class",
                "## Class distribution", "## Confusion matrix", "## Confound controls", "## Where the model looks",
                "## Per department",
                "## Training curves", "## Examples per class", "## Model card"]
    positions = [markdown.index(h) for h in headings]
    assert positions == sorted(positions)


# ---------- HTML ----------

def test_html_is_offline_and_escaped(report):
    page = report["report.html"].decode()
    for forbidden in ("http://", "https://", 'src="//', "<script", "url("):
        assert forbidden not in page.lower()
    assert HTML_LABEL not in page
    assert html.escape(HTML_LABEL) in page
    assert page.count('src="data:image/png;base64,') == len([n for n in report if n.endswith(".png")])
    for element_id in ("confusion-heatmap", "class-distribution", "training-curves", "departments", "controls",
                       "examples-economics", "examples-computer_science", "examples-b_x"):
        assert f'id="{element_id}"' in page


def test_verdict_words(report, metrics):
    page = report["report.html"].decode()
    verdict = page[page.index("<h2>Verdict</h2>"):page.index("<h2>Summary</h2>")]
    assert f"Accuracy {metrics['accuracy']:.3f}" in verdict
    assert f"bootstrap over {metrics['n_groups']} people" in verdict
    assert ("better than chance" if metrics["p_value"] < 0.05 else "not distinguishable from chance") in verdict


def test_model_card_beside_the_report(report):
    card = report["model_card.md"].decode()
    for part in ("## Intended use", "## Out of scope", "## Data", "## People's rights", "## Metrics",
                 "## Face or website?", "## Known limitations", "Judging, screening",
                 "| Uni A / Economics | uni-a-econ | economics | 3 | 6 |", "Verdict: **inconclusive**",
                 "2026-11-01T00:00:00Z", "0.710", "- lodo: 0.520"):
        assert part in card, part
    html = report["report.html"].decode()
    assert "<h2>Model card</h2>" in html and "academic-faces forget" in html


def test_minimal_metrics_still_render(plain_metrics):
    minimal = {k: v for k, v in plain_metrics.items()
               if k not in {"n_groups", "p_value", "same_data_as_training", "data_fingerprint", "run", "kind",
                            "most_confused"}}
    files = build_report(minimal, {}, {})
    assert set(files) == ALWAYS
    markdown = files["report.md"].decode()
    assert "`academic-faces evaluate --controls all`" in markdown
    assert "Wilson interval" in markdown and "No permutation test was run." in markdown
    assert "No examples in these metrics." in markdown


def test_nearly_empty_metrics_render():
    files = build_report({}, {}, {})
    assert set(files) == {"report.html", "report.md", "metrics.json", "model_card.md"}
    assert "Evaluation of run —" in files["report.md"].decode()


# ---------- a real browser ----------

def test_html_renders_in_headless_chromium(report, tmp_path):
    page = tmp_path / "report.html"
    page.write_bytes(report["report.html"])
    screenshot = tmp_path / "report.png"
    states, fetched = render_page(page, screenshot)
    assert len(states) == len([n for n in report if n.endswith(".png")])
    examples_ids = [i for i in states if i.startswith("examples-")]
    assert len(examples_ids) == len(EXAMPLE_FILES)
    for element_id in ["confusion-heatmap", *examples_ids]:
        assert states[element_id]["complete"] and states[element_id]["width"] > 0, element_id
    assert all(s["width"] > 0 for s in states.values()), states
    assert [url for url in fetched if not url.startswith("data:")] == []
    assert screenshot.stat().st_size > 0
