"""Helpers shared by the `academic-faces` command modules."""
from __future__ import annotations

from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 1."""


def cli_settings(args):
    """Settings from the environment, with a `--departments FILE` override when given."""
    from infra.settings import load_settings

    settings = load_settings()
    departments = getattr(args, "departments", None)
    if departments:
        if not Path(departments).is_file():
            raise CliError(f"departments file {departments} does not exist")
        settings = settings.replace(departments_file=Path(departments).absolute())
    return settings


def err_console():
    """Progress and messages go to standard error; standard output stays for data."""
    from rich.console import Console

    return Console(stderr=True)


def with_store(settings, fn):
    from infra.services import open_store

    with open_store(settings) as store:
        return fn(store)
