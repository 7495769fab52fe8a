"""``semtalk.memory.release`` hands freed, fragmented heap memory back to the operating system."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semtalk.memory import _trim, release


def _rss_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists() or _trim() is None, reason="needs Linux and glibc")
def test_release_returns_the_pages_a_stage_freed_around_what_it_keeps() -> None:
    """Small arrays come from the heap; freeing all but every 50th leaves the pages resident (the kept ones pin
    the heap's top) until ``release``."""
    parts = [np.ones(8192) for _ in range(8000)]  # 64 KiB each, under glibc's mmap threshold: 500 MiB of heap
    kept = parts[::50]
    del parts
    before = _rss_mb()
    release()
    assert before - _rss_mb() > 250
    assert all(k[0] == 1.0 for k in kept)  # what was kept is untouched
