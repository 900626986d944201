"""The real-switch stage: a real FreeSWITCH 1.11 with this repository's configuration, a real engine, sipp.

Where FreeSWITCH (or sipp, or sox) is not installed the stage is not
collected and ``test_0_installation.py`` reports one skipped test saying
why, so ``make test`` passes on a bare machine; ``.ci/run`` installs them
when CI provides the FreeSWITCH bundle.

One deployment serves the stage (session fixtures): it is built with the
documented commands (rig.py), the switch is started from scratch
directories, the engine runs as ``hotline run`` in freeswitch mode. Tests
talk SIP to it with sipp, watch it through their own event-socket
connection (events.py) and read the database the engine writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from free_ports import free_port
from rig import Deployment, demo_menu_all_day, missing

from events import EventLog
from freeswitch.esl.blocking import BlockingEsl
from sipp import Sipp, agent_phone as agent_phone_xml, register

if missing():  # test_0_installation.py says why, in one skipped test; the stage itself is not collected
    collect_ignore_glob = ["test_[1-9]*.py"]


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("real_switch"))
    try:
        d.prepare(demo_menu_all_day())
        d.start_switch()
        d.start_engine()
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="session")
def events(deployment: Deployment) -> Iterator[EventLog]:
    log = EventLog("127.0.0.1", deployment.ports.esl, deployment.password)
    yield log
    log.close()


@pytest.fixture(scope="session")
def api(deployment: Deployment) -> Iterator[BlockingEsl]:
    """An event-socket connection for the test's own api commands (uuid_send_info, uuid_getvar...)."""
    esl = BlockingEsl("127.0.0.1", deployment.ports.esl, deployment.password, timeout=15)
    yield esl
    esl.close()


@dataclass(frozen=True)
class Phone:
    """Agent 1001's desk phone: registered with its generated password, answering on ``port``."""

    extension: str
    password: str
    port: int
    process: Sipp


@pytest.fixture(scope="session")
def agent_phone(deployment: Deployment) -> Iterator[Phone]:
    extension = "1001"
    password = deployment.phone_passwords[extension]
    port = free_port()
    target = f"127.0.0.1:{deployment.ports.agents}"
    Sipp(deployment.sipp_dir, "phone-1001-register", register(extension, password, "127.0.0.1"), target,
         port).ok(30)
    uas = Sipp(deployment.sipp_dir, "phone-1001", agent_phone_xml(), target, port,
               media_port=free_port(), calls=None, timeout=900)
    yield Phone(extension, password, port, uas)
    uas.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """One process runs the whole stage, in file order (one FreeSWITCH; later files use what earlier ones set up)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("real_switch"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing real-switch test reports the end of the switch's and the engine's logs."""
    outcome = yield
    report = outcome.get_result()
    deployment = item.funcargs.get("deployment") if hasattr(item, "funcargs") else None
    if report.failed and deployment is not None:
        report.sections.append(("freeswitch.log (end)", deployment.switch_log(80)))
        report.sections.append(("engine log (end)", deployment.engine_log(80)))
