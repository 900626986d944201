"""The simulator's copy of ``dialplans/``: what the real switch does with a hotline number and a campaign leg.

The simulator has no XML dialplan, so the engine (demo mode) and ``hotline
sim`` install rules read from the shipped XML itself, so the two cannot drift:
each extension that hands the call to the engine's ``socket`` routes its
numbers (its ``destination_number`` expression) to the engine and, if the
engine drops the connection with the caller still there, to
``hotline_reconnect`` -- its playback (the "one moment please" Hotline renders
into the prompt cache's ``switch`` folder, ``$${hotline_switch_prompts_dir}``
in the XML), the socket again, at most as many visits as the extension's
``^x{1,N}$`` condition allows, then its anti-action (a temporary-failure
hang-up). ``tests/hotline/test_engine_restart.py``
runs callers through this copy; ``tests/freeswitch/test_conf_xml.py`` checks the XML.

The fax number's extension (answer, wait for the sender's tone, ``rxfax`` into
the fax directory, hang up; no engine in the call path) is copied too, its
actions as written: ``$${var}`` pre-processor variables become simulator
globals (``hotline_fax_dir``, ``hotline_fax_ident``, ``hotline_fax_header``, set
by whoever installs it) and a regex capture ``$1`` the simulator cannot
evaluate becomes the dialled number.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOTLINE_XML = Path(__file__).resolve().parents[1] / "dialplans" / "public" / "hotline.xml"
CAMPAIGN_XML = Path(__file__).resolve().parents[1] / "dialplans" / "campaign" / "outbound.xml"
CAMPAIGN_EXTENSION = "hotline_campaign"
RECONNECT = "hotline_reconnect"
PROMPTS_VAR = "$${hotline_switch_prompts_dir}"


@dataclass(frozen=True)
class HotlineDialplan:
    """What the simulator needs from the XML."""

    numbers: tuple[str, ...]  # destination_number expressions of the extensions that go to the engine
    tries: int  # visits of hotline_reconnect before giving up
    pause_ms: int  # its sleep between two tries
    give_up: str  # its anti-action's hang-up cause
    hold_prompt: str = ""  # what it plays first (a path under $${hotline_switch_prompts_dir})
    fax: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (number expression, actions) of fax numbers


def read(path: Path = HOTLINE_XML) -> HotlineDialplan:
    """The engine-bound numbers and the reconnect loop of the shipped dialplan."""
    numbers, tries, pause, cause, prompt = [], 0, 0, "NORMAL_TEMPORARY_FAILURE", ""
    fax: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for ext in ET.parse(path).getroot().iter("extension"):
        conditions = list(ext.iter("condition"))
        apps = [(a.get("application"), a.get("data", "")) for a in ext.iter("action")]
        if any(app == "rxfax" for app, _ in apps):
            fax += [(c.get("expression", ""), tuple((str(app), _sim_data(data)) for app, data in apps))
                    for c in conditions if c.get("field") == "destination_number"]
        elif ext.get("name") == RECONNECT:
            for cond in conditions:
                match = re.fullmatch(r"\^x\{1,(\d+)\}\$", cond.get("expression", ""))
                if match:
                    tries = int(match.group(1))
                    cause = next((a.get("data", cause) for a in cond.iter("anti-action")), cause)
            pause = next((int(data) for app, data in apps if app == "sleep" and data.isdigit()), 0)
            prompt = next((data for app, data in apps if app == "playback"), "")
        elif any(app == "socket" for app, _ in apps):
            numbers += [c.get("expression", "") for c in conditions if c.get("field") == "destination_number"]
    if not numbers or not tries:
        raise ValueError(f"{path}: no engine-bound numbers or no bounded {RECONNECT} extension")
    return HotlineDialplan(tuple(numbers), tries, pause, cause, prompt, tuple(fax))


def _sim_data(data: str) -> str:
    """Action data the simulator can expand: ``$${var}`` -> ``${var}``, a capture ``$1`` -> the dialled number."""
    return re.sub(r"\$\$\{", "${", data).replace("$1", "${destination_number}")


def install(simulator: Any, pause_ms: int | None = None, plan: HotlineDialplan | None = None,
            prompts_dir: str | Path | None = None) -> HotlineDialplan:
    """Route hotline numbers as the shipped dialplan does (socket, then the bounded reconnect loop).

    ``prompts_dir`` is what ``hotline_switch_prompts_dir`` is on a real switch
    (``ivr.prompts.switch_prompts.switch_prompts_dir`` of the prompt cache).
    """
    plan = plan or read()
    hold = plan.hold_prompt.replace(PROMPTS_VAR, str(prompts_dir)) if prompts_dir is not None else plan.hold_prompt
    again = f"transfer({RECONNECT} XML public)"
    for expression in plan.numbers:
        simulator.set_target(expression, f"socket(default);{again}")
    pause = plan.pause_ms if pause_ms is None else pause_ms
    simulator.set_target(RECONNECT, f"playback({hold});sleep({pause});socket(default);{again}",
                         counter="hotline_reconnects", limit=plan.tries, otherwise=f"hangup({plan.give_up})")
    if plan.fax:  # where rxfax writes unless the engine says otherwise (messaging sets its fax spool)
        simulator.core.global_vars.setdefault("hotline_fax_dir", str(Path(simulator.core.recordings_dir) / "fax"))
    for expression, actions in plan.fax:
        simulator.set_target(expression, ";".join(f"{app}({data})" for app, data in actions))
    return plan


def campaign_actions(path: Path = CAMPAIGN_XML) -> list[tuple[str, str]]:
    """The actions of the campaign context's ``hotline_campaign`` extension, in order."""
    for ext in ET.parse(path).getroot().iter("extension"):
        if ext.get("name") == CAMPAIGN_EXTENSION:
            return [(a.get("application", ""), a.get("data", "")) for a in ext.iter("action")]
    raise ValueError(f"{path}: no {CAMPAIGN_EXTENSION} extension")


def install_campaign(simulator: Any, path: Path = CAMPAIGN_XML) -> list[tuple[str, str]]:
    """Route answered campaign legs (``originate ... hotline_campaign XML campaign``) as the shipped XML does."""
    actions = campaign_actions(path)
    steps = ["socket(default)" if app == "socket" else f"{app}({data})" for app, data in actions]
    simulator.set_target(CAMPAIGN_EXTENSION, ";".join(steps))
    return actions


def install_demo_callees(simulator: Any, *, answer_after: float = 3.0, reply_after: float = 1.5) -> list[str]:
    """The demo's automated-campaign contacts as simulated people who answer and key in their replies.

    Numbers and replies come from the demo data (``delivery_care.contacts``); a number already set in the
    simulator is left as it is. The engine installs them beside the campaign routing in simulator mode.
    Returns the numbers set (national digits, as the dialer dials them).
    """
    from crm_core.demo import data
    from crm_core.phones import national_digits
    from freeswitch.sim.phones import Endpoint

    done = []
    for spec in data.shop().get("delivery_care", {}).get("contacts", ()):
        number = national_digits(spec["number"])
        if number in simulator.directory.external:
            continue
        simulator.directory.external[number] = Endpoint(answer_after=answer_after, replies=list(spec["replies"]),
                                                         reply_after=reply_after)
        done.append(number)
    return done
