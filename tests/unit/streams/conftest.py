"""Fixtures for the face-payload and face-concealment tests (helpers live in payload_frames.py)."""

from __future__ import annotations

import pytest

from semtalk.streams.face import FaceStreamFormat
from tests.unit.streams.payload_frames import BITS, N_COEFFS, TAG, random_walk


@pytest.fixture
def fmt() -> FaceStreamFormat:
    return FaceStreamFormat(n_coeffs=N_COEFFS, bits=BITS, kb_tag=TAG)


@pytest.fixture
def walk():
    return random_walk
