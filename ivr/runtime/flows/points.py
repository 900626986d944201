"""Member points: the balance, then the latest changes."""

from __future__ import annotations

from typing import Any

from ivr.runtime.session import IvrSession


async def points_balance(s: IvrSession, node: Any) -> str | None:
    if s.caller is None:
        await s.say("not_a_member")
        return None
    view = await s.gateway.points(s.caller.customer_id)
    prompts: list[tuple[str, dict[str, Any]]] = [("points_balance", {"points": view.balance})]
    if view.recent:
        prompts.append(("points_recent_intro", {}))
        for change in view.recent:
            kind = "points_change_earned" if change.delta > 0 else "points_change_spent"
            prompts.append((kind, {"date": s.local_date(change.at), "points": abs(change.delta)}))
    else:
        prompts.append(("points_none", {}))
    await s.say_all(prompts)
    s.log_step("points", "ivr: points balance heard", balance=view.balance)
    return None
