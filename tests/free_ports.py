"""Ports a test hands to another process (FreeSWITCH, sipp) or binds again later (an engine restarted on the
port it had), picked so that nothing else takes them in between."""

from __future__ import annotations

import random
import socket

#: Where such ports come from: below the kernel's ephemeral range (32768-60999 on Linux), so that no
#: other process's outgoing connection or port-0 bind (the parallel test workers make plenty) can take one
#: between the pick and the bind (FreeSWITCH's sofia then fails "Error Creating SIP UA" and loses the profile).
PORT_POOL = range(20000, 32000)
_handed_out: set[int] = set()


def _bindable(port: int) -> bool:
    """Free for TCP and UDP on loopback: sofia listens on both transports of its port."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_range(size: int) -> int:
    """The first of ``size`` consecutive ports from :data:`PORT_POOL`, free now and never handed out before in
    this process (so a phone's port never falls inside FreeSWITCH's RTP range, or the other way round)."""
    for _ in range(500):
        base = random.randrange(PORT_POOL.start, PORT_POOL.stop - size, 2)
        ports = range(base, base + size)
        if not _handed_out.intersection(ports) and all(_bindable(port) for port in ports):
            _handed_out.update(ports)
            return base
    raise RuntimeError(f"no {size} free ports in {PORT_POOL.start}-{PORT_POOL.stop - 1}")


def free_port() -> int:
    """One port from :data:`PORT_POOL`, free for TCP and UDP, never handed out before in this process."""
    return free_port_range(1)
