"""semtalk: semantic communication of talking-face calls.

The public API is small and mirrors the CLI; heavy dependencies load only when a function runs.

>>> import semtalk
>>> report = semtalk.run_clip("clip.mp4", out_dir="out", loss=0.1)   # doctest: +SKIP
>>> report["video"]["ssim"]                                           # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "build_kb", "run_clip"]

if TYPE_CHECKING:
    from pathlib import Path


def run_clip(input_path: str | Path, out_dir: str | Path, **options: Any) -> dict:
    """Run one clip through the whole chain; returns the report as a dict (also written to out_dir)."""
    from semtalk.call.run import RunConfig, run

    return run(input_path, out_dir, RunConfig(**options))


def build_kb(input_path: str | Path, kb_path: str | Path, enroll_seconds: float = 2.0) -> dict:
    """Build a knowledge base from the first ``enroll_seconds`` of a clip; returns its summary."""
    from semtalk.enroll.build import build_kb_file

    return build_kb_file(input_path, kb_path, enroll_seconds=enroll_seconds)
