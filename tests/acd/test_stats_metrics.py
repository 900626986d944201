"""Live queue statistics and their Prometheus text rendering."""

from __future__ import annotations

import re

from acd.connect import NO_ANSWER
from acd.metrics import CONTENT_TYPE, escape_label, render
from acd.stats import QueueSnapshot


def test_snapshot_counts_service_level_asa_abandonment_and_aht(h):
    h.queue(sl_seconds=20, wrapup_seconds=10)
    h.agent(1)
    h.agent(2)
    fast, _ = h.call()  # answered after 5 s
    h.clock.advance(5)
    fast.ring.answer()
    slow, _ = h.call()
    h.clock.advance(30)
    slow.ring.answer()  # answered after 30 s
    gone_leg, _ = h.call()
    h.clock.advance(3)
    gone_leg.hang_up()
    h.clock.advance(60)
    fast.ring.end()
    slow.ring.end()
    snap = h.acd.snapshot("sales")
    assert (snap.offered, snap.answered, snap.abandoned) == (3, 2, 1)
    assert snap.service_level == 1 / 3
    assert snap.asa == 17.5
    assert snap.abandonment_rate == 1 / 3
    assert snap.aht == (93 + 10 + 63 + 10) / 2  # talk 93 s and 63 s, wrap-up 10 s each
    assert snap.agents["wrap_up"] == 2 and snap.waiting == 0


def test_snapshot_shows_waiting_longest_wait_and_agents_by_state(h):
    h.queue()
    h.agent(1)
    h.agent(2)
    a, _ = h.call()
    a.ring.fail(NO_ANSWER)  # agent 1 not ready, a rings agent 2
    b, _ = h.call()
    h.clock.advance(42)
    snap = h.acd.snapshot("sales")
    assert snap.waiting == 2 and snap.longest_wait == 42  # a caller being rung still waits
    assert snap.agents["not_ready"] == 1 and snap.agents["ringing"] == 1


def test_statistics_reset_at_midnight(h):
    h.queue()
    leg, _ = h.call()
    leg.hang_up()
    assert h.acd.snapshot("sales").abandoned == 1
    h.clock.advance(86400)
    assert h.acd.snapshot("sales").abandoned == 0


_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? '
                     r'(-?[0-9.eE+-]+|NaN|[+-]Inf)$')


def test_metrics_text_follows_the_prometheus_exposition_format(h):
    h.queue("sales")
    h.queue('odd "name"\\x')
    h.agent(1)
    leg, _ = h.call()
    leg.ring.answer()
    text = render(h.acd.snapshots())
    assert text.endswith("\n") and CONTENT_TYPE.startswith("text/plain; version=0.0.4")
    seen_type = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:]
            assert kind == "gauge" and name not in seen_type
            seen_type.add(name)
            continue
        assert _SAMPLE.match(line), line
        assert line.split("{")[0] in seen_type
    assert 'hotline_acd_agents{queue="sales",state="on_call"} 1' in text
    assert 'hotline_acd_waiting_calls{queue="odd \\"name\\"\\\\x"} 0' in text
    assert 'hotline_acd_service_level_ratio{queue="sales"} 1' in text
    assert "hotline_acd_aht_seconds{" not in text  # no finished call yet: no sample rather than a fake 0


def test_metrics_render_of_no_queues_is_only_headers():
    text = render([])
    assert all(line.startswith("#") for line in text.splitlines())


def test_label_escaping():
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_snapshot_round_trips_to_dict():
    snap = QueueSnapshot("q", 1, 2.0, {"available": 1}, 3, 2, 1, 0, 0.5, 80, 20, 4.0, 0.3, 100.0, 60.0)
    assert snap.as_dict()["queue"] == "q"
