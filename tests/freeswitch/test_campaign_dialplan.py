"""The campaign context against what the dialer really sends, and the simulator's copy of it."""

from __future__ import annotations

import re

from acd.dialer.dialer import DialerConfig
from hotline.sim_dialplan import CAMPAIGN_XML, campaign_actions


def test_the_documented_originate_is_the_one_the_dialer_builds():
    text = CAMPAIGN_XML.read_text()
    example = re.search(r"bgapi originate (\{.*?\})(\S+)\s+(.+?)\n\n", text, re.S)
    assert example, "the header shows an originate"
    variables = {item.split("=")[0].strip() for item in example.group(1).strip("{}").replace("\n", "").split(",")}
    assert {"origination_uuid", "originate_timeout", "origination_caller_id_number", "hotline_campaign_id",
            "hotline_contact_id", "hotline_attempt_id", "hotline_amd", "hotline_abandon_message"} <= variables
    config = DialerConfig()
    assert example.group(2).startswith(config.dial_string.split("{")[0])
    assert " ".join(example.group(3).split()) == config.destination
    assert config.destination.split()[0] in [e for e in re.findall(r'expression="\^(\w+)\$"', text)]


def test_the_simulator_routes_campaign_legs_from_the_xml():
    actions = campaign_actions()
    apps = [app for app, _data in actions]
    assert apps.index("socket") < apps.index("playback") < apps.index("hangup")

    class Recorder:
        def set_target(self, pattern: str, spec: str) -> None:
            self.pattern, self.spec = pattern, spec

    from hotline.sim_dialplan import install_campaign

    sim = Recorder()
    install_campaign(sim)
    assert sim.pattern == "hotline_campaign"
    assert "socket(default)" in sim.spec and "playback(${hotline_abandon_message})" in sim.spec
