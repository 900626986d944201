from __future__ import annotations

import pytest

from sim_helpers import SimHarness


@pytest.fixture
def harness(tmp_path):
    h = SimHarness(tmp_path)
    yield h
    h.sim.stop()
