"""The registry of simulated ``api`` commands and their dispatcher (a module of its own so that the command
modules -- ``api``, ``api_calls``, ``control`` -- register into it without importing each other)."""

from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable

from freeswitch.sim.core import SimCore

Handler = Callable[[SimCore, str, Any], "str | Awaitable[str]"]
COMMANDS: dict[str, Handler] = {}


def command(*names: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of the api commands ``names``."""
    def register(func: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = func
        return func
    return register


async def execute(core: SimCore, cmd: str, args: str, conn: Any = None) -> str:
    """Run one api command; the body exactly as FreeSWITCH would send it."""
    ev = core.base_event("API", ("switch_loadable_module.c", "switch_api_execute", 2954))
    ev.add("API-Command", cmd)
    if args:
        ev.add("API-Command-Argument", args)
    core.fire(ev)
    handler = COMMANDS.get(cmd)
    if handler is None:
        return f"-ERR {cmd} Command not found!\n"
    result = handler(core, args, conn)
    if inspect.isawaitable(result):
        result = await result
    return result or "-ERR no reply\n"
