"""A dialer on the real path: crm_core on the test database, the Switch client and a CallServer over loopback
TCP to the simulator, every timer on one ``task.Clock``.

The simulator's ``hotline_campaign`` route is the campaign context of
``dialplans/campaign/outbound.xml``: mark the leg, keep it after a bridge,
``socket`` to the engine, hang up if the engine lets go.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from twisted.internet import defer, reactor

from acd.dialer.agents import PhoneAgents
from acd.dialer.dialer import Dialer, DialerConfig
from hotline.db_gateway import InlineGateway
from crm_core.models import CampaignAttempt
from crm_core.services.campaign_contacts import ContactRow, add_contacts
from crm_core.services.campaigns import Actor, change_campaign_status, create_campaign, set_questions
from freeswitch.callserver import CallServer
from hotline.sim_dialplan import install_campaign
from loopback_clock import LoopbackClock

ME = Actor("manager")
UTC = dt.timezone.utc
#: Wednesday 25 November 2026, 10:00 in Shanghai
WEDNESDAY_10AM = dt.datetime(2026, 11, 25, 2, 0, tzinfo=UTC).timestamp()


class DialerRig:
    def __init__(self, tmp_path: Any, session: Any, *, start: float = WEDNESDAY_10AM) -> None:
        self.tmp_path = tmp_path
        self.session = session
        self.loop = LoopbackClock(tmp_path, epoch=start)
        self.clock = self.loop.clock
        self.sim = self.loop.sim
        self.servers: list[CallServer] = []
        self.dialer: Dialer | None = None
        self.switch: Any = None
        self.agents: PhoneAgents | None = None
        self.campaign_agents: list[tuple[int, str]] = []

    async def start(self, *, engine_id: str = "box-1", agents: int = 2, phone: dict | None = None,
                    script: Any = None, **config: Any) -> Dialer:
        """A dialer (and its own CallServer and Switch client), with ``agents`` dedicated agents.

        ``script``: the automated campaigns' runner, or a callable ``(rig) -> runner`` building it once the
        switch is up."""
        self.switch = await self.loop.switch()
        gateway = InlineGateway(self.session)
        self.agents = PhoneAgents(self.clock, self.switch, wrap_up=2.0)
        if callable(script) and not hasattr(script, "run"):
            script = script(self)
        self.dialer = Dialer(self.clock, self.switch, gateway, self.agents,
                             DialerConfig(engine_id=engine_id, identification_file="campaigns/identification.wav",
                                          **{"amd_available": True, **config}), script=script)
        server = CallServer(self.dialer.handle_call, self.clock, linger=True)
        server.start(reactor, "127.0.0.1", 0)
        self.servers.append(server)
        self.sim.core.socket_target = ("127.0.0.1", server.listening_port)  # this engine's CallServer
        install_campaign(self.sim)
        import factories

        for n in range(agents):
            extension = str(1001 + n)
            self.sim.directory.register(extension, **{"answer_after": 0.3, **(phone or {})})
            self.campaign_agents.append((factories.make_agent(self.session).id, extension))
        return self.dialer

    def staff(self, campaign_id: int) -> None:
        """The rig's agents (rows in ``agents``, phones in the simulator) work on this campaign."""
        assert self.agents is not None
        for agent_id, extension in self.campaign_agents:
            self.agents.add(agent_id, extension, [campaign_id])

    async def run(self, seconds: float) -> None:
        await self.loop.advance(seconds)

    def campaign(self, numbers: list[str], *, data: list[dict] | None = None, questions: list[dict] | None = None,
                 **settings: Any) -> Any:
        """A running campaign calling ``numbers`` (merge fields ``data`` per number, survey ``questions``)."""
        settings.setdefault("mode", "progressive")
        settings.setdefault("caller_id", "4008001234")
        settings.setdefault("calling_hours_start", dt.time(8, 0))
        row = create_campaign(self.session, f"Rig {id(self)}-{len(numbers)}-{self.clock.seconds()}", actor=ME,
                              **settings)
        fields = data or [{"name": f"n{i}"} for i in range(len(numbers))]
        add_contacts(self.session, row.id, [ContactRow(n, f) for n, f in zip(numbers, fields)])
        if questions:
            set_questions(self.session, row.id, questions, actor=ME)
        change_campaign_status(self.session, row.id, "running", actor=ME, at=self.now())
        self.staff(row.id)
        return row

    def sound(self, name: str, seconds: float) -> str:
        """An 8 kHz WAV of ``seconds`` in the simulator's sounds folder (what ``playback name`` plays)."""
        import wave

        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(b"\x00\x10" * int(seconds * 8000))
        return name

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.seconds(), UTC)

    def attempts(self, campaign_id: int) -> list[CampaignAttempt]:
        from sqlalchemy import select

        self.session.expire_all()
        return list(self.session.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)
                                         .order_by(CampaignAttempt.id)))

    def dialled(self) -> list[str]:
        """Destination numbers the switch was asked to dial (every originate, in order)."""
        return list(self.originated)

    def watch_originates(self) -> None:
        self.originated: list[str] = []
        self.legs: dict[str, Any] = {}
        self.played: list[tuple[str, str]] = []  # (channel uuid, file) of every playback

        def on(kind: str, data: dict) -> None:
            if kind == "app" and data["app"] == "playback":
                self.played.append((data["channel"].uuid, data["arg"]))
            if kind == "leg_create" and data["target"].startswith("sofia/gateway/"):
                channel = data["channel"]
                self.originated.append(channel.profile["Destination-Number"])
                self.legs[channel.uuid] = channel

        self.sim.core.listeners.append(on)

    async def stop(self) -> None:
        if self.dialer is not None:
            self.dialer.stop()
        await self.loop.stop()
        for server in self.servers:
            await server.stop_listening()


def make(tmp_path: Any, session: Any, **kw: Any) -> DialerRig:
    rig = DialerRig(tmp_path, session, **kw)
    rig.watch_originates()
    return rig


def finish(rig: DialerRig) -> None:
    import pytest_twisted

    pytest_twisted.blockon(defer.ensureDeferred(rig.stop()))
