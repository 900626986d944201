"""The lock decides what a fresh machine gets: it covers pyproject.toml, pins with hashes, and is what is installed.

``make venv`` installs ``requirements.lock`` with ``--require-hashes``; a
dependency added to ``pyproject.toml`` without ``make lock`` would leave a
fresh machine unable to install, and these tests say so before CI does.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, tuple[str, str, list[str]]]:
    """name -> (version, environment marker, hashes) from requirements.lock."""
    text = (REPO / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, tuple[str, str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.*))?", head)
        assert match, f"not a pinned requirement in requirements.lock: {head!r}"
        name, version, marker = match.groups()
        pins[canonicalize_name(name)] = (version, marker or "", re.findall(r"--hash=sha256:[0-9a-f]{64}", block))
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run make lock"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement}: run make lock")


def test_every_pin_carries_hashes_and_the_installer_tools_are_pinned_too():
    pins = _pins()
    assert {"pip", "setuptools"} <= set(pins), "pip and setuptools (the editable build) must be locked"
    unhashed = [name for name, (_v, _m, hashes) in pins.items() if not hashes]
    assert not unhashed, f"pins without --hash: {unhashed}"


def test_this_environment_is_exactly_what_the_lock_says():
    from packaging.markers import Marker

    env = default_environment()
    wrong = []
    for name, (version, marker, _hashes) in _pins().items():
        if marker and not Marker(marker).evaluate(env):
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} missing (lock: {version})")
            continue
        if installed != version:
            wrong.append(f"{name} {installed} (lock: {version})")
    if wrong and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        pytest.skip("installed-set check: run the tests from the project's .venv (make venv installs the lock)")
    assert not wrong, "installed set differs from requirements.lock (make venv): " + ", ".join(wrong)
