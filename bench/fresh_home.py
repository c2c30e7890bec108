"""A fresh, offline project home for a benchmark process (import before settings or Prefect load)."""
from __future__ import annotations

import os
from pathlib import Path


def use_fresh_home(tmp: str | Path) -> Path:
    """Point ACADEMIC_FACES_HOME at `tmp`/home, keep Prefect offline and quiet; returns the home."""
    home = Path(tmp) / "home"
    os.environ["ACADEMIC_FACES_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return home
