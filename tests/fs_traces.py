"""Where the real FreeSWITCH captures are: the archive this repository carries, unpacked once.

``tests/data/fs-traces.tar.xz`` holds event-socket sessions recorded from a
real FreeSWITCH 1.11.1 (see ``tests/data/README.md``). Every test that replays
them or checks the simulator against them asks :func:`traces_dir`, which
unpacks the archive into a cache folder named after the archive's hash (so a
changed archive never meets a stale copy, and concurrent test processes each
see a complete tree: the unpacking goes to a private folder first and is
renamed into place). ``HOTLINE_FS_TRACES`` points at another copy instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from functools import lru_cache
from pathlib import Path

ARCHIVE = Path(__file__).resolve().parent / "data" / "fs-traces.tar.xz"
ENV = "HOTLINE_FS_TRACES"


@lru_cache(maxsize=1)
def traces_dir() -> Path:
    """The captures' root folder (``inbound/``, ``outbound/``, ``calls/``, ``FINDINGS.txt``...)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override)
    return _unpacked(ARCHIVE)


def _unpacked(archive: Path) -> Path:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hotline-tests"
    target = cache / f"fs-traces-{digest}"
    root = target / "fs-traces"
    if root.is_dir():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="fs-traces-", dir=cache))
    try:
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(staging, filter="data")
        try:
            staging.rename(target)
        except OSError:  # another process got there first; its copy is complete
            if not root.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root
