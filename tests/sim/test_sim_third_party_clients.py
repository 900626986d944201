"""Off-the-shelf ESL clients from PyPI talk to the simulator over loopback TCP.

greenswitch (gevent) and genesis (asyncio) each run in a child process so
their event loops never touch the Twisted reactor; the simulator runs on the
real reactor (pytest-twisted). Each client prints what it saw as JSON.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
import pytest_twisted
from twisted.internet import reactor, utils

from freeswitch.sim.simulator import Simulator

GREENSWITCH = textwrap.dedent('''
    import json, sys, gevent, greenswitch
    port = int(sys.argv[1])
    fs = greenswitch.InboundESL(host="127.0.0.1", port=port, password="ClueCon")
    fs.connect()
    jobs, customs = [], []
    fs.register_handle("BACKGROUND_JOB", lambda ev: jobs.append(ev.headers))
    fs.register_handle("sim::transcript", lambda ev: customs.append(ev.headers))
    out = {}
    out["status"] = fs.send("api status").data
    out["event"] = fs.send("event plain BACKGROUND_JOB CUSTOM sim::transcript").data
    reply = fs.send("bgapi version")
    out["job_reply"] = reply.data
    out["call"] = fs.send('api sim call {"from": "555", "to": "9000", "script": "wait 0.2; hangup"}').data
    for _ in range(100):
        if jobs and len(customs) >= 3:
            break
        gevent.sleep(0.05)
    out["job_uuid_matches"] = bool(jobs) and jobs[0].get("Job-UUID") == reply.headers["Job-UUID"]
    out["custom_events"] = [c.get("Sim-Event") for c in customs]
    fs.stop()
    print(json.dumps(out))
''')

GENESIS = textwrap.dedent('''
    import asyncio, json, sys
    from genesis import Inbound
    async def main(port):
        out, jobs, answered = {}, [], asyncio.Event()
        async with Inbound("127.0.0.1", port, "ClueCon") as client:
            client.on("BACKGROUND_JOB", lambda ev: jobs.append(dict(ev)))
            client.on("CHANNEL_ANSWER", lambda ev: answered.set())
            out["event"] = (await client.send("event plain BACKGROUND_JOB CHANNEL_ANSWER"))["Reply-Text"]
            status = await client.send("api status")
            out["status"] = status.body if hasattr(status, "body") else str(status)
            out["bgapi"] = (await client.send("bgapi version"))["Reply-Text"]
            await client.send('api sim call {"from": "555", "to": "9001", "script": "wait 0.5; hangup"}')
            await asyncio.wait_for(answered.wait(), 5)
            for _ in range(100):
                if jobs:
                    break
                await asyncio.sleep(0.05)
            out["jobs"] = len(jobs)
        print(json.dumps(out))
    asyncio.run(main(int(sys.argv[1])))
''')


@pytest.fixture
def live_sim(tmp_path):
    sim = Simulator(reactor, port=0, sounds_dir=tmp_path, recordings_dir=tmp_path)
    sim.start()
    sim.set_target("9000", "park")
    sim.set_target("9001", "answer();park()")
    yield sim
    pytest_twisted.blockon(sim.stop())


def run_client(script: str, port: int):
    return utils.getProcessOutputAndValue(sys.executable, ["-c", script, str(port)], env=None)


@pytest_twisted.inlineCallbacks
def test_greenswitch_auth_api_bgapi_and_custom_events(live_sim):
    pytest.importorskip("greenswitch")
    out, err, code = yield run_client(GREENSWITCH, live_sim.port)
    assert code == 0, err.decode()
    data = json.loads(out.decode().strip().splitlines()[-1])
    assert data["status"].startswith("UP ") and "is ready" in data["status"]
    assert data["event"] == "+OK event listener enabled plain"
    assert data["job_reply"].startswith("+OK Job-UUID: ")
    assert data["call"].startswith("+OK ")
    assert data["job_uuid_matches"]
    assert data["custom_events"][:2] == ["call", "app"]


@pytest_twisted.inlineCallbacks
def test_genesis_auth_api_bgapi_and_channel_events(live_sim):
    pytest.importorskip("genesis")
    out, err, code = yield run_client(GENESIS, live_sim.port)
    assert code == 0, err.decode()
    data = json.loads(out.decode().strip().splitlines()[-1])
    assert data["event"] == "+OK event listener enabled plain"
    assert "is ready" in data["status"]
    assert data["bgapi"].startswith("+OK Job-UUID: ")
    assert data["jobs"] == 1
