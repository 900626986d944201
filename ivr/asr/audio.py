"""Audio preparation: turn whatever the switch recorded into 8 kHz mono 16-bit PCM.

Why here and not in Vosk: Kaldi can resample, but it cannot downmix stereo
recordings, decode A-law/u-law WAVs or other containers, and the result would
depend on the recording's format. Converting every input to the phone-leg
format (what the model is tuned for in production) keeps recognition
identical whether the caller's audio came from FreeSWITCH (8 kHz), a 16 kHz
wideband leg or a 22.05 kHz TTS test prompt.

sox does the work in a child process (``-D``: no dither, because sox's
default TPDF dither adds random LSB noise that makes the same input convert
to different bytes on every run, and this small model's output changes with
it). Without sox, 16-bit PCM WAVs are still handled in pure Python (downmix
here, resampling left to Kaldi).
"""

from __future__ import annotations

import array
import random
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path


class AudioError(Exception):
    """The audio file cannot be read or converted."""


@dataclass(frozen=True)
class Pcm:
    """Raw little-endian signed 16-bit mono samples and their rate."""

    data: bytes
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.data) / 2 / self.sample_rate


def _sox() -> str | None:
    return shutil.which("sox")


def _read_wav(path: Path) -> tuple[wave._wave_params, bytes] | None:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getparams(), wav.readframes(wav.getnframes())
    except (wave.Error, EOFError):
        return None  # not plain PCM WAV (e.g. u-law, float): leave it to sox


def _downmix16(data: bytes, channels: int) -> bytes:
    samples = array.array("h")
    samples.frombytes(data)
    if sys.byteorder != "little":
        samples.byteswap()
    if channels > 1:
        mono = array.array("h", (
            sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)
        ))
        samples = mono
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()


def convert_with_sox(path: Path, sample_rate: int, timeout: float = 30.0) -> bytes:
    """Run sox to produce raw 16-bit mono PCM at ``sample_rate`` on stdout."""
    sox = _sox()
    if sox is None:
        raise AudioError(f"{path}: needs conversion to {sample_rate} Hz mono 16-bit but sox is not installed")
    cmd = [sox, "-D", "-V1", str(path), "-t", "raw", "-e", "signed-integer", "-b", "16",
           "-L", "-c", "1", "-r", str(sample_rate), "-"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(f"{path}: sox conversion timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise AudioError(f"{path}: sox could not convert it: {message}")
    return done.stdout


def load_pcm(path: str | Path, sample_rate: int = 8000) -> Pcm:
    """Read ``path`` as mono 16-bit PCM at ``sample_rate`` (converting when needed)."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    parsed = _read_wav(path)
    if parsed is not None:
        params, frames = parsed
        if (params.framerate, params.nchannels, params.sampwidth) == (sample_rate, 1, 2):
            return Pcm(frames, sample_rate)  # already phone format: the common case, no child process
    if _sox() is not None:
        return Pcm(convert_with_sox(path, sample_rate), sample_rate)
    if parsed is not None and parsed[0].sampwidth == 2:
        params, frames = parsed
        return Pcm(_downmix16(frames, params.nchannels), params.framerate)  # Kaldi resamples
    raise AudioError(f"{path}: unsupported audio format and sox is not installed")


_rng = random.Random(20240501)
#: fixed +-1 LSB pattern: a deterministic stand-in for Kaldi's random dither
_FILL = array.array("h", (_rng.choice((-1, 1)) for _ in range(8191)))


def fill_digital_silence(data: bytes) -> bytes:
    """Replace exact-zero samples by a fixed +-1 LSB pattern.

    Why: with ``--dither=0.0`` (needed for repeatable results) runs of exact
    zeros give log(0) filterbank energies, and this model then "hears" words
    in pure digital silence (2 s of zeros -> "예 예" at 0.6 in a yes/no
    grammar). Real lines carry noise, but muted legs, silence suppression
    and TTS prompts produce such runs. A fixed pattern keeps the result
    deterministic; non-zero samples are left untouched.
    """
    samples = array.array("h")
    samples.frombytes(data)
    if sys.byteorder != "little":
        samples.byteswap()
    size = len(_FILL)
    for i in range(len(samples)):
        if samples[i] == 0:
            samples[i] = _FILL[i % size]
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()
