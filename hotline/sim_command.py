"""``hotline sim``: run the FreeSWITCH simulator on its own (event socket on switch.host:switch.port).

Useful to develop against the engine without a real switch, or to let a
second engine process connect to it. Calls placed with ``hotline call`` (or
``api sim call`` from any ESL client) run the number's dialplan, by default
``socket <callserver.host>:<callserver.port> async full``; hotline numbers
(400...) as ``dialplans/public/hotline.xml`` routes them, so an engine can be
restarted under live calls (see ``hotline.sim_dialplan``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from hotline.settings import Settings

log = logging.getLogger("hotline.sim")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="event socket address (default: switch.host)")
    parser.add_argument("--port", type=int, help="event socket port (default: switch.port)")
    parser.add_argument("--password", help="event socket password (default: switch.password)")
    parser.add_argument("--socket", dest="socket_target", metavar="HOST:PORT",
                        help="where numbers' 'socket' app connects (default: callserver.host:callserver.port)")
    parser.add_argument("--phone", action="append", default=[], metavar="EXT",
                        help="register an agent phone user/EXT that answers after 1 s (repeatable)")
    parser.add_argument("--target", action="append", default=[], metavar="PATTERN=SPEC",
                        help="route numbers matching PATTERN to SPEC: host:port, park or app(arg);... (repeatable)")


def main(settings: Settings, args: argparse.Namespace) -> int:
    from twisted.internet import reactor

    from freeswitch.sim.simulator import Simulator

    sim_settings = settings.sim
    socket_host, socket_port = settings.callserver.host, settings.callserver.port
    if args.socket_target:
        host, _, port = args.socket_target.rpartition(":")
        socket_host, socket_port = host or socket_host, int(port)
    sounds = Path(sim_settings.sounds_dir)
    recordings = Path(sim_settings.recordings_dir)
    recordings.mkdir(parents=True, exist_ok=True)
    sim = Simulator(reactor, host=args.host or settings.switch.host, port=args.port if args.port is not None
                    else settings.switch.port, password=args.password or settings.switch.password,
                    socket_host=socket_host, socket_port=socket_port, sounds_dir=sounds, recordings_dir=recordings)
    from hotline.sim_dialplan import install as install_dialplan
    from ivr.prompts.switch_prompts import switch_prompts_dir

    # hotline numbers as dialplans/public/hotline.xml routes them; --target overrides
    install_dialplan(sim, prompts_dir=switch_prompts_dir(settings.tts.cache_dir))
    for ext in args.phone:
        sim.directory.register(ext)
    for item in args.target:
        pattern, sep, spec = item.partition("=")
        if not sep:
            log.error("--target needs PATTERN=SPEC, got %r", item)
            return 2
        sim.set_target(pattern, spec)
    try:
        port = sim.start()
    except Exception as exc:  # CannotListenError and friends: say it plainly
        log.error("cannot listen on %s:%s: %s", sim.host, sim.port, exc)
        return 1
    log.info("FreeSWITCH simulator listening on %s:%d (socket target %s:%d)", sim.host, port,
             socket_host, socket_port)
    reactor.addSystemEventTrigger("before", "shutdown", sim.stop)
    reactor.run()
    return 0
