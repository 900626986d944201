#!/usr/bin/env bash
# Refresh requirements.lock from pyproject.toml: every package a fresh machine
# installs, pinned with hashes, for Python 3.11 on any platform (uv's universal
# resolution). Run after changing a dependency in pyproject.toml, then commit
# both files; `make venv` installs exactly what the lock says.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PYTHON=${2:-python3}
UV_VERSION=${UV_VERSION:-0.13.9}
# uv is the only tool needed; it goes into the project venv (made bare if absent),
# so a lock can be refreshed even when the installed set no longer matches pyproject.toml.
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if [ ! -x "$VENV/bin/uv" ] || ! "$VENV/bin/uv" --version | grep -q " $UV_VERSION\b"; then
  "$VENV/bin/python" -m pip install -q "uv==$UV_VERSION"
fi
"$VENV/bin/uv" pip compile -q pyproject.toml scripts/build-requirements.in \
  --extra test --generate-hashes --universal --python-version 3.11 \
  --custom-compile-command "make lock" -o requirements.lock "${@:3}"
echo "lock: requirements.lock written ($(grep -c '^[a-z0-9]' requirements.lock) pinned packages)"
