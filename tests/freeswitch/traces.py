"""Loading the real FreeSWITCH captures the repository carries (``tests/data/fs-traces.tar.xz``).

:mod:`fs_traces` finds them (``HOTLINE_FS_TRACES`` points at another copy);
a missing copy is an error, not a skip: every replay test must run.
"""

from __future__ import annotations

import json
from pathlib import Path

from fs_traces import traces_dir


def require_traces() -> Path:
    root = traces_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"FreeSWITCH captures not found at {root} (HOTLINE_FS_TRACES)")
    return root


def stems() -> list[str]:
    """Every capture stem relative to the traces dir (``inbound/02_main_plain``)."""
    root = require_traces()
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
