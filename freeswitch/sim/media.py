"""Audio facts the switch simulator needs to behave like FreeSWITCH in time.

The simulator must make ``playback`` last exactly as long as the real switch
would play the target (a WAV file, ``tone_stream://``, ``silence_stream://``,
``file_string://``), answer ``FILE NOT FOUND`` where the switch would, and
stop a ``record`` where FreeSWITCH's silence detector would stop it. Getting
these wrong makes every IVR timeout and barge-in test lie, so the rules here
follow the FreeSWITCH sources (read for semantics only, nothing copied):

* ``tone_stream://`` is libteletone's ``teletone_run`` grammar as used by
  mod_tone_stream: ``;``-separated segments, ``x=value`` settings (``d=``
  default on ms, ``w=`` default off ms, ``r=`` rate, ``l=`` repeat of the
  next tone, ``L=`` repeat of the whole string; ``v=``, ``c=``, ``>``, ``<``,
  ``+`` do not change timing), tones ``%(on,off,f1[,f2...])``, mapped tones
  such as DTMF ``1`` (default 2000 ms on, 500 ms off) or ``1(on,off)``;
  ``;loops=N`` (case-insensitive, everything after it is dropped) replays
  the generated buffer: N plays in total, ``-1`` endless, 0 or 1 once.
* ``silence_stream://ms[,noise]``: ms < 0 endless, 0 or garbage fails.
* ``local_stream://name``: mod_local_stream's shared directory stream never
  ends; a name with no configured stream fails (:data:`LOCAL_STREAMS` mirrors
  ``freeswitch/conf/autoload_configs/local_stream.conf.xml``).
* ``file_string://a!b``: missing parts are skipped; when the *first* part
  opens, mod_dptools plays 250 ms of near-silence before it (the 2.25 s for
  two 1 s files seen in the traces).
* ``record``: switch_ivr_record_file scores each 20 ms frame as the mean
  absolute sample value (times rate/8000), counts consecutive frames below
  the threshold and stops when ``rate * hits / samples_per_frame`` of them
  (``hits`` seconds, default 3) have been seen; the time limit is checked in
  whole epoch seconds (``now - start > limit``).

Pure functions over files: no Twisted, no sockets; WAV I/O with the standard
library only (``array``), so it runs wherever the simulator runs.
"""

from __future__ import annotations

import math
import os
import re
import struct
import sys
from array import array
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "MediaNotFound",
    "ToneSegment",
    "ToneStream",
    "media_duration",
    "parse_tone_stream",
    "read_pcm",
    "record_limit_stop",
    "speech_end",
    "wav_info",
    "write_recording",
]

SIM_RATE = 8000
"""Sample rate of the simulated channels (a narrow-band phone leg)."""

FILE_STRING_LEAD_IN_S = 0.25
"""Near-silence mod_dptools' file_string plays before its first part."""

# Raw formats FreeSWITCH plays by extension: bytes per second at 8 kHz
# (mod_native_file for codec names, mod_sndfile's raw aliases).
_RAW_BYTES_PER_SECOND = {
    ".pcmu": 8000, ".pcma": 8000, ".ul": 8000, ".al": 8000,
    ".r8": 16000, ".raw": 16000, ".r16": 32000,
    ".r24": 48000, ".r32": 64000, ".r48": 96000,
}
_URL_SEPARATOR = "://"


class MediaNotFound(Exception):
    """The switch would answer ``FILE NOT FOUND``: missing or unplayable media."""


# --------------------------------------------------------------------- WAV I/O

@dataclass(frozen=True)
class _WavFormat:
    tag: int            # 1 PCM, 3 IEEE float, 6 A-law, 7 mu-law
    rate: int
    channels: int
    bits: int
    block_align: int
    data_offset: int
    data_size: int


def _parse_wav(path: Path) -> _WavFormat:
    """Walk the RIFF chunks of ``path`` (tolerant of odd chunks and bad sizes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
                raise MediaNotFound(f"{path}: not a RIFF/WAVE file")
            file_size = os.fstat(f.fileno()).st_size
            fmt = None
            pos = 12
            while pos + 8 <= file_size:
                f.seek(pos)
                cid, size = struct.unpack("<4sI", f.read(8))
                if cid == b"fmt ":
                    raw = f.read(min(size, 40))
                    if len(raw) < 16:
                        raise MediaNotFound(f"{path}: short fmt chunk")
                    tag, ch, rate, _bps, align, bits = struct.unpack("<HHIIHH", raw[:16])
                    if tag == 0xFFFE and len(raw) >= 26:  # WAVE_FORMAT_EXTENSIBLE
                        tag = struct.unpack("<H", raw[24:26])[0]
                    fmt = (tag, rate, ch, bits, align)
                elif cid == b"data":
                    if fmt is None:
                        raise MediaNotFound(f"{path}: data chunk before fmt chunk")
                    avail = file_size - pos - 8
                    tag, rate, ch, bits, align = fmt
                    if not rate or not ch or not align:
                        raise MediaNotFound(f"{path}: invalid format header")
                    return _WavFormat(tag, rate, ch, bits, align, pos + 8, min(size, avail))
                pos += 8 + size + (size & 1)
    except OSError as exc:
        raise MediaNotFound(f"{path}: {exc.strerror or exc}") from exc
    raise MediaNotFound(f"{path}: no data chunk")


def wav_info(path: str | os.PathLike) -> tuple[int, int, int, int]:
    """Return ``(sample_rate, channels, sample_width_bytes, frames)`` of a WAV file."""
    fmt = _parse_wav(Path(path))
    return fmt.rate, fmt.channels, max(1, fmt.bits // 8), fmt.data_size // fmt.block_align


def _ulaw(b: int) -> int:
    b = ~b & 0xFF
    t = (((b & 0x0F) << 3) + 0x84) << ((b & 0x70) >> 4)
    return (0x84 - t) if b & 0x80 else (t - 0x84)


def _alaw(b: int) -> int:
    b ^= 0x55
    t = (b & 0x0F) << 4
    seg = (b & 0x70) >> 4
    t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
    return t if b & 0x80 else -t


_ULAW = [_ulaw(i) for i in range(256)]
_ALAW = [_alaw(i) for i in range(256)]


def _decode(fmt: _WavFormat, data: bytes) -> list[int]:
    """Interleaved samples as 16-bit-range ints."""
    width = fmt.block_align // fmt.channels
    n = len(data) // width
    data = data[: n * width]
    if fmt.tag == 7:
        return [_ULAW[b] for b in data]
    if fmt.tag == 6:
        return [_ALAW[b] for b in data]
    if fmt.tag == 3 and width in (4, 8):
        vals = array("f" if width == 4 else "d", data)
        return [max(-32768, min(32767, int(v * 32767.0))) for v in vals]
    if fmt.tag != 1:
        raise MediaNotFound(f"unsupported WAV encoding (format tag {fmt.tag})")
    if width == 1:
        return [(b - 128) << 8 for b in data]
    if width == 2:
        a = array("h", data)
    elif width == 4:
        a = array("i", data)
    elif width == 3:
        return [int.from_bytes(data[i + 1:i + 3], "little", signed=True) for i in range(0, len(data), 3)]
    else:
        raise MediaNotFound(f"unsupported sample width {width}")
    if sys.byteorder == "big":
        a.byteswap()
    if width == 4:
        return [v >> 16 for v in a]
    return a.tolist()


def read_pcm(path: str | os.PathLike, sample_rate: int = SIM_RATE) -> array:
    """Read a WAV file as mono signed 16-bit samples at ``sample_rate`` (linear resampling)."""
    fmt = _parse_wav(Path(path))
    with open(path, "rb") as f:
        f.seek(fmt.data_offset)
        samples = _decode(fmt, f.read(fmt.data_size))
    ch = fmt.channels
    if ch > 1:
        samples = [sum(samples[i:i + ch]) // ch for i in range(0, len(samples) - ch + 1, ch)]
    if fmt.rate != sample_rate and samples:
        samples = _resample(samples, fmt.rate, sample_rate)
    return array("h", samples)


def _resample(samples: list[int], src: int, dst: int) -> list[int]:
    n_out = int(len(samples) * dst / src)
    step = src / dst
    last = len(samples) - 1
    out = []
    for i in range(n_out):
        x = i * step
        j = int(x)
        if j >= last:
            out.append(samples[last])
            continue
        frac = x - j
        out.append(int(round(samples[j] + (samples[j + 1] - samples[j]) * frac)))
    return out


def write_recording(path: str | os.PathLike, segments: list[tuple[float, str | None]],
                    duration_s: float, sample_rate: int = SIM_RATE) -> Path:
    """Write a mono 16-bit WAV of ``duration_s`` with each spoken file mixed in at its start time."""
    if duration_s < 0:
        raise ValueError("duration_s must be >= 0")
    total = int(round(duration_s * sample_rate))
    mix = [0] * total
    for start, source in segments:
        if source is None:
            continue
        if start < 0:
            raise ValueError(f"segment start {start} is negative")
        offset = int(round(start * sample_rate))
        pcm = read_pcm(source, sample_rate)
        for i, v in enumerate(pcm[: max(0, total - offset)]):
            mix[offset + i] += v
    out = array("h", (max(-32768, min(32767, v)) for v in mix))
    if sys.byteorder == "big":
        out.byteswap()
    data = out.tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16,
                         1, 1, sample_rate, sample_rate * 2, 2, 16, b"data", len(data))
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(header + data)
    os.replace(tmp, dest)
    return dest


# ------------------------------------------------------------- record timing

def speech_end(wav_path: str | os.PathLike, threshold: int, silence_hits: int,
               frame_ms: int = 20, trailing_silence: bool = False) -> float | None:
    """Seconds into ``wav_path`` at which ``record <f> <limit> <threshold> <silence_hits>`` stops on silence.

    ``silence_hits`` is in seconds as in mod_dptools (0 means the default 3).
    With ``trailing_silence`` the caller is taken to send silence after the
    file ends (what FreeSWITCH reads once RTP stops), so the answer is never
    None while ``threshold`` > 0. None: no silence detection, or never silent long enough.
    """
    if threshold <= 0:
        return None
    fmt = _parse_wav(Path(wav_path))
    rate = fmt.rate
    with open(wav_path, "rb") as f:
        f.seek(fmt.data_offset)
        samples = _decode(fmt, f.read(fmt.data_size))
    ch = fmt.channels
    spp = rate * frame_ms // 1000                      # samples_per_packet
    hits = rate * (silence_hits or 3) // spp           # frames of silence needed
    hits = max(hits, 1)
    divisor = max(1, rate // 8000)
    per_frame = spp * ch
    n_frames = len(samples) // per_frame
    remaining = hits
    for k in range(n_frames):
        frame = samples[k * per_frame:(k + 1) * per_frame]
        score = int(sum(abs(v) for v in frame) / (per_frame // divisor))
        if score < threshold:
            remaining -= 1
            if remaining == 0:
                return (k + 1) * spp / rate
        else:
            remaining = hits
    if trailing_silence:
        return (n_frames + remaining) * spp / rate
    return None


def record_limit_stop(limit_s: int, start_epoch: float) -> float:
    """Seconds after ``start_epoch`` at which a ``record`` time limit fires (whole-second epoch check)."""
    if limit_s <= 0:
        return math.inf
    return math.floor(start_epoch) + limit_s + 1 - start_epoch


# ------------------------------------------------------------- tone streams

@dataclass(frozen=True)
class ToneSegment:
    """One generated tone (or pause): samples on, samples off, frequencies, plays."""

    on_samples: int
    off_samples: int
    freqs: tuple[float, ...]
    repeat: int = 1      # plays of this tone; -1 endless (``l=-1``)

    @property
    def samples(self) -> float:
        """Samples this segment produces in total (inf if endless)."""
        if self.repeat < 0:
            return math.inf
        return (self.on_samples + self.off_samples) * self.repeat


@dataclass(frozen=True)
class ToneStream:
    """A parsed ``tone_stream://`` spec: generated segments (all ``L=`` passes) and buffer loops."""

    segments: tuple[ToneSegment, ...]
    loops: int = 1       # plays of the whole buffer; -1 endless
    rate: int = SIM_RATE

    @property
    def duration(self) -> float:
        """Seconds of audio the stream plays (``math.inf`` if endless)."""
        total = sum(s.samples for s in self.segments)
        if total == 0:
            return 0.0
        if self.loops < 0 or math.isinf(total):
            return math.inf
        return total * max(1, self.loops) / self.rate


_ROWS, _COLS = (697.0, 770.0, 859.0, 941.0), (1209.0, 1336.0, 1477.0, 1633.0)
# libteletone's built-in tone map (its row 3 really is 859 Hz, not 852)
_DTMF_MAP = {c: (_ROWS[i // 4], _COLS[i % 4]) for i, c in enumerate("123A456B789C*0#D")}


def _leading_params(spec: str) -> tuple[dict[str, str], str]:
    """Split a FreeSWITCH ``{k=v,...}`` file-parameter prefix off ``spec``."""
    params: dict[str, str] = {}
    while spec.startswith("{") and "}" in spec:
        inner, spec = spec[1:].split("}", 1)
        for item in inner.split(","):
            if "=" in item:
                k, v = item.split("=", 1)
                params[k.strip()] = v.strip()
        spec = spec.lstrip()
    return params, spec


def _atoi(text: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def _atof(text: str) -> float:
    m = re.match(r"\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", text)
    return float(m.group(1)) if m else 0.0


class _Teletone:
    """Timing-only model of a teletone generation session (state persists across passes)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.duration = 2000 * (rate // 1000)
        self.wait = 500 * (rate // 1000)
        self.loops = 0
        self.passes = 0                    # the L= value, taken once per run
        self._looping = False

    def run(self, cmd: str) -> list[ToneSegment]:
        out: list[ToneSegment] = []
        self._looping = False
        while True:
            out.extend(self._one_pass(cmd))
            if self.passes > 0:
                self.passes -= 1
            if self.passes == 0:
                return out

    def _one_pass(self, cmd: str) -> list[ToneSegment]:
        segs: list[ToneSegment] = []
        for part in cmd.split(";"):
            part = part.lstrip(" \r\n")
            if not part:
                continue
            if len(part) > 1 and part[1] == "=":
                key, val = part[0], part[2:]
                per_ms = self.rate // 1000
                if key == "r":
                    self.rate = _atoi(val)
                elif key == "d":
                    self.duration = _atoi(val) * per_ms
                elif key == "w":
                    self.wait = _atoi(val) * per_ms
                elif key == "l":
                    self.loops = _atoi(val)
                elif key == "L" and not self._looping and _atoi(val) > 0:
                    self.passes = _atoi(val)
                    self._looping = True
                continue
            if not self._tones(part, segs):
                break                      # syntax error: the rest of this pass is dropped
        return segs

    def _tones(self, part: str, segs: list[ToneSegment]) -> bool:
        i = 0
        while i < len(part):
            c = part[i]
            if c in " \r\n":
                i += 1
                continue
            on, off, freqs, nxt = -1, -1, None, i + 1
            if i + 1 < len(part) and part[i + 1] == "(":
                close = part.find(")", i + 2)
                body = part[i + 2:] if close < 0 else part[i + 2:close]
                nxt = close + 1
                if close < 0:
                    # libteletone cut the string at each comma it read and,
                    # without ")", goes on at the next character: "(" and the
                    # digits up to the first comma are then read as tones.
                    comma = part.find(",", i + 2)
                    if comma >= 0:
                        part = part[:comma]
                    nxt = i + 1
                fields = body.split(",")[: 2 + 18]
                per_ms = self.rate // 1000
                on = _atoi(fields[0]) * per_ms
                if len(fields) > 1:
                    off = _atoi(fields[1]) * per_ms
                if len(fields) > 2 and c == "%":
                    freqs = tuple(_atof(x) for x in fields[2:])
                elif len(fields) != 2 or c == "%":
                    return False
            if freqs is None:
                freqs = _DTMF_MAP.get(c)
            if freqs and freqs[0]:
                on_s = on if on > -1 else self.duration
                off_s = off if off > -1 else self.wait
                repeat = self.loops if self.loops != 0 else 1
                segs.append(ToneSegment(on_s, off_s, freqs, repeat))
                if self.loops > 0:
                    self.loops = 0
            i = nxt
        return True


def parse_tone_stream(spec: str, rate: int = SIM_RATE) -> ToneStream:
    """Parse a ``tone_stream://`` target (prefix optional) the way mod_tone_stream + libteletone do."""
    params, spec = _leading_params(spec)
    if spec.startswith("tone_stream://"):
        spec = spec[len("tone_stream://"):]
    loops = 1
    cut = spec.lower().find(";loops=")
    if cut >= 0:
        tail = spec[cut + 7:]
        spec = spec[:cut]
        if tail:
            loops = _atoi(tail)
    if "loops" in params:
        loops = _atoi(params["loops"])
    gen = _Teletone(rate)
    if spec[:5].lower() == "path=":
        try:
            lines = Path(spec[5:]).read_text(errors="replace").splitlines()
        except OSError as exc:
            raise MediaNotFound(f"tone_stream path {spec[5:]}: {exc.strerror}") from exc
        segments = [s for line in lines for s in gen.run(line)]
    else:
        segments = gen.run(spec)
    return ToneStream(tuple(segments), loops if loops != 0 else 1, rate)


# ---------------------------------------------------------------- durations

@lru_cache(maxsize=4096)
def _file_seconds(path: str, mtime_ns: int, size: int) -> float:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".wav":
        rate, _ch, _w, frames = wav_info(path)
        return frames / rate
    return size / _RAW_BYTES_PER_SECOND[ext]


def _resolve(target: str, sounds_dir: Path | None) -> Path:
    base = Path(target)
    if not base.is_absolute():
        if sounds_dir is None:
            raise MediaNotFound(f"{target}: relative path and no sounds dir")
        base = Path(sounds_dir) / base
    candidates = [base]
    if not base.suffix:
        candidates.append(base.with_name(base.name + ".wav"))
    # mod_sndfile first looks in a per-rate subdirectory (sounds/.../8000/x.wav)
    candidates = [p for c in candidates for p in (c.parent / str(SIM_RATE) / c.name, c)]
    for p in candidates:
        ext = p.suffix.lower()
        if p.is_file() and (ext == ".wav" or ext in _RAW_BYTES_PER_SECOND):
            return p
    raise MediaNotFound(f"{target}: file not found")


#: the mod_local_stream streams our shipped configuration defines (name/rate is tried first, as the module does)
LOCAL_STREAMS = frozenset({"moh", "moh/8000"})


def media_duration(target: str, sounds_dir: Path | None = None) -> float:
    """Seconds FreeSWITCH's ``playback`` of ``target`` lasts (``math.inf`` for endless streams)."""
    _params, spec = _leading_params(target.strip())
    if spec.startswith("local_stream://"):
        name = spec[len("local_stream://"):].strip()
        if f"{name}/{SIM_RATE}" in LOCAL_STREAMS or name in LOCAL_STREAMS:
            return math.inf
        raise MediaNotFound(f"{target}: unknown local stream {name!r}")
    if spec.startswith("tone_stream://"):
        return parse_tone_stream(target.strip()).duration
    if spec.startswith("silence_stream://"):
        ms = _atoi(spec[len("silence_stream://"):])
        if ms == 0:
            raise MediaNotFound(f"{target}: invalid silence_stream (expect <msec>[,<noise>])")
        return math.inf if ms < 0 else ms * (SIM_RATE // 1000) / SIM_RATE
    if spec.startswith("file_string://"):
        total, opened_any = 0.0, False
        for i, part in enumerate(spec[len("file_string://"):].split("!")):
            part = part.strip()
            if not part:
                continue
            try:
                d = media_duration(part, sounds_dir)
            except MediaNotFound:
                continue               # mod_dptools skips a part that fails to open
            if i == 0:
                total += FILE_STRING_LEAD_IN_S
            total += d
            opened_any = True
        if not opened_any:
            raise MediaNotFound(f"{target}: no part of the file_string could be opened")
        return total
    if _URL_SEPARATOR in spec:
        raise MediaNotFound(f"{target}: unsupported media scheme in the simulator")
    path = _resolve(spec, sounds_dir)
    st = path.stat()
    return _file_seconds(str(path), st.st_mtime_ns, st.st_size)
