"""Fixtures for the generator tests: the synthetic KB of ../kb/kb_fixtures.py and a renderer on it."""

from __future__ import annotations

import pytest

from semtalk.generators.face_renderer import FaceRenderer
from tests.unit.kb.kb_fixtures import SyntheticKb, make_kb


@pytest.fixture(scope="session")
def synthetic() -> SyntheticKb:
    return make_kb(seed=0)


@pytest.fixture(scope="session")
def renderer(synthetic: SyntheticKb) -> FaceRenderer:
    return FaceRenderer(synthetic.kb)
