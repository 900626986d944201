"""ACD errors with stable ids: the agent desk and the admin UI map ``error_id`` to a message."""

from __future__ import annotations


class AcdError(Exception):
    """Base of every ACD domain error; ``error_id`` never changes once published."""

    error_id = "acd-error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class UnknownAgent(AcdError):
    error_id = "acd-unknown-agent"


class UnknownQueue(AcdError):
    error_id = "acd-unknown-queue"


class IllegalTransition(AcdError):
    """An agent state change the state machine does not allow (e.g. logged_out -> on_call)."""

    error_id = "acd-illegal-transition"


class NotLoggedIn(AcdError):
    error_id = "acd-agent-not-logged-in"


class NotAMember(AcdError):
    """The agent is not logged into that queue."""

    error_id = "acd-agent-not-a-member"


class QueueFull(AcdError):
    error_id = "acd-queue-full"


class AlreadyQueued(AcdError):
    error_id = "acd-call-already-queued"


class UnknownStrategy(AcdError):
    error_id = "acd-unknown-strategy"


class CallbackUnavailable(AcdError):
    """The callback request is done, failed, or claimed by another agent."""

    error_id = "acd-callback-unavailable"


class NoSuchCall(AcdError):
    """No live call with that uuid for this agent (transfers, supervision)."""

    error_id = "acd-no-such-call"


class NotOnCall(AcdError):
    """The agent has no live, answered call to transfer or supervise."""

    error_id = "acd-agent-not-on-call"


class TargetUnavailable(AcdError):
    """The transfer/consult target or the supervisor's phone could not be reached (``details["cause"]``)."""

    error_id = "acd-target-unavailable"


class TransferInProgress(AcdError):
    """The call already has a transfer or consultation running."""

    error_id = "acd-transfer-in-progress"


class ConsultationState(AcdError):
    """complete()/cancel() of a consultation that is not talking (still ringing, or over)."""

    error_id = "acd-consultation-state"


class UnknownSupervisionMode(AcdError):
    error_id = "acd-unknown-supervision-mode"


class SwitchCommandFailed(AcdError):
    """The switch refused a transfer/supervision command (``details["error"]``)."""

    error_id = "acd-switch-command-failed"
