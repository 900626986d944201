"""IVR runtime rig: switch simulator -> loopback ESL -> CallServer -> IvrApplication, on a real database.

Prompts are short real WAV files (one per prompt id and language, written with
the ``wave`` module, with a ``.txt`` beside each so the simulator's transcript
names what the caller heard). The database is a committed SQLite file migrated
by Alembic, because the gateway's pool threads use their own connections.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Mapping

import pytest
import pytest_twisted
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from transcripts import prompts_heard

PROMPT_SECONDS = 0.12


def _catalogue() -> Any:
    from ivr.prompts.catalogue import Catalogue

    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = Catalogue.load()
    return _CATALOGUE


_CATALOGUE = None


class WavPromptPlayer:
    """PromptPlayer writing ``<lang>/<prompt id>.wav`` (+ ``.txt``); values go into the file name.

    The ``.txt`` holds the catalogue's words with the values spoken (what a
    caller would hear), or ``<id> <values>`` for a prompt the catalogue lacks.
    """

    def __init__(self, root: Path, seconds: float = PROMPT_SECONDS) -> None:
        self.root = root
        self.seconds = seconds
        self.requests: list[tuple[str | None, str, dict[str, Any]]] = []

    def files(self, prompt_id: str | None, lang: str, text: Mapping[str, str] | None = None,
              **variables: Any) -> defer.Deferred:
        self.requests.append((prompt_id, lang, variables))
        if text and text.get(lang):
            name, words = f"text-{abs(hash(text[lang])) % 10**8}", text[lang]
        elif prompt_id:
            suffix = "".join(f"_{k}-{v}" for k, v in sorted(variables.items()))
            name, words = prompt_id + suffix.replace("/", "-").replace(" ", "-"), f"{prompt_id} {variables}"
            if prompt_id in _catalogue():
                try:
                    words = _catalogue().render_text(prompt_id, lang, **variables)
                except Exception as exc:  # the session asked with the wrong values: show it
                    words = f"{prompt_id} {variables} !! {exc}"
        else:
            return defer.fail(KeyError("nothing to say"))
        path = self.root / lang / f"{name}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(b"\x00\x00" * int(self.seconds * 8000))
            path.with_suffix(".txt").write_text(words, encoding="utf-8")
        return defer.succeed([str(path)])


@pytest.fixture
def crm_db(database_maker: Callable[[str], str]) -> Iterator[sessionmaker[Session]]:
    """A fresh migrated SQLite database; yields a session factory (tests commit for real)."""
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade

    url = database_maker("sqlite")
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


class Rig:
    """Everything one runtime test needs, wired like the engine does."""

    def __init__(self, tmp: Path, factory: sessionmaker[Session]) -> None:
        from freeswitch.callserver import CallServer
        from freeswitch.sim.simulator import Simulator
        from ivr.crm_gateway import CrmGateway
        from ivr.runtime.app import IvrApplication
        from ivr.runtime.handoff import TransferHandoff
        from ivr.runtime.session import IvrConfig

        self.factory = factory
        self.prompts = WavPromptPlayer(tmp / "prompts")
        from hotline.db_gateway import ThreadPoolGateway

        self.db = ThreadPoolGateway(factory, reactor, max_threads=4)
        self.gateway = CrmGateway(self.db)
        self.handoff = TransferHandoff("agents")
        self.config = IvrConfig(recordings_dir=tmp / "recordings", input_timeout=1.5, digit_timeout=0.8,
                                min_recording_ms=500, complaint_max_seconds=5)
        from hotline.recorder import CallRecorder

        self.recorder = CallRecorder(self.db, reactor)  # every call's CDR, as in the engine
        self.app = IvrApplication(self.gateway, self.prompts, clock=reactor, handoff=self.handoff,
                                  config=self.config, recorder=self.recorder)

        async def handle(call: Any) -> None:  # what the engine's CallRouter does before the IVR runs
            self.recorder.entered(call)
            await self.app.handle(call)

        self.server = CallServer(handle, reactor)
        self.server.start(reactor, "127.0.0.1", 0)
        self.sim = Simulator(reactor, port=0, socket_port=self.server.listening_port, sounds_dir=tmp / "sounds",
                             recordings_dir=tmp / "sim-recordings")
        self.sim.start()
        self.sim.set_target("agents", "park")

    def publish(self, menu: Any) -> Any:
        from crm_core.db import transaction
        from ivr.menu.store import import_and_publish

        with transaction(self.factory) as session:
            return import_and_publish(session, menu, by="test")

    async def call(self, script: str, ani: str = "13800138000", dnis: str = "4008001234",
                   timeout: float = 30.0) -> Any:
        """Place a simulated call, wait until it ended and the IVR finished its records."""
        call = self.sim.place_call(ani, dnis, script)
        finished = call.finished
        waited = 0.0
        while not finished.called and waited < timeout:
            await deferLater(reactor, 0.05, lambda: None)
            waited += 0.05
        assert finished.called, f"call still up after {timeout}s: {prompts_heard(call)}"
        for _ in range(100):  # bounded: the handler flushes its interaction log after the hang-up
            if not self.app.sessions:
                break
            await deferLater(reactor, 0.05, lambda: None)
        await self.records_written()
        return call

    async def records_written(self) -> None:
        """Wait until the batched CDR writes queued so far are committed (batches run in order, so a marker
        write queued after them fires once they are in)."""
        await self.db.write_batched(lambda session, items: [None] * len(items), None)

    def stop(self) -> defer.Deferred:
        self.gateway.stop()
        d = defer.maybeDeferred(self.sim.stop)
        d.addBoth(lambda _: self.server.stop_listening())
        return d


@pytest.fixture
def rig(tmp_path: Path, crm_db: sessionmaker[Session]) -> Iterator[Rig]:
    r = Rig(tmp_path, crm_db)
    yield r
    pytest_twisted.blockon(r.stop())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_crm_db(request: pytest.FixtureRequest, database_maker: Callable[[str], str]) -> Iterator[sessionmaker[Session]]:
    """A fresh migrated database on each backend (PostgreSQL with HOTLINE_TEST_PG_URL); a session factory."""
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade

    url = database_maker(request.param)
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def rig_on_both(tmp_path: Path, any_crm_db: sessionmaker[Session]) -> Iterator[Rig]:
    """The runtime rig on SQLite, then on PostgreSQL."""
    r = Rig(tmp_path, any_crm_db)
    yield r
    pytest_twisted.blockon(r.stop())
