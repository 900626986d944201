"""RTP for sipp to play (``play_pcap_audio``): RFC 2833 telephone events and G.711 u-law speech.

sipp replays the UDP payloads of a pcap from its media port to the far end's
SDP address, RTP headers as recorded. Its stock DTMF pcaps carry fixed
sequence numbers per digit, so FreeSWITCH drops a later digit whose numbers
are lower as old; here one :class:`RtpStream` per call numbers every packet
of every pcap it writes in order (sequence, timestamp, one SSRC), so digits
and speech of one call can follow each other in any order.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

EVENT_PT = 101
PCMU_PT = 0
DIGITS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
FRAME_MS = 20
SAMPLES = 160  # 20 ms at 8 kHz


def ulaw(sample: int) -> int:
    """One 16-bit linear sample as a G.711 u-law byte."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, 32635) + 0x84
    exponent, mask = 7, 0x4000
    while exponent and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


class RtpStream:
    """The RTP one caller sends during a call, written as pcap files in send order."""

    def __init__(self, ssrc: int = 0x4C1E57A1) -> None:
        self.ssrc = ssrc
        self.seq = 1000
        self.timestamp = 160_000

    def _packet(self, pt: int, marker: bool, timestamp: int, payload: bytes) -> bytes:
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, self.seq & 0xFFFF,
                             timestamp & 0xFFFFFFFF, self.ssrc)
        self.seq += 1
        return header + payload

    def dtmf(self, path: Path, digits: str, tone_ms: int = 100, gap_ms: int = 200) -> float:
        """RFC 2833 events for ``digits``; returns the seconds the pcap lasts."""
        packets: list[tuple[float, bytes]] = []
        at = 0.0
        for digit in digits:
            event, start = DIGITS[digit.upper()], self.timestamp
            steps = max(1, tone_ms // FRAME_MS)
            for i in range(1, steps + 1):
                payload = struct.pack("!BBH", event, 10, i * SAMPLES)
                packets.append((at, self._packet(EVENT_PT, i == 1, start, payload)))
                at += FRAME_MS / 1000
            for _ in range(3):  # the end, sent three times as RFC 4733 asks
                payload = struct.pack("!BBH", event, 0x80 | 10, steps * SAMPLES)
                packets.append((at, self._packet(EVENT_PT, False, start, payload)))
                at += FRAME_MS / 1000
            self.timestamp += (steps + 3) * SAMPLES + gap_ms * 8
            at += gap_ms / 1000
        write_pcap(path, packets)
        return at

    def speech(self, path: Path, wav: Path) -> float:
        """G.711 u-law RTP of an 8 kHz mono 16-bit WAV; returns its seconds."""
        with wave.open(str(wav), "rb") as source:
            if (source.getframerate(), source.getnchannels(), source.getsampwidth()) != (8000, 1, 2):
                raise ValueError(f"{wav} is not 8 kHz mono 16-bit")
            pcm = source.readframes(source.getnframes())
        samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
        packets: list[tuple[float, bytes]] = []
        for index in range(0, len(samples) - SAMPLES + 1, SAMPLES):
            payload = bytes(ulaw(s) for s in samples[index:index + SAMPLES])
            packets.append((len(packets) * FRAME_MS / 1000,
                            self._packet(PCMU_PT, not packets, self.timestamp, payload)))
            self.timestamp += SAMPLES
        write_pcap(path, packets)
        return len(packets) * FRAME_MS / 1000


def write_pcap(path: Path, packets: list[tuple[float, bytes]]) -> None:
    """A classic pcap (Ethernet) of UDP datagrams; addresses and ports are placeholders sipp replaces."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for at, rtp in packets:
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        seconds = int(at)
        out.append(struct.pack("<IIII", seconds, int(round((at - seconds) * 1_000_000)), len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))
