"""Fixtures for the semantics tests; the synthetic meshes live in face_fixtures.py (importable by name)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.semantics.face.face_fixtures import SyntheticFaces, synthetic_faces


@pytest.fixture(scope="session")
def faces() -> SyntheticFaces:
    """A synthetic speaker with 4 expression directions."""
    return synthetic_faces(seed=0, n_directions=4)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
