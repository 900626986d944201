from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ is on sys.path (root conftest), so ``import acd`` would find tests/acd as a namespace package
# before the editable-install finder runs: put the repository first and forget a wrong early import.
REPO = Path(__file__).resolve().parents[2]
for entry in (str(Path(__file__).parent), str(REPO)):
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)
if getattr(sys.modules.get("acd"), "__file__", "") is None:
    for name in [m for m in sys.modules if m == "acd" or m.startswith("acd.")]:
        del sys.modules[name]

from acd_helpers import Harness  # noqa: E402


@pytest.fixture
def h() -> Harness:
    return Harness()
