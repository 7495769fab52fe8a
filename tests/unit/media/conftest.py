"""Fixtures for the media tests (helpers live in media_clips.py, importable by name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.media.media_clips import make_clip


@pytest.fixture
def clip(tmp_path: Path) -> Callable[..., Path]:
    """Factory fixture: ``clip("mkv", n_frames=20)`` returns the path of a fresh synthetic clip."""

    def make(suffix: str = "mp4", **kwargs: object) -> Path:
        return make_clip(tmp_path / f"clip.{suffix}", **kwargs)  # type: ignore[arg-type]

    return make
