"""Queue announcements in Hotline's own voice: answered from rendered audio, never from stock sounds."""

from __future__ import annotations

from twisted.internet import defer

from hotline.announcements import RenderedAnnouncer


class Prompts:
    """A PromptPlayer whose renders the test completes by hand."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, dict]] = []
        self.pending: list[defer.Deferred] = []

    def files(self, prompt_id, lang, text=None, **variables):
        self.asked.append((prompt_id, lang, variables))
        d: defer.Deferred = defer.Deferred()
        self.pending.append(d)
        return d


def test_first_announcement_is_the_generic_one_the_exact_one_follows_once_rendered():
    prompts = Prompts()
    announcer = RenderedAnnouncer(prompts, "zh")
    announcer.start()
    assert prompts.asked == [("queue_still_waiting", "zh", {})]
    assert announcer(3, 150.0) == []  # nothing rendered yet: nothing to say rather than a missing file
    prompts.pending[0].callback(["/cache/zh/still-waiting.wav"])
    assert announcer(3, 150.0) == ["/cache/zh/still-waiting.wav"]
    assert prompts.asked[1] == ("queue_position", "zh", {"position": 3, "wait": 3})
    assert len(prompts.asked) == 2  # asked once, however often the caller is announced
    prompts.pending[1].callback(["/cache/zh/position-3-3.wav"])
    assert announcer(3, 150.0) == ["/cache/zh/position-3-3.wav"]


def test_no_stock_sound_names_and_no_estimate_means_the_generic_prompt():
    prompts = Prompts()
    announcer = RenderedAnnouncer(prompts)
    announcer.start()
    prompts.pending[0].callback(["/cache/zh/still-waiting.wav"])
    assert announcer(1, None) == ["/cache/zh/still-waiting.wav"]
    assert all(not f.startswith(("ivr/", "digits/", "time/")) for f in announcer(250, 99999.0))
    assert prompts.asked[-1][2] == {"position": 99, "wait": 120}  # capped
