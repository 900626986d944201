"""Settings reach the running engine: one switch port in sim mode (simulator, switch client, ``hotline call``),
the [ivr], [acd] and [center] sections, one database gateway."""

from __future__ import annotations

import argparse

import pytest
import pytest_twisted
from twisted.internet import threads

from engine_rig import engine_settings, publish_menu, start_engine
from free_ports import free_port


@pytest.fixture
def db_file(tmp_path):
    from crm_core.db import make_engine, transaction, session_factory
    from crm_core.migrate import upgrade
    from crm_core.models import Queue

    url = f"sqlite:///{tmp_path / 'engine.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        publish_menu(session, tmp_path)
        session.add_all([Queue(name="sales"), Queue(name="service")])
    engine.dispose()
    return url


@pytest_twisted.ensureDeferred
async def test_in_sim_mode_one_switch_port_serves_the_simulator_the_engine_and_hotline_call(db_file, tmp_path,
                                                                                              capsys):
    from hotline import call_command

    port = free_port()
    settings = engine_settings(db_file, tmp_path, HOTLINE_SWITCH_PORT=str(port))
    engine = start_engine(settings, web=False)
    try:
        assert engine.ports["sim"] == port
        await engine.switch.when_connected()
        parser = argparse.ArgumentParser()
        call_command.add_arguments(parser)  # the command's own defaults: what a user typing it gets
        args = parser.parse_args(["--from", "13800138000", "--to", "4008001234", "--script", "wait_prompt; hangup",
                                  "--timeout", "20"])
        code = await threads.deferToThread(call_command.main, settings, args)  # the CLI blocks: not on the reactor
        assert code == 0
        out = capsys.readouterr().out
        assert "13800138000 -> 4008001234" in out and "hangup" in out
    finally:
        await engine.stop()
        engine.acd.stop()


@pytest_twisted.ensureDeferred
async def test_ivr_acd_and_center_settings_reach_the_parts_that_use_them(db_file, tmp_path):
    settings = engine_settings(db_file, tmp_path, HOTLINE_IVR_RETRIES="4", HOTLINE_IVR_TYPE_AHEAD="false",
                               HOTLINE_IVR_INPUT_TIMEOUT="4.5", HOTLINE_IVR_RECORDINGS_DIR=str(tmp_path / "voice"),
                               HOTLINE_ACD_CALLBACK_AFTER="45", HOTLINE_ACD_ANNOUNCE_EVERY="0",
                               HOTLINE_ACD_QUEUE_ALIASES="general=sales,vip=service",
                               HOTLINE_ACD_DEFAULT_QUEUE="service", HOTLINE_CENTER_TIMEZONE="Europe/London",
                               HOTLINE_CRM_BLACKLIST_THRESHOLD="5", HOTLINE_CRM_DEFAULT_REGION="GB")
    engine = start_engine(settings, web=False)
    try:
        config = engine.ivr.config
        assert (config.retries, config.type_ahead, config.input_timeout) == (4, False, 4.5)
        assert str(config.recordings_dir) == str(tmp_path / "voice")
        assert config.local_timezone == "Europe/London"
        assert (engine.ivr.gateway.blacklist_threshold, engine.ivr.gateway.region) == (5, "GB")
        handoff = engine.acd.handoff
        assert (handoff.default_queue, handoff.aliases) == ("service", {"general": "sales", "vip": "service"})
        sales = engine.acd.acd.queues["sales"].config
        assert (sales.callback_after, sales.announce_every) == (45.0, None)
        assert engine.acd.acd.stats.utc_offset in (0, 3600)  # London: winter or summer time
        assert engine.acd.acd.callbacks.store.region == "GB"
    finally:
        await engine.stop()
        engine.acd.stop()
