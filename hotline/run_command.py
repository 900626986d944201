"""``hotline run``: start the engine and keep it running until interrupted."""

from __future__ import annotations

import argparse
import logging
import sys

from hotline.engine import Engine
from hotline.settings import Settings, SettingsError
from hotline.startup import StartupError

log = logging.getLogger("hotline")

#: The call the banner and the README suggest: 赵军, a platinum demo customer with orders (``hotline demo-data``;
#: a test keeps README, banner and demo data in agreement), dialling the main hotline, Mandarin, then an agent.
SAMPLE_CALLER = "19127501420"
SAMPLE_HOTLINE = "4008001234"
SAMPLE_SCRIPT = "wait_prompt; wait 1; press 1; wait_prompt; wait 1; press 0; wait 15; hangup"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-web", action="store_true", help="do not serve the admin UI")


def main(settings: Settings, args: argparse.Namespace) -> int:
    from twisted.internet import reactor

    from hotline.wiring import build_call_handler

    engine = Engine(settings, reactor, application=build_call_handler, web_enabled=not args.no_web)
    exit_code = [0]

    def start() -> None:
        # Started inside the running reactor so that a failure half-way (a port in use) shuts down through the
        # usual triggers: thread pools already started (database, prompts) are stopped and the process exits.
        try:
            engine.start()
        except (SettingsError, StartupError) as exc:
            print(f"hotline: {exc}", file=sys.stderr)
            exit_code[0] = 2
            reactor.stop()
            return
        except BaseException:
            log.exception("the engine failed to start")
            exit_code[0] = 1
            reactor.stop()
            return
        _print_banner(engine)

    reactor.callWhenRunning(start)
    reactor.run()
    return exit_code[0]


def _print_banner(engine: Engine) -> None:
    settings, ports = engine.settings, engine.ports
    lines = [f"Hotline engine running (database: {engine.db_engine.url.render_as_string()})",
             f"  call server (FreeSWITCH 'socket ... async full' target): {settings.callserver.host}:{ports['callserver']}"]
    if engine.simulator is not None:
        lines.append(f"  switch simulator event socket: {settings.switch.host}:{ports['sim']} "
                     f"(password {settings.switch.password})\n    try: .venv/bin/hotline call --from {SAMPLE_CALLER} "
                     f"--to {SAMPLE_HOTLINE} --script '{SAMPLE_SCRIPT}'")
    else:
        lines.append(f"  FreeSWITCH event socket: {settings.switch.host}:{settings.switch.port}")
    if engine.web_banner:
        lines.append("  " + engine.web_banner.replace("\n", "\n  "))
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
