"""The FreeSWITCH configuration and dialplans we ship would route calls the way the engine expects."""

from __future__ import annotations

import glob
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "freeswitch" / "conf"
DIALPLANS = ROOT / "dialplans"
XML_FILES = sorted(CONF.rglob("*.xml")) + sorted(DIALPLANS.rglob("*.xml"))
ENGINE_SOCKET = "$${hotline_engine_addr} async full"
REQUIRED_MODULES = {
    "mod_console", "mod_logfile", "mod_event_socket", "mod_sofia", "mod_dptools", "mod_commands",
    "mod_dialplan_xml", "mod_sndfile", "mod_native_file", "mod_tone_stream", "mod_spandsp",
    "mod_say_en", "mod_say_zh", "mod_loopback", "mod_local_stream",
}


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def global_vars() -> dict[str, str]:
    """The preprocessor "set" variables of vars.xml."""
    out = {}
    for el in parse(CONF / "vars.xml").iter("X-PRE-PROCESS"):
        if el.get("cmd") == "set":
            name, _, value = el.get("data", "").partition("=")
            out[name.strip()] = value.strip()
    return out


def params(root: ET.Element, parent: str = ".") -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in root.find(parent).iter("param")}


def extensions(path: Path) -> list[ET.Element]:
    return list(parse(path).iter("extension"))


def actions(ext: ET.Element) -> list[tuple[str, str]]:
    return [(a.get("application"), a.get("data", "")) for a in ext.iter("action")]


def number_regex(ext: ET.Element) -> re.Pattern:
    cond = [c for c in ext.iter("condition") if c.get("field") == "destination_number"][0]
    return re.compile(cond.get("expression"))


def test_there_are_config_and_dialplan_files():
    names = {p.relative_to(ROOT).as_posix() for p in XML_FILES}
    for required in ("freeswitch/conf/freeswitch.xml", "freeswitch/conf/vars.xml",
                     "freeswitch/conf/autoload_configs/event_socket.conf.xml",
                     "freeswitch/conf/autoload_configs/modules.conf.xml",
                     "freeswitch/conf/autoload_configs/switch.conf.xml",
                     "freeswitch/conf/autoload_configs/sofia.conf.xml",
                     "freeswitch/conf/autoload_configs/spandsp.conf.xml",
                     "freeswitch/conf/autoload_configs/acl.conf.xml",
                     "freeswitch/conf/sip_profiles/trunk.xml", "freeswitch/conf/sip_profiles/agents.xml",
                     "freeswitch/conf/directory/default.xml", "dialplans/public/hotline.xml",
                     "dialplans/default/agents.xml", "dialplans/campaign/outbound.xml"):
        assert required in names


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_xml_file_is_well_formed_and_commented(path):
    ET.parse(path)                                   # raises on malformed XML
    assert "<!--" in path.read_text(), "every file says why it exists"


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_preprocessor_lines_are_safe(path):
    """FreeSWITCH's preprocessor works line by line and also acts inside comments."""
    text = path.read_text()
    for comment in re.findall(r"<!--(.*?)-->", text, re.S):
        assert "X-PRE-PROCESS" not in comment and "$${" not in comment
        assert not comment.startswith("#")          # <!--#include ...--> is a preprocessor command
    for line in text.splitlines():
        if "<X-PRE-PROCESS" in line:
            assert line.strip().endswith("/>"), "one X-PRE-PROCESS per line, self-closed"


def test_every_include_matches_files():
    for path in sorted(CONF.rglob("*.xml")):
        for el in parse(path).iter("X-PRE-PROCESS"):
            if el.get("cmd") != "include":
                continue
            pattern = el.get("data")
            rel = (path.parent / pattern).resolve()
            if "dialplan/hotline/" in (path.parent / pattern).as_posix():
                # installed from the repository's dialplans/ (see docs/freeswitch.md)
                rel = DIALPLANS / Path(pattern).relative_to("hotline")
            if rel.parent == CONF / "directory" / "agents":
                continue  # written from the database by `hotline freeswitch directory` (tests/hotline)
            assert glob.glob(str(rel)), f"{path.name}: include {pattern} matches nothing"


def test_modules_conf_loads_the_required_modules():
    loaded = {m.get("module") for m in parse(CONF / "autoload_configs/modules.conf.xml").iter("load")}
    assert REQUIRED_MODULES <= loaded
    assert "mod_g729" not in loaded


def test_hold_music_stream_of_the_queues_is_defined():
    """QueueConfig's default music_on_hold names a stream mod_local_stream has (name/rate first, then name)."""
    from acd.queues import QueueConfig

    name = QueueConfig("q").music_on_hold.removeprefix("local_stream://")
    streams = {d.get("name"): params(d, ".") for d in parse(CONF / "autoload_configs/local_stream.conf.xml").iter("directory")}
    assert f"{name}/8000" in streams and name in streams
    assert streams[f"{name}/8000"]["rate"] == "8000" and streams[f"{name}/8000"]["channels"] == "1"


def test_event_socket_listens_on_loopback_with_a_non_default_password():
    es = params(parse(CONF / "autoload_configs/event_socket.conf.xml"), "settings")
    assert es["listen-ip"] == "$${hotline_esl_ip}" and global_vars()["hotline_esl_ip"] == "127.0.0.1"
    assert es["listen-port"] == "$${hotline_esl_port}" and global_vars()["hotline_esl_port"] == "8021"
    assert es["apply-inbound-acl"] == "loopback.auto"
    assert es["password"] == "$${hotline_esl_password}"
    password = global_vars()["hotline_esl_password"]
    assert password and password != "ClueCon" and "CHANGE-ME" in password


def test_switch_capacity_settings():
    sw = params(parse(CONF / "autoload_configs/switch.conf.xml"), "settings")
    assert sw["max-sessions"] == "1000"
    assert sw["sessions-per-second"] == "30"


def test_vars_define_engine_address_and_directories():
    v = global_vars()
    assert v["hotline_engine_addr"] == "$${hotline_engine_host}:$${hotline_engine_port}"
    assert (v["hotline_engine_host"], v["hotline_engine_port"]) == ("127.0.0.1", "8084")
    assert v["hotline_fax_dir"].startswith("/") and v["hotline_switch_prompts_dir"].startswith("/")
    assert v["domain"]


def test_no_profile_uses_the_deprecated_rtp_timeouts_the_calls_carry_media_timeout():
    """rtp-timeout-sec / rtp-hold-timeout-sec are deprecated on 1.10+ (a warning per profile at start)."""
    v = global_vars()
    for profile in ("trunk", "agents"):
        settings = params(parse(CONF / f"sip_profiles/{profile}.xml"), "settings")
        assert not {"rtp-timeout-sec", "rtp-hold-timeout-sec"} & set(settings), profile
    assert int(v["hotline_media_timeout"]) >= 60_000 and int(v["hotline_media_hold_timeout"]) >= 60_000  # ms
    for ext in extensions(DIALPLANS / "public/hotline.xml"):
        if any(a == "socket" for a, _ in actions(ext)) and ext.get("name") != "hotline_reconnect":
            assert ("set", "media_timeout=$${hotline_media_timeout}") in actions(ext), ext.get("name")
    domain = parse(CONF / "directory/default.xml").find("domain")
    assert "media_timeout=$${hotline_media_timeout}" in params(domain, "params")["dial-string"]
    variables = {x.get("name"): x.get("value") for x in domain.find("variables")}
    assert variables["media_timeout"] == "$${hotline_media_timeout}"


def test_sip_profiles_bind_the_configured_address_not_a_hard_coded_one():
    v = global_vars()
    assert v["hotline_sip_ip"] == v["hotline_rtp_ip"] == "$${local_ip_v4}"
    for profile in ("trunk", "agents"):
        settings = params(parse(CONF / f"sip_profiles/{profile}.xml"), "settings")
        assert (settings["sip-ip"], settings["rtp-ip"]) == ("$${hotline_sip_ip}", "$${hotline_rtp_ip}")


def test_trunk_options_ping_is_off_unless_asked_for():
    v = global_vars()
    gateway = params(parse(CONF / "sip_profiles/trunk/itsp.xml").find("gateway"))
    assert gateway["ping"] == "$${trunk_ping_seconds}" and v["trunk_ping_seconds"] == "0"
    assert gateway["register"] == "$${trunk_register}" and v["trunk_register"] == "true"


def test_sofia_includes_trunk_and_agents_profiles_on_their_ports():
    v = global_vars()
    trunk = parse(CONF / "sip_profiles/trunk.xml")
    agents = parse(CONF / "sip_profiles/agents.xml")
    assert (trunk.get("name"), agents.get("name")) == ("trunk", "agents")
    tp, ap = params(trunk, "settings"), params(agents, "settings")
    assert tp["sip-port"] == "$${trunk_sip_port}" and v["trunk_sip_port"] == "5080"
    assert ap["sip-port"] == "$${agents_sip_port}" and v["agents_sip_port"] == "5060"
    assert tp["context"] == "public" and ap["context"] == "default"
    assert ap["auth-calls"] == "true" and tp["auth-calls"] == "false"
    assert tp["apply-inbound-acl"] == "itsp"


def test_agents_profile_challenges_every_invite_and_register_and_checks_the_network_after_the_password():
    """An allowing profile ACL is 'authenticated by IP' to FreeSWITCH: INVITEs unchallenged (no
    hotline_agent_id), REGISTERs accepted with no password. The network goes in the domain's auth-acl."""
    ap = params(parse(CONF / "sip_profiles/agents.xml"), "settings")
    assert ap["auth-calls"] == "true"
    assert "apply-inbound-acl" not in ap and "apply-register-acl" not in ap
    assert ap["accept-blind-reg"] == ap["accept-blind-auth"] == "false"
    domain = parse(CONF / "directory/default.xml").find("domain")
    assert params(domain, "params")["auth-acl"] == "agents"
    gateways = list(parse(CONF / "sip_profiles/trunk/itsp.xml").iter("gateway"))
    assert [g.get("name") for g in gateways] == ["itsp"]
    assert "CHANGE-ME" in params(gateways[0])["password"]


def test_acl_lists_used_by_profiles_exist():
    names = {lst.get("name") for lst in parse(CONF / "autoload_configs/acl.conf.xml").iter("list")}
    assert {"itsp", "agents"} <= names


def test_the_agents_directory_is_generated_not_shipped():
    """No phone password in the repository: directory/agents/ is written from the database."""
    directory = parse(CONF / "directory/default.xml")
    domain = directory.find("domain")
    agents_profile = params(parse(CONF / "sip_profiles/agents.xml"), "settings")
    assert domain.get("name") == "$${domain}" == agents_profile["force-register-domain"]
    assert not list((CONF / "directory").rglob("agents/*.xml"))
    includes = [el.get("data") for el in directory.iter("X-PRE-PROCESS") if el.get("cmd") == "include"]
    assert includes == ["agents/*.xml"]


def test_acl_lists_take_their_networks_from_vars():
    lists = {lst.get("name"): lst for lst in parse(CONF / "autoload_configs/acl.conf.xml").iter("list")}
    assert [n.get("cidr") for n in lists["itsp"].iter("node")] == ["$${itsp_cidrs}"]
    assert [n.get("cidr") for n in lists["agents"].iter("node")] == ["$${agents_cidrs}"]
    assert "127.0.0.0/8" in global_vars()["agents_cidrs"].split(",")


HOTLINE_DIDS = ["4008001234", "4008001001", "4008001005", "+864008001009", "4008001012", "4008005678"]


def test_the_demo_numbers_agree_with_the_dialplan():
    """Every entry point of the demo menu and every media plan of the demo shop is a number the trunk routes."""
    import yaml

    menu = yaml.safe_load((ROOT / "menus/demo.yaml").read_text(encoding="utf-8"))
    shop = yaml.safe_load((ROOT / "crm_core/demo/data/shop.yaml").read_text(encoding="utf-8"))
    plans = [p["dnis"] for key, value in shop.items() if isinstance(value, list)
             for p in value if isinstance(p, dict) and "dnis" in p]
    numbers = [str(n) for n in menu["entry_points"]] + plans
    assert plans and len(numbers) > len(plans)
    exts = [e for e in extensions(DIALPLANS / "public/hotline.xml")
            if e.get("name") not in ("hotline_fax_in", "hotline_reconnect")]
    for number in numbers:
        assert any(number_regex(e).match(number) for e in exts), number


def test_each_hotline_did_is_routed_to_the_engine_with_its_media_source():
    exts = [e for e in extensions(DIALPLANS / "public/hotline.xml")
            if e.get("name") not in ("hotline_fax_in", "hotline_reconnect")]
    assert len(exts) >= 2
    for did in HOTLINE_DIDS:
        matching = [e for e in exts if number_regex(e).match(did)]
        assert len(matching) == 1, did
        m = number_regex(matching[0]).match(did)
        assert m.group(1) == did.replace("+86", "")         # media source = national DNIS
    for ext in exts:
        acts = actions(ext)
        apps = [a for a, _ in acts]
        assert ("export", "hotline_media_source=$1") in acts
        assert "answer" not in apps                           # the engine answers
        # the socket is the last routing step; if the engine goes away the caller waits to reconnect
        assert acts[-2] == ("socket", ENGINE_SOCKET)
        assert acts[-1] == ("transfer", "hotline_reconnect XML public")
        assert ("set", "hotline_entry=inbound") in acts
        assert apps.index("export") < apps.index("socket")


def test_reconnect_loop_plays_a_prompt_hotline_renders_not_a_stock_sound():
    """vars.xml has no sound_prefix and a source build no sound packages: a relative stock name plays nothing."""
    from ivr.prompts.switch_prompts import SWITCH_PROMPTS

    ext = [e for e in extensions(DIALPLANS / "public/hotline.xml") if e.get("name") == "hotline_reconnect"][0]
    played = [data for app, data in actions(ext) if app == "playback"]
    assert played == ["$${hotline_switch_prompts_dir}/reconnect_hold.wav"]
    assert "reconnect_hold" in SWITCH_PROMPTS


def test_reconnect_extension_retries_the_engine_a_bounded_number_of_times():
    """A caller whose engine went away hears "one moment", and the socket is tried again, at most 10 times."""
    ext = [e for e in extensions(DIALPLANS / "public/hotline.xml") if e.get("name") == "hotline_reconnect"][0]
    conds = list(ext.iter("condition"))
    assert number_regex(ext).pattern == "^hotline_reconnect$"
    guard = [c for c in conds if c.get("field") == "${hotline_entry}"][0]  # only calls our extensions took
    assert re.fullmatch(guard.get("expression"), "inbound") and not re.fullmatch(guard.get("expression"), "")
    counting = guard.find("action")
    assert counting.get("inline") == "true"  # counted while hunting, so the next condition sees it
    assert counting.get("data") == "hotline_reconnects=${hotline_reconnects}x"
    limit = [c for c in conds if c.get("field") == "${hotline_reconnects}"][0]
    visits = re.compile(limit.get("expression"))
    assert visits.fullmatch("x") and visits.fullmatch("x" * 10) and not visits.fullmatch("x" * 11)
    acts = [(a.get("application"), a.get("data", "")) for a in limit.findall("action")]
    assert ("socket", ENGINE_SOCKET) in acts and acts[-1] == ("transfer", "hotline_reconnect XML public")
    assert [a.get("data") for a in limit.findall("anti-action")] == ["NORMAL_TEMPORARY_FAILURE"]


def test_unknown_numbers_are_refused_not_sent_to_the_engine():
    exts = extensions(DIALPLANS / "public/hotline.xml")
    assert not any(number_regex(e).match("4008002000") for e in exts)
    wrapper = extensions(CONF / "dialplan/public.xml")
    assert actions(wrapper[-1])[-1] == ("respond", "404")


def test_fax_did_answers_and_runs_rxfax_into_the_fax_dir():
    fax = [e for e in extensions(DIALPLANS / "public/hotline.xml") if e.get("name") == "hotline_fax_in"][0]
    assert number_regex(fax).match("4008001099")
    apps = [a for a, _ in actions(fax)]
    assert apps.index("answer") < apps.index("rxfax") < apps.index("hangup")
    rxfax = dict(actions(fax))["rxfax"]
    assert rxfax == "$${hotline_fax_dir}/${uuid}.tif"
    assert "socket" not in apps


FEATURES = {"*61": "login", "*62": "logout", "*63": "ready", "*64": "not_ready", "*642": "not_ready"}


def test_agent_feature_codes_hand_the_agent_and_code_to_the_engine():
    exts = extensions(DIALPLANS / "default/agents.xml")
    feature_exts = [e for e in exts if any(a == "socket" for a, _ in actions(e))]
    for code, feature in FEATURES.items():
        matching = [e for e in feature_exts if number_regex(e).match(code)]
        assert len(matching) == 1, code
        acts = actions(matching[0])
        assert ("set", f"hotline_feature={feature}") in acts
        assert ("set", "hotline_feature_agent=${hotline_agent_id}") in acts
        assert acts[-2] == ("socket", ENGINE_SOCKET)
    not_ready = [e for e in feature_exts if number_regex(e).match("*64")][0]
    assert number_regex(not_ready).match("*643").group(1) == "3"
    assert ("set", "hotline_feature_reason=$1") in actions(not_ready)


def test_feature_codes_from_a_phone_without_agent_id_are_refused_first():
    first = extensions(DIALPLANS / "default/agents.xml")[0]
    fields = [c.get("field") for c in first.iter("condition")]
    assert fields[0] == "${hotline_agent_id}"
    assert ("respond", "403") in actions(first)


def test_agents_can_dial_each_other():
    exts = extensions(DIALPLANS / "default/agents.xml")
    a2a = [e for e in exts if number_regex(e).match("1002")]
    assert len(a2a) == 1
    assert ("bridge", "user/$1@${domain_name}") in actions(a2a[0])


def test_campaign_context_marks_the_leg_and_sockets_to_the_engine():
    exts = extensions(DIALPLANS / "campaign/outbound.xml")
    main = [e for e in exts if e.get("name") == "hotline_campaign"][0]
    assert number_regex(main).match("hotline_campaign")
    acts = actions(main)
    assert ("set", "hotline_entry=campaign") in acts
    assert ("export", "hotline_campaign_id=${hotline_campaign_id}") in acts
    assert acts[-3] == ("socket", ENGINE_SOCKET)
    # the engine gone or letting go: the person who answered hears who called, never silence
    assert acts[-2] == ("playback", "${hotline_abandon_message}") and acts[-1][0] == "hangup"
    guard = exts[0]
    assert [c.get("field") for c in guard.iter("condition")][0] == "${hotline_campaign_id}"
    assert actions(guard)[-1][0] == "hangup"


def test_contexts_of_profiles_exist_and_campaign_is_not_reachable_from_sip():
    contexts = {parse(p).find("context").get("name") for p in (CONF / "dialplan").glob("*.xml")}
    assert {"public", "default", "campaign"} <= contexts
    for profile in ("trunk", "agents"):
        assert params(parse(CONF / f"sip_profiles/{profile}.xml"), "settings")["context"] != "campaign"
    gw = params(parse(CONF / "sip_profiles/trunk/itsp.xml").find("gateway"))
    assert gw["context"] == "public"


def test_the_simulator_copy_of_the_hotline_dialplan_is_read_from_the_xml():
    from hotline.sim_dialplan import read

    plan = read()
    assert plan.tries == 10 and plan.pause_ms == 2000 and plan.give_up == "NORMAL_TEMPORARY_FAILURE"
    assert plan.hold_prompt == "$${hotline_switch_prompts_dir}/reconnect_hold.wav"
    for did in HOTLINE_DIDS:
        assert any(re.fullmatch(expression, did) for expression in plan.numbers), did
    assert not any(re.fullmatch(expression, "4008001099") for expression in plan.numbers)  # fax: no engine
    assert not any(re.fullmatch(expression, "4008002000") for expression in plan.numbers)
    [(fax_number, fax_actions)] = plan.fax  # the fax extension, as the simulator runs it
    assert re.fullmatch(fax_number, "4008001099") and re.fullmatch(fax_number, "+864008001099")
    apps = [app for app, _ in fax_actions]
    assert apps.index("answer") < apps.index("rxfax") < apps.index("hangup")
    assert ("rxfax", "${hotline_fax_dir}/${uuid}.tif") in fax_actions
    assert ("set", "hotline_fax_number=${destination_number}") in fax_actions
