"""``hotline freeswitch``: install Hotline's FreeSWITCH configuration and write the agents' SIP directory.

``install --conf DIR [--set NAME=VALUE ...]`` copies ``freeswitch/conf`` and
``dialplans/`` into the switch's configuration directory and fills in
``vars.xml``. The values both sides must agree on come from Hotline's own
settings, so they cannot differ: the event socket address and password
(``[switch]``), where the engine's CallServer listens (``[callserver]``) and
the folder of the prompts the switch plays itself (``[tts] cache_dir``).
Everything else (SIP address and ports, domain, networks, fax folder...) is
a ``--set``.

``directory --conf DIR [--rotate EXT ...] [--show] [--reload]`` writes one
directory file per active agent from the database (extension, agent id, a
password of its own, generated on first use) and removes the files of
agents who left. Files rather than mod_xml_curl: phones keep registering
while the engine restarts, and the switch never waits on the engine to
authenticate a phone. ``--reload`` runs ``reloadxml`` on the switch through
the event socket of ``[switch]``.

docs/freeswitch.md gives these commands; the real-switch tests run them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.settings import Settings, SettingsError, database_url

#: vars.xml variables taken from Hotline's settings (never from --set: both sides must agree)
FROM_SETTINGS = ("hotline_esl_ip", "hotline_esl_port", "hotline_esl_password", "hotline_engine_host",
                 "hotline_engine_port", "hotline_switch_prompts_dir")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-actions ``install`` and ``directory``."""
    actions = parser.add_subparsers(dest="fs_action", metavar="ACTION")
    actions.required = True
    install = actions.add_parser("install", help="copy the configuration and dialplans into a conf directory")
    install.add_argument("--conf", required=True, help="FreeSWITCH's configuration directory "
                                                        "(a source build: /usr/local/freeswitch/etc/freeswitch)")
    install.add_argument("--set", dest="values", action="append", default=[], metavar="NAME=VALUE",
                         help="a vars.xml value, e.g. hotline_sip_ip=10.0.0.5 (repeatable)")
    directory = actions.add_parser("directory", help="write the agents' SIP directory from the database")
    directory.add_argument("--conf", required=True, help="FreeSWITCH's configuration directory")
    directory.add_argument("--rotate", action="append", default=[], metavar="EXT",
                           help="give the phone on this extension a new password (repeatable)")
    directory.add_argument("--show", action="store_true", help="print extension, agent, password (to set up phones)")
    directory.add_argument("--reload", action="store_true", help="run reloadxml on the switch ([switch] settings)")


def settings_values(settings: Settings) -> dict[str, str]:
    """The vars.xml values that come from Hotline's settings."""
    from ivr.prompts.switch_prompts import switch_prompts_dir

    switch, callserver = settings.switch, settings.callserver
    return {"hotline_esl_ip": switch.host, "hotline_esl_port": str(switch.port),
            "hotline_esl_password": switch.password, "hotline_engine_host": callserver.host,
            "hotline_engine_port": str(callserver.port),
            "hotline_switch_prompts_dir": str(switch_prompts_dir(settings.tts.cache_dir))}


def _parse_values(items: list[str]) -> dict[str, str]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SettingsError(f"--set needs NAME=VALUE, got {item!r}")
        if name.strip() in FROM_SETTINGS:
            raise SettingsError(f"--set {name.strip()}: this value comes from Hotline's settings "
                                "([switch], [callserver], [tts] cache_dir); change it there")
        values[name.strip()] = value.strip()
    return values


def _install(settings: Settings, args: argparse.Namespace) -> int:
    from freeswitch.conf_install import ConfInstallError, install

    if settings.switch.password in ("", "ClueCon"):
        print("hotline freeswitch install: switch.password is empty or FreeSWITCH's default 'ClueCon'; set a long "
              "random one in Hotline's settings ([switch] password or HOTLINE_SWITCH_PASSWORD) first: this command "
              "copies it into vars.xml", file=sys.stderr)
        return 2
    values = {**settings_values(settings), **_parse_values(args.values)}
    try:
        report = install(args.conf, values)
    except (ConfInstallError, OSError) as exc:
        print(f"hotline freeswitch install: {exc}", file=sys.stderr)
        return 1
    print(f"installed {report.files} files into {report.conf_dir} (dialplans in dialplan/hotline/)")
    for name in sorted(values):
        shown = "(from [switch] password)" if name == "hotline_esl_password" else report.variables[name]
        print(f"  {name} = {shown}")
    if settings.switch.mode != "freeswitch":
        print("note: switch.mode is not 'freeswitch' yet: set it (HOTLINE_SWITCH_MODE=freeswitch) for the engine "
              "to use this switch")
    print("next: hotline freeswitch directory --conf " + str(args.conf))
    return 0


def _directory(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from crm_core.db import make_engine, session_factory, transaction
    from crm_core.exceptions import CrmError
    from crm_core.services.sip_accounts import sip_accounts
    from freeswitch.conf_install import AGENTS_DIRECTORY
    from freeswitch.directory_xml import PhoneUser, write_directory

    engine = make_engine(database_url(settings))
    try:
        with transaction(session_factory(engine)) as session:
            accounts = sip_accounts(session, rotate=args.rotate, by="hotline freeswitch directory")
    except CrmError as exc:
        print(f"hotline freeswitch directory: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        print(f"hotline freeswitch directory: cannot read the agents: {reason} (run 'hotline db upgrade'?)",
              file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    folder = Path(args.conf) / AGENTS_DIRECTORY
    report = write_directory(folder, [PhoneUser(a.extension, a.agent_id, a.name, a.password) for a in accounts])
    print(f"wrote {len(report.written)} agent phones to {folder}"
          + (f", removed {', '.join(report.removed)}" if report.removed else ""))
    for extension, why in report.skipped:
        print(f"skipped {extension}: {why}", file=sys.stderr)
    if args.show:
        print(f"{'extension':<10} {'agent':>5}  {'password':<26} name")
        for account in accounts:
            if account.extension in report.written:
                print(f"{account.extension:<10} {account.agent_id:>5}  {account.password:<26} {account.name}")
    if args.reload:
        from freeswitch.esl.blocking import BlockingEsl

        switch = settings.switch
        try:
            with BlockingEsl(switch.host, switch.port, switch.password) as esl:
                print(f"reloadxml: {esl.api('reloadxml').strip()}")
        except OSError as exc:
            print(f"hotline freeswitch directory: reloadxml on {switch.host}:{switch.port} failed: {exc}",
                  file=sys.stderr)
            return 1
    return 1 if report.skipped else 0


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Entry point called by ``hotline.cli``."""
    if args.fs_action == "install":
        return _install(settings, args)
    return _directory(settings, args)
