"""Installing the shipped configuration: files copied, vars.xml filled in, nothing typed wrong goes unnoticed."""

from __future__ import annotations

import os
import stat

import pytest

from freeswitch.conf_install import AGENTS_DIRECTORY, CONF_SOURCE, ConfInstallError, install, read_vars, set_vars
from freeswitch.directory_xml import PhoneUser, safe_name, user_xml, write_directory


def test_install_copies_conf_and_dialplans_and_sets_the_values(tmp_path):
    report = install(tmp_path / "conf", {"hotline_sip_ip": "10.0.0.5", "agents_sip_port": "15060"})
    conf = tmp_path / "conf"
    assert (conf / "freeswitch.xml").is_file() and (conf / "autoload_configs/sofia.conf.xml").is_file()
    for context in ("public/hotline.xml", "default/agents.xml", "campaign/outbound.xml"):
        assert (conf / "dialplan/hotline" / context).is_file()
    assert (conf / AGENTS_DIRECTORY).is_dir()
    installed = read_vars((conf / "vars.xml").read_text())
    assert installed["hotline_sip_ip"] == "10.0.0.5" and installed["agents_sip_port"] == "15060"
    assert installed["trunk_sip_port"] == read_vars((CONF_SOURCE / "vars.xml").read_text())["trunk_sip_port"]
    assert report.variables == installed and report.files > 20


def test_reinstall_keeps_the_generated_directory_and_site_files(tmp_path):
    conf = tmp_path / "conf"
    install(conf)
    (conf / AGENTS_DIRECTORY / "1001.xml").write_text("<include/>")
    (conf / "autoload_configs/site_extra.conf.xml").write_text("<configuration/>")
    install(conf, {"domain": "pbx.example.net"})
    assert (conf / AGENTS_DIRECTORY / "1001.xml").read_text() == "<include/>"
    assert (conf / "autoload_configs/site_extra.conf.xml").exists()


def test_unknown_variable_is_refused_naming_the_known_ones(tmp_path):
    with pytest.raises(ConfInstallError, match="no variable hotline_sip_adress .*hotline_sip_ip"):
        install(tmp_path / "conf", {"hotline_sip_adress": "10.0.0.5"})
    assert not (tmp_path / "conf").exists()


@pytest.mark.parametrize("value", ['x"/><X-PRE-PROCESS cmd="set" data="a=b', "a\nb", "a&b", "<x>"])
def test_values_that_would_break_the_preprocessor_line_are_refused(value):
    with pytest.raises(ConfInstallError, match="may not contain"):
        set_vars((CONF_SOURCE / "vars.xml").read_text(), {"domain": value})


def _user(**kw):
    base = {"extension": "1001", "agent_id": 7, "name": "张丽", "password": "Abcdefghijkl_-123"}
    return PhoneUser(**{**base, **kw})


def test_a_phone_file_names_the_agent_id_the_database_gives(tmp_path):
    report = write_directory(tmp_path, [_user()])
    text = (tmp_path / "1001.xml").read_text()
    assert report.written == ("1001",)
    assert '<user id="1001">' in text and '<variable name="hotline_agent_id" value="7"/>' in text
    assert '<param name="password" value="Abcdefghijkl_-123"/>' in text
    assert stat.S_IMODE(os.stat(tmp_path / "1001.xml").st_mode) == 0o640


def test_names_lose_what_the_preprocessor_or_variable_expansion_would_run():
    assert safe_name("Li $${hotline_esl_password} ${system(rm -rf /)} <b>&") == "Li hotline_esl_password system rm -rf b"
    text = user_xml(_user(name='Eve" /><param name="password" value="x'))
    assert text.count('name="password"') == 1 and "$" not in text


@pytest.mark.parametrize("extension,password", [("10a1", "Abcdefghijkl"), ("1", "Abcdefghijkl"),
                                                ("1001", "short"), ("1001", "has space in it")])
def test_unsafe_extensions_and_passwords_are_skipped_and_reported(tmp_path, extension, password):
    report = write_directory(tmp_path, [_user(extension=extension, password=password), _user(extension="1002")])
    assert report.written == ("1002",) and [e for e, _ in report.skipped] == [extension]


def test_agents_who_left_lose_their_file_hand_written_files_stay(tmp_path):
    write_directory(tmp_path, [_user(), _user(extension="1002", agent_id=8)])
    (tmp_path / "9000.xml").write_text("<include><!-- a hand-made test phone --></include>")
    report = write_directory(tmp_path, [_user()])
    assert report.removed == ("1002",)
    assert sorted(p.name for p in tmp_path.glob("*.xml")) == ["1001.xml", "9000.xml"]


def test_an_old_shipped_agent_file_with_its_placeholder_password_does_not_survive(tmp_path):
    (tmp_path / "1003.xml").write_text('<include><user id="1003"><params>'
                                       '<param name="password" value="CHANGE-ME-agent-1003"/></params></user></include>')
    report = write_directory(tmp_path, [_user()])
    assert report.removed == ("1003",) and not (tmp_path / "1003.xml").exists()
