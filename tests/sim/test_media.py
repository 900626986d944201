"""Playback and record timing of the simulator match FreeSWITCH (figures from fs-traces)."""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess
import wave
from array import array
from pathlib import Path

import pytest

from freeswitch.sim.media import (
    MediaNotFound,
    media_duration,
    parse_tone_stream,
    read_pcm,
    record_limit_stop,
    speech_end,
    wav_info,
    write_recording,
)


def make_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1, width: int = 2,
             freq: float = 440.0, amplitude: int = 8000) -> Path:
    """A sine (or silence with amplitude 0) WAV written with the standard ``wave`` module."""
    n = int(seconds * rate)
    frames = array("h", (int(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 2:
            w.writeframes(bytes(b for s in frames for b in struct.pack("<h", s) * channels))
        else:
            w.writeframes(bytes(((s >> 8) + 128) & 0xFF for s in frames for _ in range(channels)))
    return path


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    """Real speech from espeak-ng (22,050 Hz mono), about 1.5 s long."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed")
    out = tmp_path_factory.mktemp("speech") / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(out), "your order has been shipped"], check=True,
                   capture_output=True, timeout=30)
    return out


# --------------------------------------------------------------- WAV files

def test_wav_duration_of_8k_16bit_file(tmp_path):
    make_wav(tmp_path / "tone3s.wav", 3.0)
    assert media_duration(str(tmp_path / "tone3s.wav")) == pytest.approx(3.0)


def test_wav_duration_of_stereo_8bit_and_16k_files(tmp_path):
    make_wav(tmp_path / "st.wav", 1.5, rate=16000, channels=2)
    make_wav(tmp_path / "u8.wav", 0.5, width=1)
    assert media_duration(str(tmp_path / "st.wav")) == pytest.approx(1.5)
    assert media_duration(str(tmp_path / "u8.wav")) == pytest.approx(0.5)
    assert wav_info(tmp_path / "st.wav") == (16000, 2, 2, 24000)


def test_wav_duration_of_espeak_speech(speech_wav):
    rate, channels, width, frames = wav_info(speech_wav)
    assert (rate, channels, width) == (22050, 1, 2)
    with wave.open(str(speech_wav)) as w:
        expected = w.getnframes() / w.getframerate()
    assert media_duration(str(speech_wav)) == pytest.approx(expected)
    assert 0.8 < expected < 5


def test_relative_name_is_found_in_sounds_dir_with_or_without_extension(tmp_path):
    make_wav(tmp_path / "welcome.wav", 1.0)
    assert media_duration("welcome.wav", sounds_dir=tmp_path) == pytest.approx(1.0)
    assert media_duration("welcome", sounds_dir=tmp_path) == pytest.approx(1.0)


def test_relative_name_prefers_the_8000_rate_subdirectory_like_mod_sndfile(tmp_path):
    (tmp_path / "ivr" / "8000").mkdir(parents=True)
    make_wav(tmp_path / "ivr" / "8000" / "menu.wav", 2.0)
    make_wav(tmp_path / "ivr" / "menu.wav", 1.0)
    assert media_duration("ivr/menu.wav", sounds_dir=tmp_path) == pytest.approx(2.0)


def test_missing_file_and_unknown_extension_are_not_found(tmp_path):
    make_wav(tmp_path / "tone1s.wav", 1.0)
    (tmp_path / "tone1s.xyz").write_bytes((tmp_path / "tone1s.wav").read_bytes())
    with pytest.raises(MediaNotFound):
        media_duration(str(tmp_path / "no_such_file.wav"))
    with pytest.raises(MediaNotFound):
        media_duration("no_such_prompt.wav", sounds_dir=tmp_path)
    with pytest.raises(MediaNotFound):
        media_duration(str(tmp_path / "tone1s.xyz"))


def test_corrupt_wav_is_not_found(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"this is not audio")
    with pytest.raises(MediaNotFound):
        media_duration(str(tmp_path / "bad.wav"))


def test_duration_cache_follows_file_changes(tmp_path):
    p = make_wav(tmp_path / "prompt.wav", 1.0)
    assert media_duration(str(p)) == pytest.approx(1.0)
    make_wav(p, 2.0)
    os.utime(p, ns=(os.stat(p).st_atime_ns, os.stat(p).st_mtime_ns + 10**9))
    assert media_duration(str(p)) == pytest.approx(2.0)


# ------------------------------------------------------------ tone streams

@pytest.mark.parametrize("spec, seconds", [
    ("tone_stream://%(300,100,440);loops=2", 0.8),       # traced: 0.80 s
    ("tone_stream://%(200,0,800)", 0.2),
    ("tone_stream://%(500,250,440);loops=2", 1.5),       # traced: 1.51 s
    ("tone_stream://%(200,100,600);loops=1", 0.3),       # traced: 0.30 s
    ("tone_stream://%(100,100,697,1209);%(100,100,697,1336);%(100,100,941,1477)", 0.6),  # traced: 0.60 s
    ("tone_stream://L=3;%(100,100,350,440)", 0.6),
    ("tone_stream://l=3;%(100,0,440);%(100,0,440)", 0.4),  # l= repeats only the next tone
    ("tone_stream://v=-10;w=0;d=100;1234", 0.4),           # DTMF map with d=/w= defaults
    ("tone_stream://1", 2.5),                              # default 2000 ms on + 500 ms off
    ("tone_stream://1(100,50)", 0.15),
    ("tone_stream://%(100,100,0)", 0.0),                  # empty map is ignored entirely
    ("tone_stream://%(100,50)", 0.0),                     # syntax error: nothing generated
    ("{loops=3}tone_stream://%(100,0,440)", 0.3),
    ("tone_stream://%(300,0,500", 7.8),                   # no ")": then "(" ignored, DTMF 3,0,0 at 2.5 s
    ("tone_stream://%(100,0,440);LOOPS=2;%(900,0,440)", 0.2),  # ;loops= is case-insensitive, drops the rest
])
def test_tone_stream_durations_follow_teletone(spec, seconds):
    assert media_duration(spec) == pytest.approx(seconds)


def test_endless_tone_streams():
    assert media_duration("tone_stream://%(1000,0,425);loops=-1") == math.inf
    assert media_duration("tone_stream://l=-1;%(100,0,425)") == math.inf


def test_parse_tone_stream_gives_segments_and_loops():
    ts = parse_tone_stream("tone_stream://%(300,100,440,480);loops=2")
    assert ts.loops == 2
    assert len(ts.segments) == 1
    seg = ts.segments[0]
    assert (seg.on_samples, seg.off_samples, seg.freqs) == (2400, 800, (440.0, 480.0))


def test_tone_stream_path_reads_lines_from_a_file(tmp_path):
    (tmp_path / "ring.ttml").write_text("%(1000,4000,440,480)\n%(500,0,440)\n")
    assert media_duration(f"tone_stream://path={tmp_path / 'ring.ttml'}") == pytest.approx(5.5)


# ------------------------------------------------- silence and file_string

def test_silence_stream_durations():
    assert media_duration("silence_stream://500") == pytest.approx(0.5)   # traced: 0.50 s
    assert media_duration("silence_stream://250,1400") == pytest.approx(0.25)
    assert media_duration("silence_stream://-1") == math.inf
    with pytest.raises(MediaNotFound):
        media_duration("silence_stream://0")


def test_file_string_sums_parts_after_a_quarter_second_lead_in(tmp_path):
    make_wav(tmp_path / "a.wav", 1.0)
    make_wav(tmp_path / "b.wav", 1.0)
    # traced: file_string://tone1s!tone1s took 2.25 s
    target = f"file_string://{tmp_path / 'a.wav'}!{tmp_path / 'b.wav'}"
    assert media_duration(target) == pytest.approx(2.25)
    assert media_duration("file_string://a!b.wav!silence_stream://500", sounds_dir=tmp_path) \
        == pytest.approx(2.75)


def test_file_string_skips_missing_parts_and_fails_when_none_open(tmp_path):
    make_wav(tmp_path / "b.wav", 1.0)
    assert media_duration("file_string://missing.wav!b.wav", sounds_dir=tmp_path) == pytest.approx(1.0)
    with pytest.raises(MediaNotFound):
        media_duration("file_string://x.wav!y.wav", sounds_dir=tmp_path)


# ------------------------------------------------------------- recordings

def test_write_recording_places_speech_at_its_start_in_8k_mono(tmp_path, speech_wav):
    out = write_recording(tmp_path / "rec" / "vm.wav", [(0.5, str(speech_wav)), (4.0, None)], 6.0)
    assert wav_info(out) == (8000, 1, 2, 48000)
    pcm = read_pcm(out)
    assert max(abs(v) for v in pcm[:4000]) == 0                 # silence before 0.5 s
    assert max(abs(v) for v in pcm[4000:12000]) > 1000          # speech right after
    speech_len = media_duration(str(speech_wav))
    tail = int((0.5 + speech_len) * 8000) + 10
    assert max(abs(v) for v in pcm[tail:]) == 0                 # silence after the speech


def test_write_recording_mixes_overlaps_and_truncates(tmp_path):
    make_wav(tmp_path / "st.wav", 1.0, rate=16000, channels=2, amplitude=20000)
    out = write_recording(tmp_path / "mix.wav", [(0.0, str(tmp_path / "st.wav")),
                                                 (0.2, str(tmp_path / "st.wav"))], 0.6)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (8000, 1, 2, 4800)
    pcm = read_pcm(out)
    assert max(pcm) == 32767 or max(pcm) > 20000                # summed and clipped, never wrapped
    assert min(pcm) >= -32768


def test_speech_end_stops_after_silence_hits_seconds(tmp_path, speech_wav):
    rec = write_recording(tmp_path / "r.wav", [(0.0, str(speech_wav))], 8.0)
    speech_len = media_duration(str(speech_wav))
    stop = speech_end(rec, threshold=200, silence_hits=3)
    assert stop is not None
    # FreeSWITCH stops once 3 s (150 frames of 20 ms) in a row scored below 200
    assert speech_len + 2.0 < stop <= speech_len + 3.05
    short = speech_end(rec, threshold=200, silence_hits=1)
    assert short == pytest.approx(stop - 2.0, abs=0.001)


def test_speech_end_of_silence_only_is_three_seconds_by_default(tmp_path):
    rec = write_recording(tmp_path / "s.wav", [], 5.0)
    assert speech_end(rec, threshold=200, silence_hits=0) == pytest.approx(3.0)   # traced: 2.99 s


def test_speech_end_on_continuous_tone_is_none(tmp_path):
    tone = make_wav(tmp_path / "tone.wav", 6.0, amplitude=6000)
    assert speech_end(tone, threshold=200, silence_hits=3) is None
    assert speech_end(tone, threshold=0, silence_hits=3) is None


def test_speech_end_counts_trailing_silence_when_the_caller_stops_sending(tmp_path):
    tone = make_wav(tmp_path / "tone.wav", 2.0, amplitude=6000)
    assert speech_end(tone, threshold=200, silence_hits=3, trailing_silence=True) == pytest.approx(5.0)


def test_speech_end_threshold_compares_mean_absolute_amplitude(tmp_path):
    quiet = make_wav(tmp_path / "q.wav", 4.0, amplitude=250)   # mean |x| = 250 * 2/pi = 159
    assert speech_end(quiet, threshold=200, silence_hits=1) == pytest.approx(1.0)
    assert speech_end(quiet, threshold=150, silence_hits=1) is None


def test_record_time_limit_fires_on_the_whole_epoch_second():
    assert record_limit_stop(4, 1000.0) == pytest.approx(5.0)
    assert record_limit_stop(4, 1000.025) == pytest.approx(4.975)   # traced: 4.975 s
    assert record_limit_stop(0, 1000.0) == math.inf
