"""``hotline run``: start the engine and keep it running until interrupted."""

from __future__ import annotations

import argparse
import logging
import sys

from hotline.engine import Engine
from hotline.settings import Settings, SettingsError
from hotline.startup import StartupError

log = logging.getLogger("hotline")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-web", action="store_true", help="do not serve the admin UI")


def main(settings: Settings, args: argparse.Namespace) -> int:
    from twisted.internet import reactor

    from hotline.wiring import build_call_handler

    engine = Engine(settings, reactor, application=build_call_handler, web_enabled=not args.no_web)
    try:
        engine.start()
    except (SettingsError, StartupError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    _print_banner(engine)
    reactor.run()
    return 0


def _print_banner(engine: Engine) -> None:
    settings, ports = engine.settings, engine.ports
    lines = [f"Hotline engine running (database: {engine.db_engine.url.render_as_string()})",
             f"  call server (FreeSWITCH 'socket ... async full' target): {settings.callserver.host}:{ports['callserver']}"]
    if engine.simulator is not None:
        lines.append(f"  switch simulator event socket: {settings.sim.host}:{ports['sim']} "
                     f"(password {settings.sim.password})\n    try: .venv/bin/hotline call --from 13800138000 --to 4008001234 "
                     f"--script 'wait_prompt; wait 1; press 1; wait_prompt; wait 1; press 0; wait 15; hangup'")
    else:
        lines.append(f"  FreeSWITCH event socket: {settings.switch.host}:{settings.switch.port}")
    if engine.web_banner:
        lines.append("  " + engine.web_banner.replace("\n", "\n  "))
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
