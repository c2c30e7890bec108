"""The CLI's light commands, run as a user would (subprocess), against real SeaweedFS."""
import yaml


def test_store_ls_and_get(cli, store, tmp_path):
    store.put_bytes("raw/images/abc.jpg", b"\xff\xd8\xffphoto")
    out = cli("store", "ls", "raw/").stdout
    assert "8  raw/images/abc.jpg" in out
    cli("store", "get", "raw/images/abc.jpg", "--out", str(tmp_path / "x.jpg"))
    assert (tmp_path / "x.jpg").read_bytes() == b"\xff\xd8\xffphoto"
    missing = cli("store", "get", "raw/nothing", check=False)
    assert missing.returncode == 1 and "no object 'raw/nothing'" in missing.stderr


def test_departments_list_shows_registry(cli):
    out = cli("departments", "list").stdout
    assert "kit-dbis" in out and "lmu-germanistik-ndl" in out


def test_departments_new_appends_entry_and_fixture_test(cli, tmp_path):
    registry = tmp_path / "deps.yaml"
    registry.write_text("# my departments\ndepartments:\n  - slug: a\n    university: U\n    department: D\n"
                        "    category: cs\n    start_urls: [http://127.0.0.1/a]\n")
    tests_dir = tmp_path / "tests" / "departments"
    out = cli("departments", "new", "--slug", "uni-x-econ", "--university", "Uni X", "--department",
              "Economics", "--category", "econ", "--url", "http://127.0.0.1:9/staff.html",
              "--file", str(registry), "--tests-dir", str(tests_dir)).stdout
    assert "test_uni_x_econ.py" in out
    text = registry.read_text()
    assert text.startswith("# my departments")  # comments kept
    entries = yaml.safe_load(text)["departments"]
    assert entries[-1]["slug"] == "uni-x-econ" and entries[-1]["category"] == "econ"
    assert (tests_dir / "test_uni_x_econ.py").is_file()
    assert (tmp_path / "tests" / "fixtures" / "departments" / "uni-x-econ" / "site.json").is_file()
    # the same slug again is refused and the file is unchanged
    again = cli("departments", "new", "--slug", "uni-x-econ", "--university", "U", "--department", "D",
                "--category", "econ", "--url", "http://127.0.0.1:9/", "--file", str(registry),
                "--tests-dir", str(tests_dir), check=False)
    assert again.returncode == 1 and "appears twice" in again.stderr and registry.read_text() == text


def test_bad_registry_file_is_a_clear_error(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("departments:\n  - slug: x\n")
    proc = cli("crawl", "--departments", str(bad), check=False)
    assert proc.returncode == 1 and "missing required field" in proc.stderr
    proc = cli("crawl", "--departments", str(tmp_path / "none.yaml"), check=False)
    assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_train_before_preprocess_is_a_clear_error(cli, tmp_path):
    proc = cli("train", "--model", "probe", check=False)
    assert proc.returncode == 1 and "run `academic-faces preprocess` first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_scrapy_list_has_one_spider_per_registry_entry(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    registry = tmp_path / "deps.yaml"
    entry = ("  - slug: {slug}\n    university: U\n    department: D\n    category: cs\n"
             "    start_urls: [http://127.0.0.1:9/{slug}]\n")
    registry.write_text("departments:\n" + entry.format(slug="uni-a-cs"))
    env = {**os.environ, "ACADEMIC_FACES_DEPARTMENTS_FILE": str(registry)}

    def spiders():
        out = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True).stdout
        return out.split()
    assert spiders() == ["uni-a-cs"]
    registry.write_text(registry.read_text() + entry.format(slug="uni-b-econ"))  # one YAML entry more
    assert spiders() == ["uni-a-cs", "uni-b-econ"]
    env.pop("ACADEMIC_FACES_DEPARTMENTS_FILE")
    assert "kit-dbis" in spiders()  # the built-in registry


def test_evaluate_and_report_bad_input_is_a_clear_error(cli):
    proc = cli("evaluate", "--controls", "blur,colour", check=False)
    assert proc.returncode == 1 and "unknown control(s) ['colour']" in proc.stderr
    proc = cli("evaluate", "--controls", "blur", "--blur", "2", check=False)
    assert proc.returncode == 1 and "--blur must be a fraction" in proc.stderr
    proc = cli("evaluate", check=False)
    assert proc.returncode == 1 and "no trained 'probe' model yet" in proc.stderr
    proc = cli("report", "compare", "probe-nothing", check=False)
    assert proc.returncode == 1 and "no report for run 'probe-nothing'" in proc.stderr


def test_index_export_neutralises_formulas_and_round_trips_names(cli, store, tmp_path):
    import csv

    from infra.index import from_export_csv_bytes
    from tests.conftest import require_shared_data

    photos = sorted((require_shared_data() / "faces" / "lfw").glob("*/*.jpg"))[:2]
    names = ["=HYPERLINK(\"http://evil.example\",\"x\")", "Åsa Ölund-Ng, \"Dr.\" 🙂\nzweite Zeile"]
    manifest = tmp_path / "m.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "name", "category"])
        writer.writerows([str(p), n, "cs"] for p, n in zip(photos, names))
    cli("import", str(manifest), "--slug", "formula-test")
    cli("index", "export", "--out", str(tmp_path / "index.csv"))
    data = (tmp_path / "index.csv").read_bytes()
    cells = [row["name"] for row in csv.DictReader(data.decode("utf-8-sig").splitlines(keepends=True))]
    assert sorted(cells) == sorted(["'" + names[0], names[1]])  # a spreadsheet shows the text, runs nothing
    assert sorted(from_export_csv_bytes(data)["name"]) == sorted(names)  # and the tool reads back the exact names
