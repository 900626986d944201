"""The deployment as docs/freeswitch.md describes it: installed, started and checked the documented way.

The switch runs the repository's own configuration and dialplans, written by
``hotline freeswitch install``; the agents' directory comes from the
database (``hotline freeswitch directory``). Checked here: the section 5
checks, that extension 1001 is the agent the database says, that the
generated password registers and a wrong one does not, and that an INVITE
from the agents' network without credentials is challenged.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from sqlalchemy import select

from crm_core.db import make_engine, session_factory, transaction
from crm_core.models import Agent
from free_ports import free_port
from rig import FS_CLI_CHECKS
from sipp import Sipp, invite_without_credentials, register


def agent_id_of(deployment, extension: str) -> int:
    engine = make_engine(deployment.db_url)
    try:
        with transaction(session_factory(engine)) as s:
            return s.scalar(select(Agent.id).where(Agent.extension == extension))
    finally:
        engine.dispose()


def test_the_documented_checks_pass_on_the_running_switch(deployment):
    out = {command: deployment.fs_cli(command) for command in FS_CLI_CHECKS}
    assert "is ready" in out["status"]
    assert out["module_exists mod_event_socket"].strip() == "true"
    assert out["module_exists mod_spandsp"].strip() == "true"
    p = deployment.ports
    assert re.search(rf"agents\s+profile\s+sip:mod_sofia@127\.0\.0\.1:{p.agents}\s+RUNNING", out["sofia status"])
    assert re.search(rf"trunk\s+profile\s+sip:mod_sofia@127\.0\.0\.1:{p.trunk}\s+RUNNING", out["sofia status"])
    assert "NOREG" in out["sofia status gateway itsp"]  # trunk_register=false: an IP trunk
    assert "<extension name=\"hotline_main\">" in out["xml_locate dialplan"]
    assert out["global_getvar hotline_engine_addr"].strip() == f"127.0.0.1:{p.engine}"
    assert "connected to FreeSWITCH" in deployment.engine_log(400)
    log = deployment.switch_log(100_000)
    assert "deprecated" not in log  # rtp-timeout-sec / rtp-hold-timeout-sec are gone
    assert "[ERR]" not in log and "[CRIT]" not in log, [l for l in log.splitlines() if "[ERR]" in l or "[CRIT]" in l]


def test_the_engine_holds_one_event_socket_connection(deployment):
    if shutil.which("ss") is None:
        return  # iproute2 missing: the engine log line above is the check then
    listing = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{deployment.ports.esl} )"],
                             capture_output=True, text=True, check=True).stdout
    assert listing.strip(), "no established event-socket connection"


def test_extension_1001_is_the_agent_the_database_says(deployment):
    agent_id = agent_id_of(deployment, "1001")
    assert agent_id is not None
    said = deployment.fs_cli("user_data 1001@127.0.0.1 var hotline_agent_id").strip()
    assert said == str(agent_id)
    password = deployment.fs_cli("user_data 1001@127.0.0.1 param password").strip()
    assert password == deployment.phone_passwords["1001"] and len(password) >= 20
    assert deployment.phone_passwords["1001"] != deployment.phone_passwords["1002"]


def test_the_generated_password_registers_and_a_wrong_one_does_not(deployment):
    target = f"127.0.0.1:{deployment.ports.agents}"
    good, bad = free_port(), free_port()
    password = deployment.phone_passwords["1002"]
    Sipp(deployment.sipp_dir, "register-1002-good", register("1002", password, "127.0.0.1", expires=60),
         target, good).ok(30)
    Sipp(deployment.sipp_dir, "register-1002-bad", register("1002", password + "x", "127.0.0.1", expect="denied"),
         target, bad).ok(30)
    registrations = deployment.fs_cli("sofia status profile agents reg 1002")
    assert f"127.0.0.1:{good}" in registrations and f"127.0.0.1:{bad}" not in registrations


def test_an_invite_without_credentials_from_the_agents_network_is_challenged(deployment):
    """127.0.0.1 is in the agents ACL; an ACL on INVITEs would let this call through unchallenged."""
    target = f"127.0.0.1:{deployment.ports.agents}"
    Sipp(deployment.sipp_dir, "invite-no-credentials", invite_without_credentials("1001", "127.0.0.1", "*63"),
         target, free_port()).ok(30)  # the scenario expects 407, nothing else
