"""The simulator's copy of ``dialplans/public/hotline.xml``: what the real switch does with a hotline number.

The simulator has no XML dialplan, so the engine (demo mode) and ``hotline
sim`` install these rules: a hotline number goes to the engine's socket and,
if the engine drops the connection with the caller still there, to
``hotline_reconnect`` -- "one moment please", the socket again, at most
:data:`RECONNECT_TRIES` visits, then a temporary-failure hang-up. Keep the two
in step: ``tests/hotline/test_engine_restart.py`` runs a caller through this
copy, ``tests/freeswitch/test_conf_xml.py`` checks the XML.
"""

from __future__ import annotations

from typing import Any

#: every 400 number, as the trunk may present it (+86 / 0086 prefixes)
HOTLINE_NUMBERS = r"(?:\+?86|0086)?400\d{7}"
RECONNECT = "hotline_reconnect"
RECONNECT_TRIES = 10
#: the pause between two tries (the XML's ``sleep 2000``), in ms
RECONNECT_PAUSE_MS = 2000


def install(simulator: Any, pause_ms: int = RECONNECT_PAUSE_MS) -> None:
    """Route hotline numbers as the shipped dialplan does (socket, then the bounded reconnect loop)."""
    again = f"transfer({RECONNECT} XML public)"
    simulator.set_target(HOTLINE_NUMBERS, f"socket(default);{again}")
    simulator.set_target(RECONNECT, f"playback(ivr/ivr-one_moment_please.wav);sleep({pause_ms});socket(default);{again}",
                         counter="hotline_reconnects", limit=RECONNECT_TRIES,
                         otherwise="hangup(NORMAL_TEMPORARY_FAILURE)")
