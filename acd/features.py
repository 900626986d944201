"""Agent phone feature codes: ``*61`` log in, ``*62`` log out, ``*63`` ready, ``*64[d]`` not ready / break.

The dialplan (``dialplans/default/agents.xml``) marks the call with
``hotline_feature`` (login, logout, ready, not_ready, break),
``hotline_feature_agent`` (the directory's agent id),
``hotline_feature_extension`` and, for ``*64d``, ``hotline_feature_reason``
(the digit), then hands it to the engine's socket. :class:`FeatureHandler`
(handler) finds the agent and works out what the code means now
(:meth:`FeatureHandler.plan`, checking the agent state machine without
changing anything), answers, confirms with a short prompt, and only then
makes the change on the :class:`~acd.engine.Acd` (manager) and hangs up: a
queued caller is never offered to an agent whose phone is still on its
feature-code call (and ``acd.phones.PhoneLines`` keeps the router off a
phone with any live call). A refused request (unknown agent, illegal change)
gets the error prompt; nothing leaves the phone in silence.

``*61`` logs the agent into its queues *not ready*; ``*63`` makes a
logged-in agent ready (and logs a logged-out one in, ready, in one step).
Asking for the state one is already in is confirmed, not refused.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from twisted.internet import defer

from acd.agents import BUSY, TRANSITIONS, AgentState
from acd.exceptions import AcdError, IllegalTransition, NotLoggedIn, UnknownAgent

log = logging.getLogger(__name__)

#: Reason digit of ``*64d`` -> (state, reason); configurable per site.
DEFAULT_REASONS: dict[str, tuple[AgentState, str]] = {
    "": (AgentState.NOT_READY, "phone"),
    "1": (AgentState.BREAK, "lunch"),
    "2": (AgentState.BREAK, "training"),
    "3": (AgentState.NOT_READY, "after-call work"),
    "4": (AgentState.BREAK, "rest"),
}

#: Confirmation wording (spoken with the IVR's prompt player as inline text).
TEXTS: dict[str, dict[str, str]] = {
    "login": {"zh": "已登录。准备好接听来电时，请拨星六三。",
              "en": "You are logged in. Dial star six three when you are ready for calls."},
    "logout": {"zh": "已退出登录。", "en": "You are logged out."},
    "ready": {"zh": "您已就绪，可以接听来电。", "en": "You are ready for calls."},
    "not_ready": {"zh": "您已设置为暂停接听。", "en": "You are now not ready."},
    "break": {"zh": "您已设置为休息。", "en": "You are now on a break."},
    "pending": {"zh": "当前通话结束后生效。", "en": "This takes effect when your current call ends."},
    "error": {"zh": "对不起，无法完成该操作。", "en": "Sorry, that did not work."},
}
Change = Callable[[], Any]


class FeatureHandler:
    """CallServer handler for feature-code calls (``hotline_feature`` set)."""

    def __init__(self, acd: Any, prompts: Any = None, *, language: str = "zh",
                 login_queues: Callable[[Any], list[str]] | None = None,
                 reasons: Mapping[str, tuple[AgentState, str]] = DEFAULT_REASONS) -> None:
        self.acd = acd
        self.prompts = prompts
        self.language = language
        self.login_queues = login_queues or self.qualified_queues
        self.reasons = dict(reasons)
        self.handled: list[tuple[int | None, str, str]] = []  # (agent, feature, result) for tests and the log

    def qualified_queues(self, agent: Any) -> list[str]:
        """Queues whose required skills the agent holds (the default login set; desk logins choose)."""
        names = [name for name, cq in self.acd.queues.items() if agent.qualifies(cq.config.required_skills)]
        return sorted(names)

    def find_agent(self, variables: Mapping[str, str], ani: str) -> Any:
        agent_id = (variables.get("hotline_feature_agent") or "").strip()
        if agent_id.isdigit():
            return self.acd.board.get(int(agent_id))
        extension = (variables.get("hotline_feature_extension") or ani or "").strip()
        for agent in self.acd.board.all():
            if agent.extension == extension:
                return agent
        raise UnknownAgent(f"no agent on extension {extension!r}", extension=extension)

    def plan(self, feature: str, agent: Any, reason_digit: str = "") -> tuple[str, Change | None]:
        """(confirmation key, the change to make once it is said); raises AcdError when the code cannot apply.

        Nothing changes here: the agent keeps its state until the phone has
        heard the confirmation (:meth:`handle` calls the change after it).
        """
        acd, state = self.acd, agent.state
        if feature == "login":
            queues = self._queues(agent)
            if state is AgentState.LOGGED_OUT:
                return "login", lambda: acd.login(agent.id, queues, AgentState.NOT_READY)
            return ("ready" if state is AgentState.AVAILABLE else "login"), lambda: acd.login(agent.id, queues)
        if feature == "logout":
            if state is AgentState.LOGGED_OUT:
                return "logout", None
            return ("pending" if state in BUSY else "logout"), lambda: acd.logout(agent.id)
        if feature == "ready":
            if state is AgentState.LOGGED_OUT:
                queues = self._queues(agent)
                return "ready", lambda: acd.login(agent.id, queues)
            if state is AgentState.AVAILABLE:
                return "ready", None
            if state is AgentState.WRAP_UP:
                return "ready", lambda: acd.ready(agent.id)
            return ("pending" if state in BUSY else "ready"), lambda: acd.set_state(agent.id, AgentState.AVAILABLE)
        if feature in ("not_ready", "break"):
            wanted, reason = self.reasons.get(reason_digit, (AgentState(feature), f"code {reason_digit}"))
            if feature == "break" and not reason_digit:
                wanted, reason = AgentState.BREAK, "break"
            if state is AgentState.LOGGED_OUT:
                raise NotLoggedIn(f"agent {agent.id} is not logged in", agent_id=agent.id)
            if state in BUSY:
                return "pending", lambda: acd.set_state(agent.id, wanted, reason)
            if wanted is state is AgentState.BREAK:
                return "break", None
            if wanted not in TRANSITIONS[state] and not (wanted is state is AgentState.NOT_READY):
                raise IllegalTransition(f"agent {agent.id}: {state.value} -> {wanted.value} is not allowed",
                                        agent_id=agent.id)
            return wanted.value, lambda: acd.set_state(agent.id, wanted, reason)
        raise AcdError(f"unknown feature {feature!r}", feature=feature)

    def _queues(self, agent: Any) -> list[str]:
        queues = self.login_queues(agent)
        if not queues:
            raise AcdError(f"agent {agent.id} qualifies for no queue", agent_id=agent.id)
        return queues

    async def handle(self, call: Any) -> None:
        variables = call.variables
        feature = (variables.get("hotline_feature") or "").strip().lower().replace("-", "_")
        reason_digit = (variables.get("hotline_feature_reason") or "").strip()
        agent, change = None, None
        try:
            agent = self.find_agent(variables, call.ani)
            result, change = self.plan(feature, agent, reason_digit)
            log.info("call %s: feature %s for agent %s -> %s", call.uuid, feature, agent.id, result)
        except AcdError as exc:
            log.warning("call %s: feature %s refused: %s (%s)", call.uuid, feature, exc, exc.error_id)
            result = "error"
        except Exception:
            log.exception("call %s: feature %s failed", call.uuid, feature)
            result = "error"
        try:
            await call.answer()
            await self._say(call, result)
        except Exception as exc:  # noqa: BLE001 -- still make the change and hang up below
            log.warning("call %s: feature confirmation failed: %s", call.uuid, exc)
        if change is not None:  # the confirmation has been said (or the agent hung up on it): now change
            try:
                change()
            except AcdError as exc:
                log.warning("call %s: feature %s for agent %s no longer applies: %s", call.uuid, feature,
                            agent.id, exc)
                result = "error"
        self.handled.append((agent.id if agent is not None else None, feature, result))
        if not call.hung_up:
            await call.hangup("NORMAL_CLEARING")

    async def _say(self, call: Any, key: str) -> None:
        if self.prompts is None:
            return
        files = await defer.maybeDeferred(self.prompts.files, None, self.language, text=TEXTS[key])
        if files:
            await call.playback(files[0] if len(files) == 1 else "file_string://" + "!".join(files))
