"""Rendering with the real espeak-ng + sox: format, voice, cache, overrides, the reactor kept free."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task

from ivr.prompts import tts
from ivr.prompts.cache import OverrideStore, PromptCache, sidecar_path
from ivr.prompts.catalogue import Catalogue
from ivr.prompts.exceptions import PromptNotFound, VoiceNotAvailable
from ivr.prompts.renderer import PromptBuilder, PromptRenderer
from ivr.prompts.tts import EspeakCliSynthesizer, Pyttsx3Synthesizer, is_telephony_wav, wav_duration

VOICES = {"zh": "sit/cmn-latn-pinyin", "en": "gmw/en-us"}


class CountingSynth:
    """Wraps a real synthesizer, counting calls and optionally slowing them (to widen race windows)."""

    def __init__(self, inner, delay: float = 0.0) -> None:
        self.inner, self.delay = inner, delay
        self.name, self.version = inner.name, inner.version
        self.calls: list[str] = []
        self.threads: set[str] = set()

    def synthesize(self, text, voice, rate, out):
        self.calls.append(text)
        self.threads.add(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        self.inner.synthesize(text, voice, rate, out)


@pytest.fixture(params=["pyttsx3", "espeak-ng"])
def synth(request):
    return CountingSynth(Pyttsx3Synthesizer() if request.param == "pyttsx3" else EspeakCliSynthesizer())


def make_builder(tmp_path: Path, synth, overrides: bool = True) -> PromptBuilder:
    cache = PromptCache(tmp_path / "cache", synth)
    store = OverrideStore(tmp_path / "recordings", tmp_path / "cache") if overrides else None
    return PromptBuilder(Catalogue.load(), cache, VOICES, store)


@pytest.mark.parametrize("lang, prompt_id", [("zh", "greeting"), ("en", "greeting")])
def test_render_gives_8k_mono_16bit_wav_with_speech_and_sidecar(tmp_path, synth, lang, prompt_id):
    result = make_builder(tmp_path, synth).build(prompt_id, lang)
    assert result.status == "rendered"
    with wave.open(str(result.path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        frames = w.readframes(w.getnframes())
    assert wav_duration(result.path) > 2.0  # a whole sentence, not a click
    assert max(abs(int.from_bytes(frames[i:i + 2], "little", signed=True)) for i in range(0, len(frames), 2)) > 1000
    assert sidecar_path(result.path).read_text(encoding="utf-8") == Catalogue.load().get(prompt_id).texts[lang]
    leftovers = [p.name for p in result.path.parent.iterdir() if p.name.startswith(".") or ".raw" in p.name]
    assert leftovers == []


def test_mandarin_voice_is_really_cmn_latn_pinyin(tmp_path):
    synth = Pyttsx3Synthesizer()
    text = "您好，欢迎致电购物热线。"
    synth.synthesize(text, "sit/cmn-latn-pinyin", 160, tmp_path / "pinyin.wav")
    assert synth.last_voice == "sit/cmn-latn-pinyin"
    synth.synthesize(text, "sit/cmn", 160, tmp_path / "cmn.wav")  # the buggy voice that reads tone digits
    assert synth.last_voice == "sit/cmn"
    synth.synthesize(text, "sit/cmn-latn-pinyin", 160, tmp_path / "again.wav")
    pinyin, cmn, again = (wav_duration(tmp_path / f"{n}.wav") for n in ("pinyin", "cmn", "again"))
    # Measured: pinyin ~3.5 s, cmn (spelling out pinyin with tone digits) ~4.8 s. In-process espeak
    # output jitters by a few ms between renders, so durations are compared, not bytes.
    assert cmn > pinyin * 1.2
    assert abs(again - pinyin) < 0.05 * pinyin


def test_espeak_cli_uses_the_pinyin_voice_deterministically(tmp_path):
    synth = EspeakCliSynthesizer()
    text = "您好，欢迎致电购物热线。"
    for name, voice in (("a", "sit/cmn-latn-pinyin"), ("b", "sit/cmn-latn-pinyin"), ("c", "sit/cmn")):
        synth.synthesize(text, voice, 160, tmp_path / f"{name}.wav")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert wav_duration(tmp_path / "c.wav") > wav_duration(tmp_path / "a.wav") * 1.2


def test_voice_that_silently_does_not_take_effect_is_detected(tmp_path, monkeypatch):
    # Pretend espeak lists a voice it cannot load: pyttsx3 then keeps the previous voice without a word.
    monkeypatch.setattr(tts, "espeak_voice_ids", lambda: frozenset({"gmw/en-us", "sit/no-such-voice"}))
    synth = Pyttsx3Synthesizer()
    synth.synthesize("hello", "gmw/en-us", 160, tmp_path / "a.wav")
    with pytest.raises(VoiceNotAvailable, match="engine used 'gmw/en-us'"):
        synth.synthesize("hello", "sit/no-such-voice", 160, tmp_path / "b.wav")


@pytest.mark.parametrize("engine", [Pyttsx3Synthesizer, EspeakCliSynthesizer])
def test_unknown_voice_is_refused(tmp_path, engine):
    with pytest.raises(VoiceNotAvailable, match="no voice 'xx/klingon'"):
        engine().synthesize("hello", "xx/klingon", 160, tmp_path / "a.wav")


def test_cache_renders_same_text_once_and_new_text_again(tmp_path, synth):
    builder = make_builder(tmp_path, synth)
    first = builder.build("goodbye", "en")
    second = builder.build("goodbye", "en")
    assert (first.status, second.status) == ("rendered", "cached")
    assert first.path == second.path and len(synth.calls) == 1
    builder.build("goodbye", "zh")
    builder.build("points_balance", "en", points=1280)
    assert len(synth.calls) == 3
    # A fresh cache object over the same directory (a restart, or the CLI) still hits.
    again = PromptBuilder(Catalogue.load(), PromptCache(tmp_path / "cache", synth), VOICES).build("goodbye", "en")
    assert again.status == "cached" and len(synth.calls) == 3


def test_cache_key_changes_with_voice_rate_and_engine_version(tmp_path):
    synth = CountingSynth(EspeakCliSynthesizer())
    base = PromptCache(tmp_path, synth)
    slower = PromptCache(tmp_path, synth, rate=120)
    assert base.key("hi", "gmw/en-us") != base.key("hi", "gmw/en-gb")
    assert base.key("hi", "gmw/en-us") != slower.key("hi", "gmw/en-us")
    synth.version = "cli; eSpeak NG 9.99"
    assert PromptCache(tmp_path, synth).key("hi", "gmw/en-us") != base.key("hi", "gmw/en-us")


def _write_wav(path: Path, rate: int, seconds: float = 0.5) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"\x10\x00" * int(rate * seconds))


def test_uploaded_recording_overrides_the_prompt(tmp_path, synth):
    recording = tmp_path / "recordings" / "zh" / "greeting.wav"
    _write_wav(recording, 8000)
    builder = make_builder(tmp_path, synth)
    result = builder.build("greeting", "zh")
    assert (result.status, result.path) == ("override", recording)
    assert synth.calls == []
    assert sidecar_path(recording).read_text(encoding="utf-8").startswith("您好")
    assert builder.build("greeting", "en").status == "rendered"  # other language unaffected


def test_recording_in_another_format_is_converted_to_8k(tmp_path, synth):
    _write_wav(tmp_path / "recordings" / "en" / "goodbye.wav", 44100)
    result = make_builder(tmp_path, synth).build("goodbye", "en")
    assert result.status == "override" and is_telephony_wav(result.path)
    assert abs(wav_duration(result.path) - 0.5) < 0.01 and synth.calls == []


@pytest_twisted.ensureDeferred
async def test_renderer_does_not_block_the_reactor(tmp_path):
    synth = CountingSynth(Pyttsx3Synthesizer(), delay=0.3)
    renderer = PromptRenderer(make_builder(tmp_path, synth), reactor, max_workers=2)
    ticks: list[float] = []
    loop = task.LoopingCall(lambda: ticks.append(time.monotonic()))
    loop.start(0.02)
    try:
        started = time.monotonic()
        path = await renderer.render("main_menu", "zh")
        finished = time.monotonic()
    finally:
        loop.stop()
        renderer.stop()
    assert is_telephony_wav(path)
    during = [t for t in ticks if started < t < finished]
    assert len(during) >= 5, f"reactor ticked only {len(during)} times during a {finished - started:.2f}s render"
    assert synth.threads and all("hotline-tts" in name for name in synth.threads)


@pytest_twisted.ensureDeferred
async def test_concurrent_renders_of_same_prompt_share_one_render(tmp_path):
    # the engine's synthesizer: pyttsx3, and the espeak-ng CLI when the in-process driver fails to write a
    # file (it does now and then on a loaded box); what is counted here is renders asked for, not drivers
    synth = CountingSynth(tts.make_synthesizer("pyttsx3"), delay=0.2)
    renderer = PromptRenderer(make_builder(tmp_path, synth), reactor, max_workers=3)
    try:
        same = [renderer.render("queue_position", "en", position=3, wait=2) for _ in range(5)]
        other = renderer.render("queue_position", "en", position=4, wait=2)
        paths = await defer.gatherResults([*same, other])
    finally:
        renderer.stop()
    assert len(set(paths[:5])) == 1 and paths[5] != paths[0]
    assert len(synth.calls) == 2 and renderer.jobs_started == 2


@pytest_twisted.ensureDeferred
async def test_renderer_fails_the_deferred_for_unknown_prompt(tmp_path):
    renderer = PromptRenderer(make_builder(tmp_path, CountingSynth(EspeakCliSynthesizer())), reactor)
    with pytest.raises(PromptNotFound):
        await renderer.render("no_such_prompt", "en")
    renderer.stop()


def test_pyttsx3_failure_falls_back_to_the_espeak_cli_and_still_writes_audio(tmp_path):
    from ivr.prompts.exceptions import TtsError
    from ivr.prompts.tts import EspeakCliSynthesizer, FallbackSynthesizer

    class _Flaky:
        name, version = "pyttsx3", "test"

        def synthesize(self, text, voice, rate, out):
            raise TtsError("TTS engine reported done but x.wav was not written")

    synth = FallbackSynthesizer(_Flaky(), EspeakCliSynthesizer())
    out = tmp_path / "hello.wav"
    synth.synthesize("hello caller", "gmw/en-us", 160, out)
    assert out.stat().st_size > 1000
    assert synth.fallbacks == 1


class _DriverDroppingAudio:
    """Stands in for the pyttsx3 engine: the first ``empty`` renders write a bare WAV header (espeak-ng's end of
    message arrived without samples), later ones write audio; each reports the utterance finished."""

    def __init__(self, empty: int) -> None:
        self.empty, self.renders, self.props = empty, 0, {}

    def setProperty(self, name, value):
        self.props[name] = value

    def getProperty(self, name):
        return self.props[name]

    def save_to_file(self, text, path, name):
        self.path = Path(path)

    def runAndWait(self):
        self.renders += 1
        with wave.open(str(self.path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
            w.writeframes(b"" if self.renders <= self.empty else b"\x10\x00" * 2205)
        Pyttsx3Synthesizer._done.set()


@pytest.mark.parametrize("empty, renders", [(0, 1), (1, 2)])
def test_a_render_the_driver_wrote_without_audio_is_done_again_once(tmp_path, monkeypatch, empty, renders):
    driver = _DriverDroppingAudio(empty)
    monkeypatch.setattr(Pyttsx3Synthesizer, "_get_engine", classmethod(lambda cls: driver))
    synth = Pyttsx3Synthesizer()
    synth.synthesize("hello", "gmw/en-us", 160, tmp_path / "a.wav")
    assert driver.renders == renders and synth.rerenders == renders - 1
    assert wav_duration(tmp_path / "a.wav") == pytest.approx(0.1)


def test_a_driver_that_keeps_writing_no_audio_is_an_error_for_the_fallback(tmp_path, monkeypatch):
    from ivr.prompts.exceptions import TtsError

    driver = _DriverDroppingAudio(empty=5)
    monkeypatch.setattr(Pyttsx3Synthesizer, "_get_engine", classmethod(lambda cls: driver))
    monkeypatch.setattr(tts, "FILE_GRACE", 0.05)
    with pytest.raises(TtsError, match="a.wav was not written"):
        Pyttsx3Synthesizer().synthesize("hello", "gmw/en-us", 160, tmp_path / "a.wav")
    assert driver.renders == tts.RENDER_TRIES


@pytest_twisted.ensureDeferred
async def test_repeat_render_is_answered_at_once_without_the_pool_until_a_recording_is_uploaded(tmp_path):
    synth = CountingSynth(EspeakCliSynthesizer())
    renderer = PromptRenderer(make_builder(tmp_path, synth), reactor)
    try:
        first = await renderer.render("goodbye", "zh")
        again = renderer.render("goodbye", "zh")
        assert again.called and again.result == first  # fired synchronously: no thread hop
        assert renderer.jobs_started == 1
        recording = tmp_path / "recordings" / "zh" / "goodbye.wav"
        _write_wav(recording, 8000)
        assert await renderer.render("goodbye", "zh") == recording  # the upload wins at once
        assert renderer.jobs_started == 2
    finally:
        renderer.stop()
