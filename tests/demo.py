"""A small demo university served on 127.0.0.1 with its registry file, for end-to-end tests."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from infra.demosite import DemoServer, build_site
from infra.demosite.truth import GroundTruth
from tests.conftest import require_shared_data


@contextlib.contextmanager
def served_demo(folder: Path, people_per_department: int = 3) -> Iterator[tuple[Path, GroundTruth]]:
    """(registry file, ground truth) while the demo site is served on a free port."""
    data = require_shared_data()
    truth = build_site(folder / "site", data / "faces" / "lfw", data / "nonface",
                       people_per_department=people_per_department)
    with DemoServer(folder / "site", port=0) as server:
        registry = folder / "departments.yaml"
        registry.write_text(truth.departments_yaml(server.base_url), encoding="utf-8")
        yield registry, truth
