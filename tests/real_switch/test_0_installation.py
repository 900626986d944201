"""Whether the real-switch stage can run here: FreeSWITCH 1.11, sipp and sox installed.

Where they are not, this is the stage's one skipped test and its reason is
the one line ``make test`` prints about it; the other modules are not
collected (conftest.py). ``.ci/run`` sets HOTLINE_REQUIRE_REAL_SWITCH after
installing the bundle, and then a missing piece fails instead.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from rig import FREESWITCH, missing


def test_freeswitch_sipp_and_sox_are_installed_for_the_real_switch_stage():
    why = missing()
    if why and os.environ.get("HOTLINE_REQUIRE_REAL_SWITCH"):  # .ci/run installed it: it must be there
        pytest.fail(f"real_switch stage required (HOTLINE_REQUIRE_REAL_SWITCH) but {why}")
    if why:
        pytest.skip(f"real_switch stage skipped: {why}")
    version = subprocess.run([str(FREESWITCH), "-version"], capture_output=True, text=True, timeout=30).stdout
    assert "version: 1.1" in version, version  # 1.10 or 1.11, as docs/freeswitch.md requires
