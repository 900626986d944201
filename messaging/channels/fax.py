"""Fax out through FreeSWITCH: ``originate <dial string> &txfax(<tiff>)``, result from ``spandsp::txfaxresult``.

The call is placed with ``bgapi originate`` (station id and page header as
``fax_ident`` / ``fax_header``, a channel uuid derived from the message key
and attempt). Its answer only says the far end picked up; the fax's fate is
the ``spandsp::txfaxresult`` CUSTOM event of that channel (``fax-success``,
``fax-result-code``, ``fax-result-text``, pages), which comes before the
channel's CHANNEL_HANGUP_COMPLETE. A call that hangs up with no result, a
busy line or no answer is retried later; a refused file or a number that
does not exist is not.

After a restart (the claim was recovered, so the last attempt's outcome is
unknown), a message whose previous attempt's call is still up on the switch
is not dialled again: the adapter waits for that call's result.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from twisted.internet import defer

from crm_core.services.outbox_dispatch import ClaimedMessage
from freeswitch.esl.errors import ApiError, EslError
from messaging.channels.base import Listener, PermanentSendError, SendResult, TransientSendError
from messaging.channels.dialing import attempt_uuid, dial_string, originate_error

log = logging.getLogger(__name__)

TXFAX_RESULT = "spandsp::txfaxresult"
#: spandsp completion codes for a file it cannot send (T30_ERR_FILEERROR .. T30_ERR_BADTIFFHDR): never retried
FILE_ERRORS = frozenset(range(41, 47))
#: seconds to wait for a txfaxresult that is still in flight once the channel is gone
RESULT_GRACE = 2.0


def fax_result(event: Any) -> dict[str, Any]:
    """The spandsp result headers of a txfax/rxfax result event, typed."""
    def number(name: str) -> int | None:
        value = event.get(name)
        return int(value) if value and value.lstrip("-").isdigit() else None

    return {"fax_success": event.get("fax-success") == "1", "result_code": number("fax-result-code"),
            "result_text": event.get("fax-result-text") or "", "pages": number("fax-document-transferred-pages") or 0,
            "total_pages": number("fax-document-total-pages"), "remote_station_id": event.get("fax-remote-station-id"),
            "local_station_id": event.get("fax-local-station-id"),
            "transfer_rate": number("fax-transfer-rate"), "hangup_cause": event.get("Hangup-Cause")}


class FreeswitchFaxAdapter:
    """Sends each fax as one outbound call running ``txfax``."""

    kind = "freeswitch"

    def __init__(self, switch: Any, clock: Any, *, dial_template: str = "sofia/gateway/itsp/{national}",
                 caller_id: str = "", station_id: str = "", header: str = "", originate_timeout: int = 60,
                 fax_timeout: float = 600.0, max_in_flight: int = 2) -> None:
        self.switch, self.clock = switch, clock
        self.dial_template, self.caller_id = dial_template, caller_id
        self.station_id, self.header = station_id, header
        self.originate_timeout, self.fax_timeout = originate_timeout, fax_timeout
        self.max_in_flight = max_in_flight
        self.lease_seconds = originate_timeout + fax_timeout + 60.0
        self._waiting: dict[str, defer.Deferred] = {}
        self._started = False

    def start(self, listener: Listener) -> None:
        if not self._started:
            self.switch.subscribe("CUSTOM", self._on_result, subclass=TXFAX_RESULT)
            self.switch.subscribe("CHANNEL_HANGUP_COMPLETE", self._on_hangup)
            self._started = True

    def stop(self) -> None:
        if self._started:
            self.switch.unsubscribe("CUSTOM", self._on_result, subclass=TXFAX_RESULT)
            self.switch.unsubscribe("CHANNEL_HANGUP_COMPLETE", self._on_hangup)
            self._started = False
        waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            if not waiter.called:
                waiter.errback(TransientSendError("engine stopping while the fax was in progress"))

    def variables(self, message: ClaimedMessage) -> dict[str, str]:
        """The channel variables of the fax call."""
        out = {"fax_ident": self.station_id, "fax_header": self.header, "fax_use_ecm": "true",
               "hotline_outbox_id": str(message.id), "ignore_early_media": "true",
               "originate_timeout": str(self.originate_timeout)}
        if self.caller_id:
            out["origination_caller_id_number"] = self.caller_id
        return {k: v for k, v in out.items() if v}

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        return defer.ensureDeferred(self._send(message))

    async def _send(self, message: ClaimedMessage) -> SendResult:
        if not message.attachment_path:
            raise PermanentSendError("no fax document was rendered for this message")
        earlier = await self._call_still_up(message) if message.recovered else None
        if earlier is not None:
            log.info("fax %d: attempt call %s is still up after a restart; waiting for its result", message.id,
                     earlier)
            return await self._await_result(earlier)
        uuid = attempt_uuid(message.idempotency_key, message.attempts)
        waiter = self._expect(uuid)
        try:
            await self.switch.originate(dial_string(self.dial_template, message.recipient),
                                        f"&txfax({message.attachment_path})", self.variables(message),
                                        timeout=self.originate_timeout, origination_uuid=uuid)
        except ApiError as exc:
            self._waiting.pop(uuid, None)
            raise originate_error(exc.reason) from None
        except EslError as exc:
            self._waiting.pop(uuid, None)
            raise TransientSendError(f"switch unavailable: {exc}") from None
        return await self._await_result(uuid, waiter)

    async def _call_still_up(self, message: ClaimedMessage) -> str | None:
        """The uuid of an earlier attempt's call still on the switch (the engine restarted meanwhile)."""
        for attempt in range(message.attempts - 1, max(message.attempts - 3, 0), -1):
            uuid = attempt_uuid(message.idempotency_key, attempt)
            try:
                if await self.switch.uuid_exists(uuid):
                    return uuid
            except EslError:
                return None
        return None

    def _expect(self, uuid: str) -> defer.Deferred:
        waiter: defer.Deferred = defer.Deferred()
        self._waiting[uuid] = waiter
        return waiter

    async def _await_result(self, uuid: str, waiter: defer.Deferred | None = None) -> SendResult:
        waiter = waiter or self._waiting.get(uuid) or self._expect(uuid)
        waiter.addTimeout(self.fax_timeout, self.clock)
        try:
            result = await waiter
        except defer.TimeoutError:
            raise TransientSendError(f"no fax result within {self.fax_timeout:.0f}s (call {uuid})") from None
        finally:
            self._waiting.pop(uuid, None)
        if result["fax_success"]:
            return SendResult("delivered", uuid, result)
        text = f"fax failed: {result['result_text'] or 'no result'} (code {result['result_code']})"
        if result["result_code"] in FILE_ERRORS:
            raise PermanentSendError(text, result=result, provider_message_id=uuid)
        raise TransientSendError(text, result=result, provider_message_id=uuid)

    def _on_result(self, event: Any) -> None:
        waiter = self._waiting.get(event.uuid)
        if waiter is not None and not waiter.called:
            waiter.callback(fax_result(event))

    def _on_hangup(self, event: Any) -> None:
        uuid = event.uuid
        if uuid in self._waiting:
            cause = event.get("Hangup-Cause") or "NORMAL_CLEARING"
            self.clock.callLater(RESULT_GRACE, self._no_result, uuid, cause)

    def _no_result(self, uuid: str, cause: str) -> None:
        waiter = self._waiting.get(uuid)
        if waiter is not None and not waiter.called:
            waiter.callback({"fax_success": False, "result_code": None,
                             "result_text": f"call ended ({cause}) before the fax was sent", "pages": 0,
                             "total_pages": None, "remote_station_id": None, "transfer_rate": None,
                             "hangup_cause": cause})


SwitchProvider = Callable[[], Any]
