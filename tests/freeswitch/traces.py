"""Locating and loading the real FreeSWITCH captures (``../shared/fs-traces``).

Set ``HOTLINE_FS_TRACES`` to use another copy; tests skip with a clear reason
when the captures are absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def traces_dir() -> Path:
    return Path(os.environ.get("HOTLINE_FS_TRACES") or REPO.parent / "shared" / "fs-traces")


def require_traces() -> Path:
    root = traces_dir()
    if not root.is_dir():
        pytest.skip(f"FreeSWITCH captures not found at {root} (set HOTLINE_FS_TRACES)")
    return root


def stems() -> list[str]:
    """Every capture stem relative to the traces dir (``inbound/02_main_plain``)."""
    root = traces_dir()
    if not root.is_dir():
        return []
    return sorted(
        str(p.relative_to(root))[: -len(".fs_to_app.raw")] for p in root.rglob("*.fs_to_app.raw")
    )


def fs_bytes(stem: str) -> bytes:
    return (require_traces() / f"{stem}.fs_to_app.raw").read_bytes()


def app_bytes(stem: str) -> bytes:
    return (require_traces() / f"{stem}.app_to_fs.raw").read_bytes()


def frames(stem: str, direction: str = "in") -> list[dict]:
    path = require_traces() / f"{stem}.frames.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row["dir"] == direction]
