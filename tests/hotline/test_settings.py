"""Settings: defaults need no setup, TOML and HOTLINE_* overrides apply, bad values fail clearly."""

from __future__ import annotations

import re

import pytest

from hotline.settings import SettingsError, database_url, load_settings


def test_defaults_need_no_setup():
    settings = load_settings(env={})
    assert settings.db.url == "sqlite:///var/hotline.db"
    assert settings.switch.mode == "sim"
    assert (settings.admin.host, settings.admin.port) == ("127.0.0.1", 8080)
    assert (settings.switch.port, settings.switch.password) == (8021, "ClueCon")
    assert settings.callserver.port == 8084
    assert settings.crm.blacklist_threshold == 3


def test_toml_file_then_environment_override(tmp_path):
    config = tmp_path / "hotline.toml"
    config.write_text('[db]\nurl = "sqlite:///x.db"\n[admin]\nport = 9090\n[crm]\nblacklist_threshold = 5\n')
    env = {"HOTLINE_CONFIG": str(config), "HOTLINE_ADMIN_PORT": "9191"}
    settings = load_settings(env=env)
    assert settings.db.url == "sqlite:///x.db"
    assert settings.admin.port == 9191
    assert settings.crm.blacklist_threshold == 5


def test_db_url_from_hotline_db_url():
    settings = load_settings(env={"HOTLINE_DB_URL": "postgresql+psycopg://u:p@localhost/db"})
    assert settings.db.url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"HOTLINE_DB_URL": "not a url"}, "not a database URL"),
        ({"HOTLINE_DB_URL": "mysql://u@h/db"}, "unsupported database 'mysql'"),
        ({"HOTLINE_ADMIN_PORT": "eighty"}, "admin.port: expected a whole number"),
        ({"HOTLINE_ADMIN_PORT": "70000"}, "admin.port must be a TCP port"),
        ({"HOTLINE_SWITCH_MODE": "asterisk"}, "switch.mode"),
        ({"HOTLINE_ADMIN_DEMO_MODE": "maybe"}, "expected true/false"),
        ({"HOTLINE_CRM_BLACKLIST_THRESHOLD": "0"}, "at least 1"),
        ({"HOTLINE_CENTER_TIMEZONE": "Mars/Olympus"}, "center.timezone: unknown time zone"),
        ({"HOTLINE_ACD_QUEUE_ALIASES": "general"}, "acd.queue_aliases: expected name=queue"),
        ({"HOTLINE_ACD_CALLBACK_DIAL_TEMPLATE": "sofia/gateway/pstn/"}, "must contain {number}"),
        ({"HOTLINE_IVR_RETRIES": "-1"}, "ivr.retries"),
        ({"HOTLINE_IVR_INPUT_TIMEOUT": "0"}, "ivr.input_timeout"),
        ({"HOTLINE_SIM_PORT": "9021"}, "HOTLINE_SIM_PORT is no longer read; use HOTLINE_SWITCH_PORT"),
    ],
)
def test_bad_values_are_refused_with_the_key_named(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env=env)


def test_unknown_section_and_key_are_refused(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[dbb]\nurl='x'\n")
    with pytest.raises(SettingsError, match="unknown settings section"):
        load_settings(config, env={})
    config.write_text("[db]\nulr='x'\n")
    with pytest.raises(SettingsError, match=r"\[db\]: unknown key\(s\) ulr"):
        load_settings(config, env={})


def test_missing_and_invalid_toml_files(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[db\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken, env={})


def test_relative_sqlite_path_is_made_absolute_and_its_folder_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={"HOTLINE_DB_URL": "sqlite:///data/sub/h.db"})
    url = database_url(settings)
    assert url == f"sqlite:///{tmp_path}/data/sub/h.db"
    assert (tmp_path / "data" / "sub").is_dir()


@pytest.mark.parametrize("env, message", [
    ({"HOTLINE_SMS_GATEWAY": "twilio"}, "sms.gateway must be one of capture, http, smpp"),
    ({"HOTLINE_SMS_GATEWAY": "http", "HOTLINE_SMS_HTTP_URL": "ftp://x"}, "sms.gateway = http needs sms.http_url"),
    ({"HOTLINE_SMS_GATEWAY": "smpp"}, "sms.gateway = smpp needs sms.smpp_host"),
    ({"HOTLINE_EMAIL_GATEWAY": "smtp", "HOTLINE_EMAIL_FROM_ADDRESS": "nobody"}, "email.from_address"),
    ({"HOTLINE_FAX_COMPRESSION": "lzw"}, "fax.compression must be one of group3, group4"),
    ({"HOTLINE_SMS_RATE_PER_SECOND": "0"}, "sms.rate_per_second must be positive"),
    ({"HOTLINE_MESSAGING_RETRY_MAX": "1"}, "retry_max at least retry_base"),
])
def test_bad_messaging_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(None, env=env)


def test_messaging_defaults_use_the_capture_gateway():
    settings = load_settings(None, env={})
    assert {settings.sms.gateway, settings.email.gateway, settings.fax.gateway, settings.voice.gateway} == {"capture"}
    assert settings.messaging.enabled and settings.fax.compression == "group4"


def test_every_path_defaults_under_var_dir(tmp_path):
    settings = load_settings(env={"HOTLINE_VAR_DIR": str(tmp_path / "state")})
    var = tmp_path / "state"
    assert settings.db.url == f"sqlite:///{var}/hotline.db"
    assert settings.tts.cache_dir == str(var / "prompts")
    assert (settings.ivr.recordings_dir, settings.ivr.prompt_recordings_dir) == (
        str(var / "recordings"), str(var / "prompt-recordings"))
    assert (settings.sim.sounds_dir, settings.sim.recordings_dir) == (str(var / "sim/sounds"),
                                                                      str(var / "sim/recordings"))
    explicit = load_settings(env={"HOTLINE_VAR_DIR": str(var), "HOTLINE_IVR_RECORDINGS_DIR": "/srv/rec"})
    assert explicit.ivr.recordings_dir == "/srv/rec"  # a path a deployer names is used as named


def test_ivr_acd_and_center_sections_reach_their_values(tmp_path):
    config = tmp_path / "hotline.toml"
    config.write_text('[ivr]\nmenu = "holiday"\ntype_ahead = false\nretries = 4\n'
                      '[acd]\ndefault_queue = "service"\nqueue_aliases = "general=sales, vip = gold"\n'
                      'callback_after = 300\n[center]\ntimezone = "Europe/London"\n')
    settings = load_settings(config, env={"HOTLINE_ACD_CALLBACK_AFTER": "0"})
    assert (settings.ivr.menu, settings.ivr.type_ahead, settings.ivr.retries) == ("holiday", False, 4)
    assert settings.acd.aliases() == {"general": "sales", "vip": "gold"}
    assert (settings.acd.default_queue, settings.acd.callback_after) == ("service", 0.0)
    import datetime as dt

    summer = dt.datetime(2026, 7, 1, tzinfo=dt.timezone.utc)
    assert settings.center.utc_offset_minutes(summer) == 60


def test_a_removed_sim_key_names_its_replacement(tmp_path):
    config = tmp_path / "old.toml"
    config.write_text("[sim]\nport = 9021\n")
    with pytest.raises(SettingsError, match=r"\[sim\] port: no longer a setting; use switch.port"):
        load_settings(config, env={})
