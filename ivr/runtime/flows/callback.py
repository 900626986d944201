"""Callback request: the calling number or a keyed one, and a preferred time window."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ivr.runtime.session import LEFT, IvrSession


def window(choice: str, now: dt.datetime, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """The window for 1 = as soon as possible, 2 = this afternoon, 3 = tomorrow morning (local time)."""
    local = now.astimezone(ZoneInfo(tz))
    if choice == "2":
        start = local.replace(hour=14, minute=0, second=0, microsecond=0)
        end = local.replace(hour=18, minute=0, second=0, microsecond=0)
        if local >= end - dt.timedelta(minutes=30):
            return now, now + dt.timedelta(hours=2)
        return max(start, local), end
    if choice == "3":
        day = (local + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        return day, day.replace(hour=12)
    return now, now + dt.timedelta(hours=1)


async def book_callback(s: IvrSession, queue: str | None = None) -> str | None:
    number = s.call.ani
    key = await s.choose("callback_choose_number", "12")
    if key is None:
        return await s.give_up()
    while key == "2":
        number = await s.enter_digits("callback_enter_number", 7, 15)
        if number is None:
            return await s.give_up()
        key = await s.choose("callback_confirm_number", "12", phone=number)
        if key is None:
            return await s.give_up()
    when = await s.choose("callback_request_time", "123")
    if when is None:
        return await s.give_up()
    start, end = window(when, s.now(), s.config.local_timezone)
    request_id = await s.gateway.request_callback(number, customer_id=s.customer_id, window_start=start,
                                                  window_end=end, queue_name=queue or s.settings.agent_queue,
                                                  call_uuid=s.uuid)
    s.link("callbacks", request_id)
    await s.say("callback_request_done", time=start.astimezone(ZoneInfo(s.config.local_timezone)).time())
    return None


async def callback_request(s: IvrSession, node: Any) -> str | None:
    result = await book_callback(s, queue=(node.params or {}).get("queue"))
    return LEFT if result == LEFT else None
