"""Voice notifications: call the number through FreeSWITCH and speak the message (TTS rendered beforehand).

The text is rendered to an 8 kHz WAV by the engine's prompt renderer (handed
in as ``speak``), then ``originate <dial string> &playback(<wav>)`` calls the
customer. An answered call counts as delivered; busy, no answer and
congestion are retried later; a number that does not exist is not.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet import defer

from crm_core.services.outbox_dispatch import ClaimedMessage
from freeswitch.esl.errors import ApiError, EslError
from messaging.channels.base import Listener, PermanentSendError, SendResult, TransientSendError
from messaging.channels.dialing import attempt_uuid, dial_string, originate_error

#: speak(text, language) -> Deferred of the path of a WAV file the switch can play
Speak = Callable[[str, str], defer.Deferred]


class FreeswitchVoiceAdapter:
    """Each message one outbound call that plays the spoken text once answered."""

    kind = "freeswitch"

    def __init__(self, switch: Any, speak: Speak, *, dial_template: str = "sofia/gateway/itsp/{national}",
                 caller_id: str = "", originate_timeout: int = 45, max_in_flight: int = 4) -> None:
        self.switch, self.speak = switch, speak
        self.dial_template, self.caller_id = dial_template, caller_id
        self.originate_timeout, self.max_in_flight = originate_timeout, max_in_flight
        self.lease_seconds = originate_timeout + 120.0

    def start(self, listener: Listener) -> None:
        """Nothing to subscribe: the originate answer is the outcome."""

    def stop(self) -> None:
        """Calls in progress finish on the switch by themselves."""

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        return defer.ensureDeferred(self._send(message))

    async def _send(self, message: ClaimedMessage) -> SendResult:
        try:
            wav = await self.speak(message.body, message.language)
        except Exception as exc:
            raise TransientSendError(f"speech not rendered: {exc}") from None
        uuid = attempt_uuid(message.idempotency_key, message.attempts)
        variables = {"hotline_outbox_id": str(message.id), "originate_timeout": str(self.originate_timeout)}
        if self.caller_id:
            variables["origination_caller_id_number"] = self.caller_id
        try:
            await self.switch.originate(dial_string(self.dial_template, message.recipient), f"&playback({wav})",
                                        variables, timeout=self.originate_timeout, origination_uuid=uuid)
        except ApiError as exc:
            raise originate_error(exc.reason) from None
        except EslError as exc:
            raise TransientSendError(f"switch unavailable: {exc}") from None
        except PermanentSendError:
            raise
        return SendResult("delivered", uuid, {"answered": True, "prompt": wav})
