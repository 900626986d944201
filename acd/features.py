"""Agent phone feature codes: ``*61`` log in, ``*62`` log out, ``*63`` ready, ``*64[d]`` not ready / break.

The dialplan (``dialplans/default/agents.xml``) marks the call with
``hotline_feature`` (login, logout, ready, not_ready, break),
``hotline_feature_agent`` (the directory's agent id),
``hotline_feature_extension`` and, for ``*64d``, ``hotline_feature_reason``
(the digit), then hands it to the engine's socket. :class:`FeatureHandler`
(handler) finds the agent, asks the :class:`~acd.engine.Acd` (manager, which
checks the state machine), answers, confirms with a short prompt and hangs up.
A refused request (unknown agent, illegal change) gets the error prompt;
nothing leaves the phone in silence.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from twisted.internet import defer

from acd.agents import AgentState
from acd.exceptions import AcdError, UnknownAgent

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
    "login": {"zh": "已登录，您现在可以接听来电。", "en": "You are logged in and ready for calls."},
    "logout": {"zh": "已退出登录。", "en": "You are logged out."},
    "ready": {"zh": "您已就绪，可以接听来电。", "en": "You are ready for calls."},
    "not_ready": {"zh": "您已设置为暂停接听。", "en": "You are now not ready."},
    "break": {"zh": "您已设置为休息。", "en": "You are now on a break."},
    "pending": {"zh": "当前通话结束后生效。", "en": "This takes effect when your current call ends."},
    "error": {"zh": "对不起，无法完成该操作。", "en": "Sorry, that did not work."},
}


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

    def apply(self, feature: str, agent: Any, reason_digit: str = "") -> str:
        """Change the agent's state; returns the confirmation key (``pending`` when it waits for the call's end)."""
        if feature == "login":
            queues = self.login_queues(agent)
            if not queues:
                raise AcdError(f"agent {agent.id} qualifies for no queue", agent_id=agent.id)
            self.acd.login(agent.id, queues)
            if agent.state is not AgentState.AVAILABLE and agent.state in (AgentState.NOT_READY, AgentState.BREAK):
                self.acd.set_state(agent.id, AgentState.AVAILABLE)
            return "login"
        if feature == "logout":
            self.acd.logout(agent.id)
            return "logout" if agent.state is AgentState.LOGGED_OUT else "pending"
        if feature == "ready":
            if agent.state is AgentState.WRAP_UP:
                self.acd.ready(agent.id)
                return "ready"
            if agent.state is AgentState.LOGGED_OUT:
                return self.apply("login", agent)
            done = self.acd.set_state(agent.id, AgentState.AVAILABLE)
            return "ready" if done else "pending"
        if feature in ("not_ready", "break"):
            state, reason = self.reasons.get(reason_digit, (AgentState(feature), f"code {reason_digit}"))
            if feature == "break" and not reason_digit:
                state, reason = AgentState.BREAK, "break"
            done = self.acd.set_state(agent.id, state, reason)
            return state.value if done else "pending"
        raise AcdError(f"unknown feature {feature!r}", feature=feature)

    async def handle(self, call: Any) -> None:
        variables = call.variables
        feature = (variables.get("hotline_feature") or "").strip().lower().replace("-", "_")
        reason_digit = (variables.get("hotline_feature_reason") or "").strip()
        agent = None
        try:
            agent = self.find_agent(variables, call.ani)
            result = self.apply(feature, agent, reason_digit)
            log.info("call %s: feature %s for agent %s -> %s", call.uuid, feature, agent.id, result)
        except AcdError as exc:
            log.warning("call %s: feature %s refused: %s (%s)", call.uuid, feature, exc, exc.error_id)
            result = "error"
        except Exception:
            log.exception("call %s: feature %s failed", call.uuid, feature)
            result = "error"
        self.handled.append((agent.id if agent is not None else None, feature, result))
        try:
            await call.answer()
            await self._say(call, result)
        except Exception as exc:  # noqa: BLE001 -- still hang up below
            log.warning("call %s: feature confirmation failed: %s", call.uuid, exc)
        if not call.hung_up:
            await call.hangup("NORMAL_CLEARING")

    async def _say(self, call: Any, key: str) -> None:
        if self.prompts is None:
            return
        files = await defer.maybeDeferred(self.prompts.files, None, self.language, text=TEXTS[key])
        if files:
            await call.playback(files[0] if len(files) == 1 else "file_string://" + "!".join(files))
