"""Parse throughput: our FrameParser + parse_event against greenswitch and genesis.

Why: one FreeSWITCH box carries ~1000 concurrent calls and a busy one emits
tens of thousands of CHANNEL_* events per second on the inbound connection;
the engine's parser must never be the bottleneck (ARCHITECTURE "Growing").

The stream is made of the REAL CHANNEL_* plain event frames captured from
FreeSWITCH 1.11.1 (``tests/data/fs-traces.tar.xz``), cycled to ``--events`` frames
(default 100,000, ~435 MB) and cut into chunks of 4-64 KiB (seeded, so every
parser gets exactly the same byte sequence, generated on the fly).

How each parser is driven without a socket (their parsing code is used as is):
 * ours: ``FrameParser.feed(chunk)`` then ``parse_event(frame)``; each event's
   Event-Name and Unique-ID are read, as dispatch does. Headers are decoded
   lazily, so the "ours (full decode)" row also decodes every header (one
   pass over the block; ``%``-values through a small memo) -- the fair
   comparison with the peers, which always decode everything.
 * greenswitch 0.0.19: ``ESLProtocol.receive_events()`` reads with
   ``sock_file.readline()``/``.read(n)``; the shim is an ``io.BufferedReader``
   over the chunk stream as ``sock_file`` and a counting sink as the event
   queue. Its ``handle_event`` + ``ESLEvent.parse_data`` do the parsing.
 * genesis: its ``ESLReaderFSM`` (``process_headers``/``process_body``) fed
   the way ``genesis.protocol.base.Protocol.handler`` does (lines accumulated
   until a blank one, then ``readexactly(Content-Length)``), with the same
   ``io.BufferedReader`` instead of an asyncio StreamReader.

Timing never fails the run. Usage: ``python bench/esl_parse.py [--events N]``.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from freeswitch.esl.events import parse_event  # noqa: E402
from freeswitch.esl.frames import FrameParser  # noqa: E402


def capture_frames() -> list[bytes]:
    """Wire bytes of every captured CHANNEL_* plain event frame."""
    sys.path.insert(0, str(REPO / "tests"))
    from fs_traces import traces_dir  # the captures the repository carries, unpacked once

    root = traces_dir()
    out: list[bytes] = []
    for raw in sorted(root.rglob("*.fs_to_app.raw")):
        for frame in FrameParser().feed(raw.read_bytes()):
            if frame.content_type == "text/event-plain" and frame.body.startswith(b"Event-Name: CHANNEL_"):
                out.append(b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(frame.body) + frame.body)
    if not out:
        sys.exit(f"no CHANNEL_* frames under {root}")
    return out


def chunks(frames: list[bytes], events: int, seed: int = 7) -> Iterator[bytes]:
    """The stream of ``events`` frames in 4-64 KiB chunks (deterministic)."""
    block = b"".join(frames)
    full, rest = divmod(events, len(frames))
    total = full * len(block) + sum(len(f) for f in frames[:rest])
    rng = random.Random(seed)
    pos = 0
    while pos < total:
        size = min(rng.randint(4096, 65536), total - pos)
        start = pos % len(block)
        piece = block[start : start + size]
        while len(piece) < size:
            piece += block[: size - len(piece)]
        yield piece
        pos += size


class ChunkRaw(io.RawIOBase):
    """A readable raw stream over the chunk iterator (the socket stand-in)."""

    def __init__(self, source: Iterator[bytes]) -> None:
        self._source = source
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._left:
            self._left = next(self._source, b"")
            if not self._left:
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def run_ours(source: Iterator[bytes], full: bool = False) -> int:
    parser = FrameParser()
    count = 0
    for chunk in source:
        for frame in parser.feed(chunk):
            event = parse_event(frame)
            if event.name and event.uuid:
                count += 1
            if full:
                len(event.headers)
    return count


def run_greenswitch(source: Iterator[bytes]) -> int:
    from greenswitch.esl import ESLProtocol

    class Sink:
        count = 0

        def put(self, event) -> None:
            if event.headers.get("Event-Name") and event.headers.get("Unique-ID"):
                Sink.count += 1

    proto = ESLProtocol()
    proto.sock_file = io.BufferedReader(ChunkRaw(source), buffer_size=65536)
    proto._esl_event_queue = Sink()
    proto._run = True
    proto.connected = True
    proto.receive_events()
    return Sink.count


def run_genesis(source: Iterator[bytes]) -> int:
    from genesis.protocol.reader_fsm import ESLReaderFSM

    reader = io.BufferedReader(ChunkRaw(source), buffer_size=65536)
    fsm = ESLReaderFSM()
    count = 0
    while True:
        buffer = ""
        while True:  # Protocol._read_header_block
            line = reader.readline()
            if not line:
                return count
            buffer += line.decode("utf-8")
            if buffer.endswith("\n\n") or buffer.endswith("\r\n\r\n"):
                break
        events, length = fsm.process_headers(buffer)
        if length:
            events = fsm.process_body(reader.read(length))  # readexactly
        for event in events:
            if event.get("Event-Name") and event.get("Unique-ID"):
                count += 1


def measure(name: str, fn: Callable[[Iterator[bytes]], int], frames: list[bytes], events: int) -> float:
    source = chunks(frames, events)
    wall, cpu = time.perf_counter(), time.process_time()
    count = fn(source)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rate = count / cpu if cpu else float("inf")
    print(f"{name:22s} {count:>8d} events  wall {wall:7.2f}s  cpu {cpu:7.2f}s  "
          f"{count / wall:>10,.0f} ev/s wall  {rate:>10,.0f} ev/s cpu")
    if count != events:
        print(f"  !! {name} counted {count} events, expected {events}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--skip-others", action="store_true", help="only our parser")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # greenswitch/genesis log per event at debug/trace
    frames = capture_frames()
    size = sum(map(len, frames)) / len(frames)
    print(f"{len(frames)} captured CHANNEL_* frames (avg {size:,.0f} bytes), cycled to {args.events:,} events, "
          f"chunks 4-64 KiB, python {sys.version.split()[0]}")
    rates = {"ours": measure("ours (lazy headers)", run_ours, frames, args.events)}
    rates["ours-full"] = measure("ours (full decode)", lambda s: run_ours(s, True), frames, args.events)
    if not args.skip_others:
        rates["greenswitch"] = measure("greenswitch 0.0.19", run_greenswitch, frames, args.events)
        rates["genesis"] = measure("genesis", run_genesis, frames, args.events)
        print(f"{'cpu-time ratio':22s} {'vs greenswitch':>15s} {'vs genesis':>12s}")
        for key, label in (("ours", "ours, lazy"), ("ours-full", "ours, full decode")):
            print(f"{label:22s} {rates[key] / rates['greenswitch']:>14.1f}x "
                  f"{rates[key] / rates['genesis']:>11.1f}x")
        print("full decode at least as fast as every peer (greenswitch decodes every header too):",
              "met" if rates["ours-full"] >= max(rates["greenswitch"], rates["genesis"]) else "NOT met on this run")
    print("goal >= 100,000 ev/s on one core (ours, lazy):",
          "met" if rates["ours"] >= 100_000 else "NOT met on this run")


if __name__ == "__main__":
    main()
