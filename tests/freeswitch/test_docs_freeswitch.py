"""docs/freeswitch.md gives the commands the real-switch stage runs, and none of the ones that do not work.

The stage (tests/real_switch/rig.py) lists its deployment commands and its
fs_cli checks; every one must be on the page, every vars.xml value the stage
sets must be explained there, and the checks that do not exist on
FreeSWITCH 1.11 (or the deprecated parameters) must not be offered as steps.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "freeswitch.md").read_text(encoding="utf-8")


def _rig():
    spec = importlib.util.spec_from_file_location("real_switch_rig", ROOT / "tests" / "real_switch" / "rig.py")
    module = sys.modules.get(spec.name)
    if module is None:
        module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def test_every_deployment_command_of_the_stage_is_documented():
    for step in _rig().STEPS:
        assert step in DOC, step


def test_every_fs_cli_check_of_the_stage_is_documented():
    for command in _rig().FS_CLI_CHECKS:
        assert f"`{command}`" in DOC or f"`{command.rsplit(' ', 1)[0]} " in DOC, command


def test_every_value_the_stage_sets_is_explained():
    rig = _rig()
    deployment = rig.Deployment.__new__(rig.Deployment)
    deployment.ports = rig.Ports(8021, 8084, 5060, 5080, 16384, 16447, 5090)
    deployment.fax_dir = deployment.moh_dir = Path("/x")
    for name in deployment.site_values():
        assert re.search(rf"`{name}`", DOC), name


def test_the_freeswitch_command_line_of_the_stage_is_the_documented_one():
    rig = _rig()
    for flag in ["-nonat", "-nocal", "-nc", "-nf", "-conf"] + [f"-{name} " for name in rig.FS_DIRS]:
        assert flag in DOC, flag


def test_no_check_that_does_not_exist_on_1_11_is_offered():
    steps = DOC.split("## Simulator vs real FreeSWITCH")[0]
    assert "sudo install -d -o freeswitch -g hotline" not in steps
    assert "application `socket`" not in steps  # show channels shows the running app
    for stale in ("rtp-timeout-sec", "rtp-hold-timeout-sec", "New Connection", "show management"):
        for line in steps.splitlines():
            if stale in line:
                assert re.search(r"deprecated|not used|lists no|no \"New Connection\"", line + " " + steps[
                    steps.index(line):steps.index(line) + 400]), (stale, line)
