"""Prometheus text exposition (format 0.0.4) of the ACD's live queue statistics, as a pure function."""

from __future__ import annotations

from typing import Iterable

from acd.stats import QueueSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_GAUGES: list[tuple[str, str, str]] = [
    ("hotline_acd_waiting_calls", "Callers waiting in the queue now.", "waiting"),
    ("hotline_acd_longest_wait_seconds", "Wait of the longest-waiting caller now.", "longest_wait"),
    ("hotline_acd_expected_wait_seconds", "Expected wait of a caller entering now.", "expected_wait"),
    ("hotline_acd_offered_today", "Calls offered to the queue today.", "offered"),
    ("hotline_acd_answered_today", "Calls answered by an agent today.", "answered"),
    ("hotline_acd_abandoned_today", "Calls abandoned while waiting or ringing today.", "abandoned"),
    ("hotline_acd_overflowed_today", "Calls sent to the overflow action today.", "overflowed"),
    ("hotline_acd_service_level_ratio", "Share of calls answered within the target today.", "service_level"),
    ("hotline_acd_service_level_target_ratio", "The queue's service-level target.", "sl_target_ratio"),
    ("hotline_acd_service_level_target_seconds", "The queue's service-level answer time.", "sl_target_seconds"),
    ("hotline_acd_asa_seconds", "Average speed of answer today.", "asa"),
    ("hotline_acd_abandon_ratio", "Abandoned / (answered + abandoned) today.", "abandonment_rate"),
    ("hotline_acd_aht_seconds", "Average handle time (talk + wrap-up) today.", "aht"),
]


def escape_label(value: str) -> str:
    """Escape a label value: backslash, double quote and line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def render(snapshots: Iterable[QueueSnapshot]) -> str:
    """The ``/metrics`` body for ``snapshots``; metrics without a value yet (no calls today) are left out."""
    snaps = list(snapshots)
    lines: list[str] = []
    for name, help_text, attr in _GAUGES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for snap in snaps:
            value = snap.sl_target_percent / 100.0 if attr == "sl_target_ratio" else getattr(snap, attr)
            if value is not None:
                lines.append(f'{name}{{queue="{escape_label(snap.queue)}"}} {_number(value)}')
    lines += ["# HELP hotline_acd_agents Agents logged into the queue, by state.", "# TYPE hotline_acd_agents gauge"]
    for snap in snaps:
        for state, count in sorted(snap.agents.items()):
            lines.append(f'hotline_acd_agents{{queue="{escape_label(snap.queue)}",state="{escape_label(state)}"}} '
                         f"{count}")
    return "\n".join(lines) + "\n"
