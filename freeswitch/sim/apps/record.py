"""record: write what the simulated caller says, stopping as FreeSWITCH's record would.

Stops on silence (threshold/hits, judged on the caller's WAVs with
``media.speech_end``), on the time limit (whole-second epoch check), on a
``playback_terminators`` digit (default ``*``; ``#`` does not stop it) or on
hangup, and always sets record_ms/record_seconds/record_samples (as FreeSWITCH 1.11.1
does). Application-Response is ``_none_``.
"""

from __future__ import annotations

import math
from pathlib import Path

from freeswitch.sim.apps.basic import app
from freeswitch.sim.apps.media import terminators
from freeswitch.sim.channel import Channel
from freeswitch.sim.media import media_duration, record_limit_stop, speech_end, write_recording


def record_path(ch: Channel, target: str) -> Path:
    path = Path(ch.core.expand(target, ch))
    return path if path.is_absolute() else ch.core.recordings_dir / path


def _speech_stop(ch: Channel, start: float, threshold: int, hits: int) -> tuple[float, float]:
    """(clock time silence detection fires, end of the last speech) for audio heard since ``start``."""
    stop = start + (hits or 3)
    speech = start
    for seg_start, wav, _secs in ch.audio:
        try:
            length = media_duration(wav)
        except Exception:
            continue
        if seg_start + length <= start:
            continue
        fires = speech_end(wav, threshold, hits or 3, trailing_silence=True) if threshold > 0 else None
        if fires is not None:
            stop = max(stop, seg_start + fires)
            speech = max(speech, seg_start + fires - (hits or 3))
        else:
            stop = max(stop, seg_start + length + (hits or 3))
            speech = max(speech, seg_start + length)
    return stop, speech


def length_of(wav: str) -> float:
    try:
        return media_duration(wav)
    except Exception:
        return 0.0


@app("record")
async def record(ch: Channel, arg: str) -> None:
    """record <path> [limit_secs] [silence_thresh] [silence_hits]."""
    a = arg.split()
    if not a:
        return None
    path = record_path(ch, a[0])
    limit = int(a[1]) if len(a) > 1 and a[1].isdigit() else 0
    threshold = int(a[2]) if len(a) > 2 and a[2].isdigit() else 0
    hits = int(a[3]) if len(a) > 3 and a[3].isdigit() else 3
    terms = terminators(ch)
    ch.variables.pop("playback_terminator_used", None)  # traced: cleared by each record
    start = ch.clock.seconds()
    limit_at = start + record_limit_stop(limit, ch.core.now()) if limit else math.inf
    ch.fire("RECORD_START", ("switch_ivr_play_say.c", "switch_ivr_record_file_event", 770),
            extra=[("Record-File-Path", str(path))])
    ch.core.notify("record_start", channel=ch, path=str(path))

    def on_dtmf(digit: str) -> bool:
        if digit in terms:
            ch.variables["playback_terminator_used"] = digit
            return True
        return False

    end_reason = "hangup"
    while ch.up:
        now = ch.clock.seconds()
        silence_at, _ = _speech_stop(ch, start, threshold, hits) if threshold > 0 else (math.inf, 0)
        deadline = min(silence_at, limit_at)
        waiter_d = ch.wait(None if math.isinf(deadline) else max(0.0, deadline - now), on_dtmf)
        if ch._waiter is not None:
            ch._waiter.wants_audio = True  # a new utterance moves the silence deadline
        reason = await waiter_d
        if reason == "audio":
            continue
        end_reason = reason
        break
    stop = ch.clock.seconds()
    # Only media that arrived is written: a silent caller (no RTP) records nothing, and when
    # silence detection ends the take, the silent tail it waited through is dropped.
    end = stop
    if threshold > 0 and end_reason == "timeout" and stop < limit_at - 1e-6:
        _, speech = _speech_stop(ch, start, threshold, hits)
        end = min(stop, speech)
    segments: list[tuple[float, str]] = []
    length = 0.0
    for seg_start, wav, _ in ch.audio:
        seg_end = seg_start + length_of(wav)
        overlap = min(seg_end, end) - max(seg_start, start)
        if overlap > 0:
            segments.append((length, wav))
            length += overlap
    write_recording(path, segments, length)
    samples = int(round(length * 8000))
    ch.variables["record_ms"] = str(samples // 8)
    ch.variables["record_seconds"] = str(samples // 8000)
    ch.variables["record_samples"] = str(samples)
    size = path.stat().st_size if path.exists() else 0
    ch.variables["record_file_size"] = str(size)
    ch.variables["record_record_file_size"] = str(size)
    ch.fire("RECORD_STOP", ("switch_ivr_play_say.c", "switch_ivr_record_file_event", 1033),
            extra=[("Record-File-Path", str(path))])
    ch.core.notify("record_stop", channel=ch, path=str(path), ms=samples // 8)
    return None
