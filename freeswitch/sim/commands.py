"""Which handler an event-socket command line goes to, by mod_event_socket's own matching rules.

FreeSWITCH (1.10/1.11, ``parse_command`` in mod_event_socket.c) does not
split a command into a word and arguments. It tests the line against each
command word in a fixed order, with ``strncasecmp``:

* case never matters (``AUTH ClueCon``, ``Api status``, ``EXIT``);
* most words match as a *prefix*, whatever follows: ``events plain ALL`` and
  ``eventfoo plain ALL`` are ``event``, ``logfoo`` is ``log``, ``exited`` is
  ``exit``, and ``...`` is exit too;
* a few only with the space after them: ``auth ``, ``userauth ``,
  ``filter ``, ``api ``, ``bgapi `` (so a bare ``api`` or ``filter`` is not a
  command), and ``myevents `` on a connection not yet bound to a channel;
* what exists depends on the connection: before ``auth`` only
  auth/userauth/exit; ``connect``, ``getvar`` and ``resume`` only on a
  connection bound to a channel (an outbound socket, or an inbound one after
  ``myevents <uuid>`` found the channel); an outbound socket without ``full``
  control knows nothing after ``sendmsg``;
* a line holding both ``unload`` (or ``reload``) and ``mod_event_socket``
  anywhere, in any case, is replaced by ``api bgapi unload|reload
  mod_event_socket``.

The order matters (``nolinger`` is tested before ``nolog``, ``log`` before
``linger``). :func:`match_command` returns the handler's word and the text
after the matched characters, untouched: each handler reads its arguments
the way the C code does (``linger`` takes a number only right after one
space, ``getvar`` the text after the line's first space...). Anything else
is ``-ERR command not found``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: (word, characters compared) after the session-bound block, in the C code's order
_FULL_CONTROL = (("sendevent", "sendevent"), ("api", "api "), ("bgapi", "bgapi "), ("log", "log"),
                 ("linger", "linger"), ("nolinger", "nolinger"), ("nolog", "nolog"), ("event", "event"),
                 ("nixevent", "nixevent"), ("noevents", "noevents"))


@dataclass(frozen=True)
class CommandMatch:
    """The handler (``word``), the rest of the line after the matched characters, and the line as handled."""

    word: str
    tail: str
    line: str


def _starts(line: str, prefix: str) -> bool:
    return line[: len(prefix)].lower() == prefix


def rewrite_module_commands(line: str) -> str:
    """FreeSWITCH's own rewrite: (un|re)loading mod_event_socket from its socket runs in the background."""
    lower = line.lower()
    if "mod_event_socket" in lower:
        if "unload" in lower:
            return "api bgapi unload mod_event_socket"
        if "reload" in lower:
            return "api bgapi reload mod_event_socket"
    return line


def match_command(line: str, *, authed: bool, bound: bool, outbound: bool = False,
                  full: bool = True) -> CommandMatch | None:
    """The handler for ``line`` on a connection in this state, or None (``-ERR command not found``)."""
    line = rewrite_module_commands(line)

    def hit(word: str, prefix: str) -> CommandMatch:
        return CommandMatch(word, line[len(prefix):], line)

    if _starts(line, "exit") or _starts(line, "..."):
        return CommandMatch("exit", "", line)
    if not authed:
        for word, prefix in (("auth", "auth "), ("userauth", "userauth ")):
            if _starts(line, prefix):
                return hit(word, prefix)
        return None
    if _starts(line, "filter "):
        return hit("filter", "filter ")
    if bound and _starts(line, "resume"):
        return hit("resume", "resume")
    if bound or _starts(line, "myevents "):
        for word in ("connect", "getvar", "myevents"):
            if _starts(line, word):
                return hit(word, word)
    for word in ("divert_events", "sendmsg"):
        if _starts(line, word):
            return hit(word, word)
    if outbound and not full:
        return None
    for word, prefix in _FULL_CONTROL:
        if _starts(line, prefix):
            return hit(word, prefix)
    return None


def name_event(word: str, names: frozenset[str] | set[str]) -> str | None:
    """``switch_name_event``: an event name in any case, also after any 13 characters (``SWITCH_EVENT_``)."""
    upper = word.upper()
    if upper in names:
        return upper
    if len(word) > 13 and upper[13:] in names:
        return upper[13:]
    return None


#: SWITCH_LOG_INVALID
INVALID_LOG_LEVEL = 64


def log_level(text: str) -> int | None:
    """``switch_log_str2level``: a number (clamped to 0..63) or a level name; None when neither."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if all(c == "." or c in "0123456789" for c in body):
        value = c_atoi(text)
        if value == INVALID_LOG_LEVEL:
            return None
        return INVALID_LOG_LEVEL - 1 if value > INVALID_LOG_LEVEL else max(0, value)
    names = ("DISABLE", "CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG")
    upper = text.upper()
    return names.index(upper) - 1 if upper in names else None


def c_atoi(text: str) -> int:
    """C's ``atoi``: leading blanks, an optional sign, then digits; 0 when there are none."""
    text = text.lstrip(" \t\n\r\f\v")
    sign, digits = 1, ""
    if text[:1] in ("+", "-"):
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    for char in text:
        if char not in "0123456789":
            break
        digits += char
    return sign * int(digits) if digits else 0
