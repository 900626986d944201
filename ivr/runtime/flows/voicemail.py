"""A plain voicemail into a mailbox (menu ``voicemail`` node)."""

from __future__ import annotations

from typing import Any

from ivr.runtime.flows.complaint import record_message
from ivr.runtime.session import LEFT, IvrSession


async def leave_voicemail(s: IvrSession, node: Any) -> str | None:
    recorded = await record_message(s, node.prompt or "voicemail_record", node.max_seconds, f"vm-{node.mailbox}")
    if recorded is None:
        return LEFT if s.call.hung_up else None
    result, path = recorded
    voicemail_id = await s.gateway.save_voicemail(mailbox=node.mailbox, audio_path=path,
                                                  duration_seconds=(result.record_ms or 0) / 1000.0,
                                                  caller=s.call.ani, customer_id=s.customer_id, call_uuid=s.uuid)
    s.link("recordings", path)
    s.link("voicemails", voicemail_id)
    if s.call.hung_up:
        return LEFT
    await s.say("voicemail_saved")
    return None
