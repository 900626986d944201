"""Demo contact center: skills, agents with levels and a shift log, queues, media plans, admin users.

Natural keys: skill and queue names, agent logins (extensions 1001...), the
media plans' DNIS, admin usernames. An agent's state log is written with the
agent, so it exists exactly once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from crm_core.demo import data
from crm_core.demo.context import DemoContext
from crm_core.demo.passwords import hash_password
from crm_core.demo.stamps import local, rng, stamped
from crm_core.enums import AgentState
from crm_core.models import (
    AdminUser,
    Agent,
    AgentSkill,
    AgentStateChange,
    MediaAirTime,
    MediaPlan,
    Queue,
    QueueSkill,
    Skill,
)

SHIFT_DAYS = 14


def agent_password(extension: str) -> str:
    """The demo password of the agent on ``extension``."""
    return f"demo{extension}"


def load_agents(ctx: DemoContext) -> None:
    """Skills, agents with their skill levels and two weeks of shifts, queues with required skills."""
    shop = data.shop()
    with ctx.transaction() as session, stamped(session, ctx.days_ago(93)):
        skills = {s.name: s for s in session.scalars(select(Skill))}
        for name, description in shop["skills"].items():
            if name not in skills:
                skills[name] = Skill(name=name, description=description)
                session.add(skills[name])
        session.flush()
        logins = set(session.scalars(select(Agent.login)))
        for login, (name, extension, levels) in shop["agents"].items():
            if login in logins:
                continue
            r = rng(ctx.seed, "agent", login)
            agent = Agent(login=login, name=name, extension=extension,
                          password_hash=hash_password(agent_password(extension), r))
            agent.skills = [AgentSkill(skill=skills[s], level=level) for s, level in levels.items()]
            session.add(agent)
            session.flush()
            _shifts(ctx, session, agent, r)
        names = set(session.scalars(select(Queue.name)))
        for name, (strategy, wrapup, sl_s, sl_p, max_wait, max_len, overflow, needs) in shop["queues"].items():
            if name in names:
                continue
            queue = Queue(name=name, strategy=strategy, wrapup_seconds=wrapup, sl_target_seconds=sl_s,
                          sl_target_percent=sl_p, max_wait_seconds=max_wait, max_length=max_len,
                          overflow_target=overflow)
            queue.required_skills = [QueueSkill(skill=skills[s], min_level=level) for s, level in needs.items()]
            session.add(queue)
    ctx.advance(1)


def _shifts(ctx: DemoContext, session, agent: Agent, r) -> None:  # type: ignore[no-untyped-def]
    days = max(3, round(SHIFT_DAYS * min(1.0, ctx.options.scale)))
    rows = []
    for back in range(days, 0, -1):
        day = ctx.days_ago(back)
        if r.random() < 0.2:
            continue  # a day off
        start = local(day, "08:50") + dt.timedelta(minutes=r.randrange(0, 15))
        lunch = local(day, "12:00") + dt.timedelta(minutes=r.randrange(0, 30))
        end = local(day, "18:00") + dt.timedelta(minutes=r.randrange(0, 40))
        rows += [
            (start, AgentState.AVAILABLE, "login"),
            (lunch, AgentState.BREAK, "午餐 lunch"),
            (lunch + dt.timedelta(minutes=r.randrange(40, 60)), AgentState.AVAILABLE, None),
            (local(day, "15:30"), AgentState.BREAK, "培训 training") if r.random() < 0.2 else None,
            (local(day, "16:00"), AgentState.AVAILABLE, None),
            (end, AgentState.LOGGED_OUT, "logout"),
        ]
    for row in rows:
        if row is not None and row[0] < ctx.now:
            session.add(AgentStateChange(agent_id=agent.id, state=row[1].value, reason=row[2], at=row[0]))


def air_times(ctx: DemoContext, plan: dict) -> list[tuple[dt.datetime, dt.datetime]]:  # type: ignore[type-arg]
    """When a plan's ad runs: from 90 days back to two weeks ahead, every ``every`` days at ``slot``."""
    times = []
    for back in range(90, -15, -plan["every"]):
        start = local(ctx.days_ago(back), plan["slot"])
        times.append((start, start + dt.timedelta(minutes=plan["minutes"])))
    return times


def load_media(ctx: DemoContext) -> None:
    """TV, print, radio and SMS placements keyed by their DNIS, with their air times."""
    with ctx.transaction() as session, stamped(session, ctx.days_ago(95)):
        have = set(session.scalars(select(MediaPlan.dnis)))
        for item in data.shop()["media_plans"]:
            if item["dnis"] in have:
                continue
            plan = MediaPlan(name=item["name"], kind=item["kind"], dnis=item["dnis"], outlet=item["outlet"],
                             budget=item["budget"])
            plan.air_times = [MediaAirTime(starts_at=s, ends_at=e) for s, e in air_times(ctx, item)]
            session.add(plan)
    ctx.advance(1)


def admin_user_table() -> list[tuple[str, str, str, str | None]]:
    """(username, role, demo password, agent login) of the demo admin users."""
    return [(u, role, pw, agent) for u, (role, pw, agent) in data.shop()["admin_users"].items()]


def load_admin_users(ctx: DemoContext) -> None:
    """One demo user per role (skipped when the admin package bootstraps its own)."""
    if ctx.options.admin_users:
        with ctx.transaction() as session, stamped(session, ctx.days_ago(95)):
            have = set(session.scalars(select(AdminUser.username)))
            agents = {a.login: a.id for a in session.scalars(select(Agent))}
            for username, role, password, agent in admin_user_table():
                if username not in have:
                    session.add(AdminUser(username=username, role=role, agent_id=agents.get(agent or ""),
                                          password_hash=hash_password(password, rng(ctx.seed, "admin", username))))
    ctx.advance(1)
