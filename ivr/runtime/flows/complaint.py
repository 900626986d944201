"""Complaint voicemail: category by key, beep, record with a limit, listen / re-record, save, ticket number.

The recording, the voicemail row, the complaint and the interaction are saved
together (one transaction). Hanging up is how many callers end a message, so a
long-enough recording cut by a hang-up is still filed.
"""

from __future__ import annotations

from typing import Any

from ivr.runtime.session import LEFT, IvrSession

CATEGORIES = {"1": "product_quality", "2": "logistics", "3": "service", "4": "other"}


async def record_message(s: IvrSession, prompt: str, max_seconds: int, name: str) -> tuple[Any, str] | None:
    """Prompt, beep, record to a fresh file; (RecordResult, path) or None when the caller gave up."""
    folder = s.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 4):
        path = str((folder / f"{name}-{s.uuid}-{attempt}.wav").resolve())
        await s.say(prompt)
        await s.call.playback(s.config.beep)
        await s.call.set_var("playback_terminators", "#")
        result = await s.call.record(path, max_seconds, 200, 5)
        if result.hung_up:
            return (result, path) if (result.record_ms or 0) >= s.config.min_recording_ms else None
        await s.call.set_var("playback_terminators", "*")
        if (result.record_ms or 0) < s.config.min_recording_ms:
            await s.say("complaint_too_short")
            continue
        while True:
            key = await s.choose("complaint_review", "123")
            if key == "1":
                await s.call.playback(path)
                continue
            if key == "3":
                return result, path
            break  # 2 (record again) or no answer
        if key is None:
            return None
    return None


async def complaint_voicemail(s: IvrSession, node: Any) -> str | None:
    key = await s.choose("complaint_category_menu", "1234")
    if key is None:
        return await s.give_up()
    category = CATEGORIES[key]
    recorded = await record_message(s, "complaint_record", s.config.complaint_max_seconds, "complaint")
    if recorded is None:
        if s.call.hung_up:
            return LEFT
        return await s.give_up()
    result, path = recorded
    saved = await s.gateway.save_complaint(category=category, audio_path=path,
                                           duration_seconds=(result.record_ms or 0) / 1000.0, caller=s.call.ani,
                                           customer_id=s.customer_id, call_uuid=s.uuid)
    s.link("recordings", path)
    s.link("voicemails", saved.voicemail_id)
    s.link("complaints", saved.complaint_id)
    if result.hung_up or s.call.hung_up:
        return LEFT
    await s.say("complaint_ticket", ticket_no=saved.ticket)
    return None
