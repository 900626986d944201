"""Event headers of a channel, in the order FreeSWITCH 1.11 writes them.

Every channel event is: the core block (core.base_event), event-specific
"pre" headers (Bridge-A-Unique-ID, Original-Channel-Call-State,
Old-Unique-ID...), the channel data (state, Answer-State, Hangup-Cause,
codec, Caller-*, Other-Type + Other-Leg-*, variable_*), then the event's
own trailing headers (Application, Playback-File-Path, DTMF-Digit...).
The layout was read off the captures in ``tests/data/fs-traces.tar.xz``; the fidelity
tests compare it name by name.
"""

from __future__ import annotations

from typing import Any

from freeswitch.sim.event import SimEvent

STATE_NUMBERS = {
    "CS_NEW": 0, "CS_INIT": 1, "CS_ROUTING": 2, "CS_SOFT_EXECUTE": 3, "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5, "CS_PARK": 6, "CS_CONSUME_MEDIA": 7, "CS_HIBERNATE": 8, "CS_RESET": 9,
    "CS_HANGUP": 10, "CS_REPORTING": 11, "CS_DESTROY": 12, "CS_NONE": 13,
}
CALLSTATE_NUMBERS = {"DOWN": 0, "DIALING": 1, "RINGING": 2, "EARLY": 3, "ACTIVE": 4, "HELD": 5,
                     "RING_WAIT": 6, "HANGUP": 7, "UNHELD": 8}

PROFILE_FIELDS = (
    "Direction", "Logical-Direction", "Username", "Dialplan", "Caller-ID-Name", "Caller-ID-Number",
    "Orig-Caller-ID-Name", "Orig-Caller-ID-Number", "Callee-ID-Name", "Callee-ID-Number", "Network-Addr", "ANI",
    "Destination-Number", "Unique-ID", "Source", "Context", "Channel-Name", "Profile-Index",
    "Profile-Created-Time", "Channel-Created-Time", "Channel-Answered-Time", "Channel-Progress-Time",
    "Channel-Progress-Media-Time", "Channel-Hangup-Time", "Channel-Transfer-Time", "Channel-Resurrect-Time",
    "Channel-Bridged-Time", "Channel-Last-Hold", "Channel-Hold-Accum", "Screen-Bit", "Privacy-Hide-Name",
    "Privacy-Hide-Number",
)


class ChannelHeaders:
    """Mixin for :class:`~freeswitch.sim.channel.Channel`: header blocks and event firing."""

    core: Any
    uuid: str
    name: str
    direction: str
    state: str
    callstate: str
    answer_state: str
    hangup_cause: str | None
    hit_dialplan: bool
    destroyed: bool
    times: dict[str, int]
    profile: dict[str, str]
    variables: dict[str, str]
    other_leg: Any
    other_type: str
    codec: tuple[str, int, int]

    @property
    def up(self) -> bool:
        return self.hangup_cause is None

    @property
    def answered(self) -> bool:
        return self.times["answered"] != 0

    def profile_block(self, prefix: str) -> list[tuple[str, str]]:
        fields = dict(self.profile)
        fields.update({
            "Direction": self.direction, "Logical-Direction": self.direction, "Unique-ID": self.uuid,
            "Channel-Name": self.name, "Profile-Index": "1", "Profile-Created-Time": str(self.times["created"]),
            "Channel-Created-Time": str(self.times["created"]),
            "Channel-Answered-Time": str(self.times["answered"]),
            "Channel-Progress-Time": str(self.times["progress"]),
            "Channel-Progress-Media-Time": str(self.times["progress_media"]),
            "Channel-Hangup-Time": str(self.times["hangup"]), "Channel-Transfer-Time": str(self.times["transfer"]),
            "Channel-Resurrect-Time": "0", "Channel-Bridged-Time": str(self.times["bridged"]),
            "Channel-Last-Hold": "0", "Channel-Hold-Accum": "0", "Screen-Bit": "true",
            "Privacy-Hide-Name": "false", "Privacy-Hide-Number": "false",
        })
        out = []
        for key in PROFILE_FIELDS:
            if key.startswith("Callee-") and key not in fields:
                continue
            if prefix == "Other-Leg-" and key == "Profile-Index":
                continue
            out.append((prefix + key, fields.get(key, "")))
        return out

    def channel_data(self, with_vars: bool = True, codec: bool = True) -> list[tuple[str, str]]:
        """State block, codec block, Caller-*, Other-Leg-* and variable_* as FreeSWITCH orders them."""
        h = [("Channel-State", self.state), ("Channel-Call-State", self.callstate),
             ("Channel-State-Number", str(self._state_number())), ("Channel-Name", self.name),
             ("Unique-ID", self.uuid), ("Call-Direction", self.direction),
             ("Presence-Call-Direction", self.direction),
             ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
             ("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid)),
             ("Answer-State", self.answer_state)]
        if self.hangup_cause:
            h.append(("Hangup-Cause", self.hangup_cause))
        if codec:
            name, rate, bits = self.codec
            h += [("Channel-Read-Codec-Name", name), ("Channel-Read-Codec-Rate", str(rate)),
                  ("Channel-Read-Codec-Bit-Rate", str(bits)), ("Channel-Write-Codec-Name", name),
                  ("Channel-Write-Codec-Rate", str(rate)), ("Channel-Write-Codec-Bit-Rate", str(bits))]
            h += self.profile_block("Caller-")
            if self.other_leg is not None:
                h.append(("Other-Type", self.other_type))
                h += self.other_leg.profile_block("Other-Leg-")
        if with_vars:
            h += [("variable_" + k, v) for k, v in self.variables.items()]
        return h

    def _state_number(self) -> int:
        if self.destroyed:
            return 12
        if self.hangup_cause and self.state not in ("CS_HANGUP", "CS_REPORTING"):
            return 10  # FreeSWITCH reports the pending hangup before the state changes
        return STATE_NUMBERS[self.state]

    def event(self, name: str, calling: tuple[str, str, int], *, pre: list[tuple[str, str]] = (),
              extra: list[tuple[str, str]] = (), with_vars: bool = True, codec: bool = True,
              subclass: str | None = None, body: str | None = None) -> SimEvent:
        ev = self.core.base_event(name, calling, subclass=subclass)
        ev.headers += list(pre)
        ev.headers += self.channel_data(with_vars=with_vars, codec=codec)
        ev.headers += list(extra)
        ev.body = body
        return ev

    def fire(self, name: str, calling: tuple[str, str, int], **kw: Any) -> None:
        self.core.fire(self.event(name, calling, **kw))

    def channel_data_event(self) -> SimEvent:
        """The CHANNEL_DATA block sent as the outbound ``connect`` reply (Channel-* profile first)."""
        ev = self.core.base_event("CHANNEL_DATA", ("mod_event_socket.c", "parse_command", 2018))
        ev.headers += [("Channel-" + k[len("Caller-"):], v) for k, v in self.profile_block("Caller-")]
        ev.headers += self.channel_data()
        return ev

    PROFILE_VARIABLES = {
        "destination_number": "Destination-Number", "caller_id_number": "Caller-ID-Number",
        "caller_id_name": "Caller-ID-Name", "ani": "ANI", "context": "Context", "dialplan": "Dialplan",
        "username": "Username", "network_addr": "Network-Addr", "source": "Source",
        "callee_id_name": "Callee-ID-Name", "callee_id_number": "Callee-ID-Number",
    }

    def get_variable(self, name: str) -> str | None:
        """A channel variable, falling back to the caller profile as switch_channel_get_variable does."""
        value = self.variables.get(name)
        if value is None and name in self.PROFILE_VARIABLES:
            value = self.profile.get(self.PROFILE_VARIABLES[name])
        if value is None and name == "uuid":
            value = self.uuid
        return value
