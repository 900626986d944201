"""Typed ESL errors: each failure a caller may want to handle has its own class.

Every error carries the switch's own text (``-ERR invalid session id [..]``)
so logs and the admin UI can show exactly what FreeSWITCH said.
"""

from __future__ import annotations


class EslError(Exception):
    """Base class of everything the ESL layer raises."""


class EslProtocolError(EslError):
    """The peer sent bytes that are not valid ESL; the connection is closed."""


class CommandError(EslError):
    """A command was refused with ``-ERR ...`` in its ``Reply-Text``."""

    def __init__(self, command: str, reply: str) -> None:
        super().__init__(f"{command!r} failed: {reply}")
        self.command = command
        self.reply = reply

    @property
    def reason(self) -> str:
        """The text after ``-ERR`` (``invalid``, ``command not found``...)."""
        text = self.reply
        return text[4:].strip() if text.startswith("-ERR") else text


class AuthenticationError(CommandError):
    """``auth``/``userauth`` was refused (``-ERR invalid``)."""


class CommandNotFound(CommandError):
    """``-ERR command not found``: unknown command, a command sent before auth,
    or (outbound ``getvar``) a variable that is not set."""


class InvalidSession(CommandError):
    """``-ERR invalid session id [<uuid>]`` / ``-ERR invalid uuid``: no such channel."""


def command_error(command: str, reply: str) -> CommandError:
    """The most specific :class:`CommandError` for a ``-ERR`` Reply-Text."""
    verb = command.split(" ", 1)[0].lower()
    if verb in ("auth", "userauth"):
        return AuthenticationError(command, reply)
    reason = reply[4:].strip().lower() if reply.startswith("-ERR") else reply.lower()
    if reason == "command not found":
        return CommandNotFound(command, reply)
    if reason.startswith("invalid session id") or reason == "invalid uuid":
        return InvalidSession(command, reply)
    return CommandError(command, reply)


class ApiError(CommandError):
    """An ``api``/``bgapi`` command answered with ``-ERR``/``-USAGE`` in its body."""


class ConnectionLost(EslError):
    """The connection closed while the command was pending."""


class NotConnected(EslError):
    """The switch is not connected; the command was not sent (fail fast)."""


class CommandTimeout(EslError):
    """No reply came in time; the connection is dropped to resync the reply order."""


class CallHungUp(EslError):
    """The call hung up before (or while) the operation ran."""

    def __init__(self, uuid: str, cause: str = "NORMAL_CLEARING") -> None:
        super().__init__(f"call {uuid} hung up ({cause})")
        self.uuid = uuid
        self.cause = cause
