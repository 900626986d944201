"""``hotline freeswitch install`` / ``directory``: what docs/freeswitch.md tells a deployer to run."""

from __future__ import annotations

import re

import pytest

from crm_core.db import make_engine, session_factory, transaction
from crm_core.migrate import upgrade
from crm_core.models import Agent
from freeswitch.conf_install import read_vars
from hotline.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch, database_maker):
    url = database_maker("sqlite")
    upgrade(url)
    for name, value in {"HOTLINE_DB_URL": url, "HOTLINE_SWITCH_PASSWORD": "a-long-random-esl-secret",
                        "HOTLINE_SWITCH_PORT": "18021", "HOTLINE_CALLSERVER_PORT": "18084",
                        "HOTLINE_TTS_CACHE_DIR": str(tmp_path / "tts")}.items():
        monkeypatch.setenv(name, value)
    return url


def add_agents(url: str, *rows: tuple[int, str, str, bool]) -> None:
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        for agent_id, extension, name, active in rows:
            s.add(Agent(id=agent_id, login=f"a{agent_id}", name=name, extension=extension, password_hash="x",
                        active=active))
    engine.dispose()


def test_install_takes_the_shared_values_from_hotlines_settings(env, tmp_path, capsys):
    assert main(["freeswitch", "install", "--conf", str(tmp_path / "conf"), "--set", "hotline_sip_ip=10.0.0.5"]) == 0
    values = read_vars((tmp_path / "conf/vars.xml").read_text())
    assert values["hotline_esl_password"] == "a-long-random-esl-secret"
    assert (values["hotline_esl_port"], values["hotline_engine_port"]) == ("18021", "18084")
    assert values["hotline_switch_prompts_dir"] == str((tmp_path / "tts" / "switch").resolve())
    assert values["hotline_sip_ip"] == "10.0.0.5"
    assert "a-long-random-esl-secret" not in capsys.readouterr().out


def test_install_refuses_the_default_event_socket_password(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOTLINE_SWITCH_PASSWORD", "ClueCon")
    assert main(["freeswitch", "install", "--conf", str(tmp_path / "conf")]) == 2
    assert "ClueCon" in capsys.readouterr().err and not (tmp_path / "conf").exists()


def test_install_will_not_set_a_value_that_must_come_from_the_settings(env, tmp_path, capsys):
    assert main(["freeswitch", "install", "--conf", str(tmp_path / "conf"),
                 "--set", "hotline_esl_password=other"]) == 2
    assert "change it there" in capsys.readouterr().err


def test_directory_writes_each_active_agents_phone_with_its_database_id_and_own_password(env, tmp_path, capsys):
    add_agents(env, (7, "1001", "张丽", True), (3, "1002", "Wang Fang", True), (9, "1003", "Gone", False))
    conf = tmp_path / "conf"
    assert main(["freeswitch", "directory", "--conf", str(conf), "--show"]) == 0
    files = sorted(p.name for p in (conf / "directory/agents").glob("*.xml"))
    assert files == ["1001.xml", "1002.xml"]
    text = (conf / "directory/agents/1001.xml").read_text()
    assert '<variable name="hotline_agent_id" value="7"/>' in text  # extension 1001 is agent 7, as the DB says
    shown = capsys.readouterr().out
    passwords = dict(re.findall(r"^(100\d)\s+\d+\s+(\S+)", shown, re.M))
    assert set(passwords) == {"1001", "1002"} and passwords["1001"] != passwords["1002"]
    assert f'<param name="password" value="{passwords["1001"]}"/>' in text
    assert main(["freeswitch", "directory", "--conf", str(conf), "--rotate", "1002"]) == 0
    assert passwords["1002"] not in (conf / "directory/agents/1002.xml").read_text()
    assert f'value="{passwords["1001"]}"' in (conf / "directory/agents/1001.xml").read_text()


def test_directory_reports_an_unknown_extension_to_rotate(env, tmp_path, capsys):
    add_agents(env, (1, "1001", "A", True))
    assert main(["freeswitch", "directory", "--conf", str(tmp_path / "conf"), "--rotate", "5555"]) == 2
    assert "5555" in capsys.readouterr().err
