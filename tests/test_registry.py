import pytest

from spiders.registry import RegistryError, load_registry, parse_registry, select_departments

ENTRY = """departments:
  - slug: demo-cs
    university: U
    department: CS
    category: cs
    start_urls: [http://127.0.0.1:8765/cs/staff.html]
    allowed_paths: [/cs/]
"""


def test_builtin_registry_lists_the_study_departments_as_not_verifiable_offline():
    departments = load_registry()
    study = [d for d in departments if not d.verifiable_offline]
    assert {d.category for d in study} == {"cs", "econ", "german", "mechanical"}
    assert any("dbis.ipd.kit.edu" in u for d in study for u in d.start_urls)


def test_entry_defaults_and_scope():
    (dept,) = parse_registry(ENTRY)
    assert dept.render_js == "auto" and dept.allowed_domains == ["127.0.0.1"]
    assert dept.allows("http://127.0.0.1:8765/cs/p2.html")
    assert not dept.allows("http://127.0.0.1:8765/econ/staff.html")
    assert not dept.allows("http://example.org/cs/x.html")


@pytest.mark.parametrize("change, message", [
    (("slug: demo-cs", "slug: Demo CS"), "slug must be lowercase"),
    (("category: cs", "category: Computer Science"), "category must be a short lowercase label"),
    (("start_urls: [http://127.0.0.1:8765/cs/staff.html]", "start_urls: [ftp://x/y]"), "not an http"),
    (("allowed_paths: [/cs/]", "allowed_paths: [cs]"), "starting with '/'"),
    (("category: cs", "category: cs\n    render_js: maybe"), "render_js must be auto, true or false"),
    (("category: cs", "category: cs\n    selector: {}"), "unknown field"),
    (("    university: U\n", ""), "missing required field 'university'"),
])
def test_invalid_entries_are_explained(change, message):
    with pytest.raises(RegistryError, match=message):
        parse_registry(ENTRY.replace(*change), "f.yaml")


def test_duplicate_slugs_and_unknown_only():
    with pytest.raises(RegistryError, match="appears twice"):
        parse_registry(ENTRY + ENTRY.split("\n", 1)[1])
    with pytest.raises(RegistryError, match="unknown department"):
        select_departments(None, ["no-such-dept"])
