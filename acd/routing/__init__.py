"""Pluggable routing: strategies choose an agent for a caller; the router decides when to ask.

A strategy gets a caller and the agents that may take it (available, logged
into the queue, holding the required skills) and returns a :class:`Choice`:
an agent, or none with a reason and optionally a time to ask again. New
strategies register with :func:`register`.
"""

from acd.routing import strategies  # noqa: F401  (registers the built-in strategies)
from acd.routing.base import Choice, RouteContext, Strategy, get_strategy, register, strategy_names
from acd.routing.router import Decision, Router

__all__ = ["Choice", "Decision", "RouteContext", "Router", "Strategy", "get_strategy", "register",
           "strategy_names"]
