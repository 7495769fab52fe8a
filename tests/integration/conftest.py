"""Fixtures for end-to-end tests: a short sample clip the project makes itself, and the real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory) -> Path:
    """4 s of the animated portrait (2 s enrollment + 2 s held out)."""
    from semtalk.demo.sample import make_sample

    return make_sample(tmp_path_factory.mktemp("sample") / "sample.mp4", seconds=4.0)


@pytest.fixture(scope="session")
def sample_then_no_face(tmp_path_factory, sample_clip) -> Path:
    """The sample followed by 1 s of a blank grey frame: the face disappears mid-call."""
    from semtalk.media.reader import read_video
    from semtalk.media.writer import VideoWriter

    path = tmp_path_factory.mktemp("noface") / "vanish.mp4"
    with VideoWriter(path, 25.0) as w:
        for frame in read_video(sample_clip):
            w.write(frame)
        for _ in range(25):
            w.write(np.full((512, 512, 3), 128, np.uint8))
    return path


@pytest.fixture(scope="session")
def no_face_clip(tmp_path_factory) -> Path:
    """3 s of coloured noise: nothing a face detector could find."""
    from semtalk.media.writer import VideoWriter

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("noise") / "noise.mp4"
    with VideoWriter(path, 25.0) as w:
        for _ in range(75):
            w.write(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
    return path

