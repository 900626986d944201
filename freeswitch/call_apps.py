"""Typed wrappers of the dialplan applications IVR and ACD use, and their results.

FreeSWITCH reports most outcomes in channel variables of the
``CHANNEL_EXECUTE_COMPLETE`` rather than in ``Application-Response`` (which is
``_none_`` for answer, bridge, record, read, play_and_get_digits..., as the
captures in ``tests/data/fs-traces.tar.xz`` show). These wrappers build the argument strings
FreeSWITCH expects and turn those variables into small result objects, so
callers never parse ESL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

from twisted.internet import defer
from twisted.python.failure import Failure

from freeswitch.esl.events import Event

#: Dial outcomes that mean the far end answered and was bridged.
_BRIDGED = frozenset({"SUCCESS", "ANSWER"})


def _vars(event: Mapping[str, str]) -> dict[str, str]:
    return {k[9:]: v for k, v in event.items() if k.startswith("variable_")}


@dataclass(frozen=True, slots=True)
class PlaybackResult:
    """``response`` is ``FILE PLAYED`` or ``FILE NOT FOUND``; ``terminator`` the key that stopped it, if any."""

    response: str
    terminator: str | None = None

    @property
    def played(self) -> bool:
        return self.response == "FILE PLAYED"


@dataclass(frozen=True, slots=True)
class RecordResult:
    """Details of a ``record``: length (from record_ms/record_seconds) and how it ended."""

    path: str
    record_ms: int | None
    record_seconds: int | None
    terminator: str | None
    hung_up: bool = False
    variables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_event(cls, path: str, event: Mapping[str, str], hung_up: bool = False) -> "RecordResult":
        variables = _vars(event)
        return cls(path, _int(variables.get("record_ms")), _int(variables.get("record_seconds")),
                   variables.get("playback_terminator_used") or None, hung_up, variables)


@dataclass(frozen=True, slots=True)
class BridgeOutcome:
    """How a ``bridge`` ended, from originate_disposition / DIALSTATUS / *_cause variables."""

    success: bool
    disposition: str  # originate_disposition: SUCCESS, USER_BUSY, NO_ANSWER, ...
    dialstatus: str  # DIALSTATUS: SUCCESS, BUSY, NOANSWER, ...
    hangup_cause: str  # why the attempt failed, or how the bridged leg ended
    other_uuid: str | None
    variables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, str]) -> "BridgeOutcome":
        v = _vars(event)
        disposition = v.get("originate_disposition", "")
        success = disposition in _BRIDGED
        if success:
            cause = v.get("bridge_hangup_cause") or v.get("last_bridge_hangup_cause") or ""
        else:  # bridge_hangup_cause is stale from earlier bridges; the failed cause is current
            cause = v.get("originate_failed_cause") or disposition
        other = v.get("bridge_uuid") or event.get("Other-Leg-Unique-ID") if success else None
        return cls(success, disposition, v.get("DIALSTATUS", ""), cause, other, v)


@dataclass(frozen=True, slots=True)
class FaxResult:
    """Outcome of txfax/rxfax from the fax_* channel variables."""

    success: bool
    result_code: str
    result_text: str
    pages: int | None
    variables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, str]) -> "FaxResult":
        v = _vars(event)
        return cls(v.get("fax_success") == "1", v.get("fax_result_code", ""), v.get("fax_result_text", ""),
                   _int(v.get("fax_document_transferred_pages")), v)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def file_list(files: str | Sequence[str]) -> str:
    """One playback argument for several files (``file_string://a!b``)."""
    if isinstance(files, str):
        return files
    files = list(files)
    if not files:
        raise ValueError("playback needs at least one file")
    if len(files) == 1:
        return files[0]
    return "file_string://" + "!".join(files)


class ExecuteComplete(Event):
    """The ``CHANNEL_EXECUTE_COMPLETE`` that ended an ``execute``: an :class:`Event` with shortcuts."""

    __slots__ = ()

    @property
    def application(self) -> str:
        return self.headers.get("Application", "")

    @property
    def response(self) -> str:
        """``Application-Response`` (``_none_`` for most apps, ``FILE PLAYED`` for playback)."""
        return self.headers.get("Application-Response", "")

    @property
    def variables(self) -> dict[str, str]:
        """Every ``variable_*`` header, without the prefix."""
        return {k[9:]: v for k, v in self.headers.items() if k.startswith("variable_")}


class CallApps:
    """Typed application methods mixed into :class:`freeswitch.call.Call`."""

    uuid: str
    transferred: bool

    if TYPE_CHECKING:
        def execute(self, app: str, arg: str | None = None,
                    timeout: float | None = None) -> defer.Deferred: ...

    def answer(self) -> defer.Deferred:
        """Answer the call; fires with the completion event."""
        return self.execute("answer")

    def pre_answer(self) -> defer.Deferred:
        """Send early media (183) without answering."""
        return self.execute("pre_answer")

    def playback(self, files: str | Sequence[str]) -> defer.Deferred:
        """Play one file or a list in order; Deferred of :class:`PlaybackResult`."""
        def result(event: ExecuteComplete) -> PlaybackResult:
            return PlaybackResult(event.response, event.variable("playback_terminator_used") or None)
        return self.execute("playback", file_list(files)).addCallback(result)

    def play_and_get_digits(
        self, min_digits: int, max_digits: int, tries: int, timeout_ms: int, terminators: str,
        file: str, invalid_file: str = "silence_stream://250", var_name: str = "hotline_digits",
        regexp: str = r"\d+", digit_timeout_ms: int | None = None, transfer_on_failure: str | None = None,
    ) -> defer.Deferred:
        """Prompt and collect digits; Deferred of the digits (``""`` when nothing valid was entered).

        Use a fresh ``var_name`` per prompt: the digits are read from
        ``variable_<var_name>`` of the completion event.
        """
        args = [str(min_digits), str(max_digits), str(tries), str(timeout_ms), terminators or "none",
                file, invalid_file, var_name, regexp]
        if digit_timeout_ms is not None or transfer_on_failure is not None:
            args.append(str(digit_timeout_ms if digit_timeout_ms is not None else timeout_ms))
        if transfer_on_failure is not None:
            args.append(transfer_on_failure)
        return self.execute("play_and_get_digits", " ".join(args)).addCallback(
            lambda event: event.variable(var_name) or "")

    def read(self, min_digits: int, max_digits: int, file: str, var_name: str = "hotline_read",
             timeout_ms: int = 5000, terminators: str = "#") -> defer.Deferred:
        """``read`` app: Deferred of the digits (``""`` on timeout); ``read_result`` stays in ``variables``."""
        arg = f"{min_digits} {max_digits} {file} {var_name} {timeout_ms} {terminators or 'none'}"
        return self.execute("read", arg).addCallback(lambda event: event.variable(var_name) or "")

    def record(self, path: str, time_limit_s: int | None = None, silence_threshold: int | None = None,
               silence_hits: int | None = None) -> defer.Deferred:
        """Record the caller to ``path``; Deferred of :class:`RecordResult`.

        Hanging up is how callers end voicemails, so a hang-up during the
        recording resolves with ``hung_up=True`` when FreeSWITCH reports the
        completion (the partial file is kept).
        """
        args = [path] + [str(a) for a in (time_limit_s, silence_threshold, silence_hits) if a is not None]

        def hung_up(failure: Failure) -> RecordResult | Failure:
            event = getattr(failure.value, "event", None)
            if event is None:
                return failure
            return RecordResult.from_event(path, event, hung_up=True)

        return self.execute("record", " ".join(args)).addCallbacks(
            lambda event: RecordResult.from_event(path, event), hung_up)

    def bridge(self, dial_string: str, continue_on_fail: bool | None = None) -> defer.Deferred:
        """Bridge to ``dial_string``; Deferred of :class:`BridgeOutcome` once the bridge ends.

        Without ``continue_on_fail`` FreeSWITCH hangs the caller up when the
        bridge fails, and the Deferred fails with CallHungUp (cause = dial failure).
        """
        d = defer.succeed(None)
        if continue_on_fail is not None:
            d = self.set_var("continue_on_fail", "true" if continue_on_fail else "false")
        d.addCallback(lambda _: self.execute("bridge", dial_string))
        return d.addCallback(BridgeOutcome.from_event)

    def transfer(self, extension: str, dialplan: str = "XML", context: str = "default") -> defer.Deferred:
        """Send the call to another extension; the call leaves this socket's control."""
        def moved(event: ExecuteComplete) -> ExecuteComplete:
            self.transferred = True
            return event
        return self.execute("transfer", f"{extension} {dialplan} {context}").addCallback(moved)

    def set_var(self, name: str, value: str) -> defer.Deferred:
        """Set a channel variable (``set``); an empty value unsets it."""
        return self.execute("set", f"{name}={value}").addCallback(lambda _: None)

    def export_var(self, name: str, value: str) -> defer.Deferred:
        """Set a variable here and on legs bridged later (``export``)."""
        return self.execute("export", f"{name}={value}").addCallback(lambda _: None)

    def unset_var(self, name: str) -> defer.Deferred:
        """Remove a channel variable."""
        return self.execute("unset", name).addCallback(lambda _: None)

    def set_vars(self, variables: Mapping[str, str]) -> defer.Deferred:
        """Set several variables in one ``multiset`` (``^^`` picks a delimiter absent from the values)."""
        pairs = [f"{k}={v}" for k, v in variables.items()]
        if not pairs:
            return defer.succeed(None)
        joined = "".join(pairs)
        delimiter = next((c for c in "|;~!,^" if c not in joined), None)
        if delimiter is None:
            raise ValueError("no free delimiter for multiset")
        return self.execute("multiset", f"^^{delimiter}" + delimiter.join(pairs)).addCallback(lambda _: None)

    def park(self) -> defer.Deferred:
        """``park`` (FreeSWITCH refuses it on an async outbound socket and completes at once)."""
        return self.execute("park")

    def sleep(self, ms: int) -> defer.Deferred:
        """Wait ``ms`` milliseconds on the channel (media keeps flowing)."""
        return self.execute("sleep", str(int(ms))).addCallback(lambda _: None)

    def txfax(self, path: str, ident: str | None = None, header: str | None = None) -> defer.Deferred:
        """Send a TIFF fax; Deferred of :class:`FaxResult`."""
        extra = {k: v for k, v in (("fax_ident", ident), ("fax_header", header)) if v is not None}
        d = self.set_vars(extra) if extra else defer.succeed(None)
        d.addCallback(lambda _: self.execute("txfax", path))
        return d.addCallback(FaxResult.from_event)

    def rxfax(self, path: str) -> defer.Deferred:
        """Receive a fax into ``path``; Deferred of :class:`FaxResult`."""
        return self.execute("rxfax", path).addCallback(FaxResult.from_event)

