"""`academic-faces departments new`: add a registry entry and a fixture test for it."""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from spiders.registry import BUILTIN_FILE, RegistryError, parse_registry

TEST_TEMPLATE = '''"""Fixture test for department {slug!r} (scaffolded by `academic-faces departments new`).

Save the staff page(s) into {fixture_dir} (keep their encoding), map each URL to its file
in site.json "pages", and list every person with their own portrait in "truth".
"""
from pathlib import Path

from spiders.extract import Selectors
from spiders.extract.evaluate import crawl_offline, load_fixture_site, score
from spiders.registry import find_department

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "departments" / {slug!r}


def test_{ident}_extracts_every_person():
    dept = find_department({slug!r}, {registry!r})
    pages, start_urls, truth = load_fixture_site(FIXTURE)
    assert truth, f"list the people of the saved page in {{FIXTURE / 'site.json'}}"
    found = crawl_offline(pages, start_urls, Selectors.from_mapping(dict(dept.selectors)))
    result = score(found, truth)
    assert result["precision"] == 1.0, result["false_positives"]
    assert result["recall"] == 1.0, result["missed"]
'''


def entry_yaml(**fields) -> str:
    text = yaml.safe_dump([{k: v for k, v in fields.items() if v is not None}], sort_keys=False,
                          allow_unicode=True, width=100)
    return "".join("  " + line + "\n" for line in text.splitlines())


def scaffold_department(*, slug: str, university: str, department: str, category: str, start_url: str,
                        render_js: str = "auto", registry_file: Path | None = None,
                        tests_dir: Path = Path("tests/departments")) -> list[Path]:
    registry_file = registry_file or BUILTIN_FILE
    current = registry_file.read_text(encoding="utf-8") if registry_file.is_file() else "departments:\n"
    addition = entry_yaml(slug=slug, university=university, department=department, category=category,
                          start_urls=[start_url], render_js=render_js)
    updated = current.rstrip("\n") + "\n" + addition
    parse_registry(updated, str(registry_file))  # validates the new entry and slug uniqueness
    if "departments:" not in current:
        raise RegistryError(f"{registry_file}: no 'departments:' list to append to")

    fixture_dir = tests_dir.parent / "fixtures" / "departments" / slug
    test_file = tests_dir / f"test_{slug.replace('-', '_')}.py"
    if test_file.exists():
        raise RegistryError(f"{test_file} already exists")
    fixture_dir.mkdir(parents=True, exist_ok=True)
    tests_dir.mkdir(parents=True, exist_ok=True)
    site = {"base_url": start_url, "start_urls": [start_url], "pages": {start_url: "page.html"}, "truth": []}
    (fixture_dir / "site.json").write_text(json.dumps(site, indent=2) + "\n", encoding="utf-8")
    registry_arg = None if registry_file == BUILTIN_FILE else str(registry_file.absolute())
    test_file.write_text(TEST_TEMPLATE.format(slug=slug, ident=slug.replace("-", "_"), fixture_dir=fixture_dir,
                                              registry=registry_arg), encoding="utf-8")
    tmp = registry_file.with_name(registry_file.name + ".tmp")
    tmp.write_text(updated, encoding="utf-8")
    os.replace(tmp, registry_file)  # the registry is never half-written
    return [registry_file, fixture_dir / "site.json", test_file]
