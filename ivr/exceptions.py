"""Errors of the IVR package, with stable ``error_id`` strings the admin UI maps to messages."""

from __future__ import annotations

from dataclasses import dataclass


class IvrError(Exception):
    """Base of every IVR error."""

    error_id = "ivr-error"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a menu definition: where (node id or section) and what."""

    where: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class MenuFormatError(IvrError):
    """A menu document (YAML/JSON) cannot even be read as a menu: wrong type, unknown field."""

    error_id = "ivr-menu-format"


class MenuInvalid(IvrError):
    """A menu definition breaks the rules (dangling targets, unreachable nodes...); ``problems`` says where."""

    error_id = "ivr-menu-invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"menu is invalid ({len(self.problems)} problem(s)):\n{lines}")


class MenuNotFound(IvrError):
    """No menu (or no published version of it) with that name."""

    error_id = "ivr-menu-not-found"


class MenuVersionConflict(IvrError):
    """The version asked for is not in the state the operation needs (publishing a retired one...)."""

    error_id = "ivr-menu-version-conflict"


class GatewayError(IvrError):
    """The CRM could not answer (database down, pool stopped); the call is sent to a person."""

    error_id = "ivr-crm-unavailable"
