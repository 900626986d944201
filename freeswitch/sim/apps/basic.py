"""Small apps whose whole effect is a state change or a variable: answer, set, park, sleep, hangup...

Application-Response "_none_" is what FreeSWITCH reports for all of them
(FreeSWITCH 1.11.1), so they return None.
"""

from __future__ import annotations

import logging

from freeswitch.sim.channel import APPS, Channel

log = logging.getLogger(__name__)


def app(name: str):
    def register(func):
        APPS[name] = func
        return func
    return register


@app("answer")
async def answer(ch: Channel, arg: str) -> None:
    ch.answer()


@app("pre_answer")
async def pre_answer(ch: Channel, arg: str) -> None:
    ch.pre_answer()


@app("ring_ready")
async def ring_ready(ch: Channel, arg: str) -> None:
    ch.ring_ready()


@app("set")
async def set_(ch: Channel, arg: str) -> None:
    name, sep, value = arg.partition("=")
    if not sep or value == "":
        ch.variables.pop(name.strip(), None)
    else:
        ch.variables[name.strip()] = value


@app("export")
async def export(ch: Channel, arg: str) -> None:
    name, sep, value = arg.partition("=")
    name = name.strip()
    if name.startswith("nolocal:"):
        name = name[len("nolocal:"):]
    else:
        ch.variables[name] = value
    ch.exports = getattr(ch, "exports", {})
    ch.exports[name] = value
    ch.variables["export_vars"] = ",".join(ch.exports)


@app("unset")
async def unset(ch: Channel, arg: str) -> None:
    ch.variables.pop(arg.strip(), None)


@app("multiset")
async def multiset(ch: Channel, arg: str) -> None:
    text = arg.strip()
    sep = " "
    if text.startswith("^^") and len(text) > 2:
        sep, text = text[2], text[3:]
    for item in text.split(sep):
        await set_(ch, item)


@app("sleep")
async def sleep(ch: Channel, arg: str) -> None:
    try:
        ms = int(arg.strip() or 0)
    except ValueError:
        ms = 0
    await ch.wait(ms / 1000.0)


@app("hangup")
async def hangup(ch: Channel, arg: str) -> None:
    ch.hangup(arg.strip() or "NORMAL_CLEARING")


@app("log")
async def log_app(ch: Channel, arg: str) -> None:
    log.info("[%s] %s", ch.uuid, arg)


@app("info")
async def info(ch: Channel, arg: str) -> None:
    log.info("channel %s: %d variables", ch.uuid, len(ch.variables))


@app("park")
async def park(ch: Channel, arg: str) -> None:
    """Park: the channel sits in the park loop; queued apps (uuid_broadcast) run inside it."""
    ch.fire("CHANNEL_PARK", ("switch_ivr.c", "switch_ivr_park", 1002))


@app("start_dtmf")
async def start_dtmf(ch: Channel, arg: str) -> None:
    ch.fire("MEDIA_BUG_START", ("switch_core_media_bug.c", "switch_core_media_bug_add", 1014),
            pre=[("Media-Bug-Function", "inband_dtmf"), ("Media-Bug-Target", "")])
    ch.media_bugs["inband_dtmf"] = True


@app("stop_dtmf")
async def stop_dtmf(ch: Channel, arg: str) -> None:
    if ch.media_bugs.pop("inband_dtmf", None):
        ch.fire("MEDIA_BUG_STOP", ("switch_core_media_bug.c", "switch_core_media_bug_destroy", 84),
                pre=[("Media-Bug-Function", "inband_dtmf"), ("Media-Bug-Target", "")])


@app("transfer")
async def transfer(ch: Channel, arg: str) -> None:
    transfer_channel(ch, arg)


def transfer_channel(ch: Channel, arg: str) -> None:
    """transfer <ext> [dialplan] [context]: the running app is broken off, the new extension's apps replace the rest.

    A parking app (socket, park) ends: its session is told goodbye, as the
    park loop exits -- after the app running inside it has stopped.
    """
    parts = arg.split()
    if not parts or not ch.up:
        return
    dest = parts[0]
    ch.times["transfer"] = ch.core.now_us()
    ch.profile["Destination-Number"] = dest
    if len(parts) > 2:
        ch.profile["Context"] = parts[2]
    ch.queue.clear()
    ch.after_park.clear()
    if ch.current_app is not None and ch.current_app[0] != "transfer":
        ch.interrupt("break")
    if ch.main_app is not None:
        for conn in list(ch.bound):
            if getattr(conn, "outbound", False):
                ch.bound.remove(conn)
                conn.goodbye()
        ch.complete_main_app()  # at once, or when the broken-off app has returned
    dialplan = ch.core.extensions.get("dialplan")
    if dialplan is not None:
        dialplan.route(ch, dest)


@app("socket")
async def socket(ch: Channel, arg: str) -> None:
    """socket host:port [async] [full]: connect to the app server, which then controls the channel.

    The outbound-socket protocol is the simulator's to supply (``core.extensions["outbound_socket"]``, the
    session factory class): the applications do not import the ESL session layer that runs them.
    """
    OutboundFactory = ch.core.extensions["outbound_socket"]
    words = arg.split()
    host, _, port = (words[0] if words else "").rpartition(":")
    mode = "async" if "async" in words[1:] else "static"
    control = "full" if "full" in words[1:] else "partial"
    ch.variables["socket_host"] = host
    reactor = ch.core.extensions.get("reactor")
    factory = OutboundFactory(ch.core, ch, mode, control)
    factory.app_uuid = ch.main_app[2] if ch.main_app is not None else None

    def failed(reason: object) -> None:
        log.warning("socket %s failed for %s: %s", arg, ch.uuid, reason)
        if ch.up and ch.main_app is not None and ch.main_app[2] == factory.app_uuid:
            ch.complete_main_app()

    factory.failed = failed
    if reactor is None or not port.isdigit():
        ch.clock.callLater(0, failed, "no reactor / bad target")
        return
    reactor.connectTCP(host or "127.0.0.1", int(port), factory, timeout=5)
