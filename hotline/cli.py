"""The ``hotline`` command: one entry point, one subcommand per job.

Each subcommand lives in its own module and is imported only when used, so
``hotline db upgrade`` does not pay for Twisted or Flask start-up.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Callable, Sequence

from hotline.settings import Settings, SettingsError, load_settings

#: name -> (module:function, help). The function takes (settings, args) and returns an exit code.
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("hotline.db_command:main", "database migrations: upgrade, downgrade, current"),
    "demo-data": ("hotline.demo_command:main", "load the demo shop (idempotent)"),
    "run": ("hotline.run_command:main", "run the engine (+ simulator and admin UI in demo mode)"),
    "sim": ("hotline.sim_command:main", "run the FreeSWITCH simulator on its own"),
    "call": ("hotline.call_command:main", "place a simulated call through a running simulator"),
    "admin": ("hotline.admin_command:main", "admin UI: create-user, serve on its own"),
    "prompts": ("hotline.prompts_command:main", "prompt catalogue: list, render static prompts to the audio cache"),
    "freeswitch": ("hotline.freeswitch_command:main", "install the FreeSWITCH configuration; write the agents' SIP directory"),
    "messages": ("hotline.messages_command:main", "the SMS / e-mail / fax / voice outbox: list, dispatch"),
    "campaign": ("hotline.campaign_command:main", "outbound campaigns: list, start, pause, resume, stop, status"),
}

#: name -> function(parser) adding the subcommand's own arguments.
ARGUMENTS: dict[str, str] = {
    "db": "hotline.db_command:add_arguments",
    "demo-data": "hotline.demo_command:add_arguments",
    "run": "hotline.run_command:add_arguments",
    "sim": "hotline.sim_command:add_arguments",
    "call": "hotline.call_command:add_arguments",
    "admin": "hotline.admin_command:add_arguments",
    "prompts": "hotline.prompts_command:add_arguments",
    "freeswitch": "hotline.freeswitch_command:add_arguments",
    "messages": "hotline.messages_command:add_arguments",
    "campaign": "hotline.campaign_command:add_arguments",
}


def _resolve(target: str) -> Callable:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="Hotline contact-center engine")
    parser.add_argument("--config", help="settings TOML file (default: $HOTLINE_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (_, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        try:
            _resolve(ARGUMENTS[name])(command)
        except (ImportError, AttributeError):
            pass  # a subcommand with no extra arguments
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    try:
        settings: Settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"hotline: configuration error: {exc}", file=sys.stderr)
        return 2
    target = COMMANDS[args.command][0]
    try:
        run = _resolve(target)
    except (ImportError, AttributeError) as exc:
        print(f"hotline: '{args.command}' is not available: {exc}", file=sys.stderr)
        return 2
    try:
        return int(run(settings, args) or 0)
    except SettingsError as exc:
        print(f"hotline: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
