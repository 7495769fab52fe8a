"""Fixtures for the generator tests: the synthetic KB of ../kb/kb_fixtures.py and a renderer on it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_UNIT = Path(__file__).resolve().parents[1]
for _folder in ("semantics", "kb"):
    if str(_UNIT / _folder) not in sys.path:
        sys.path.insert(0, str(_UNIT / _folder))

from kb_fixtures import SyntheticKb, make_kb  # noqa: E402

from semtalk.generators.face_renderer import FaceRenderer  # noqa: E402


@pytest.fixture(scope="session")
def synthetic() -> SyntheticKb:
    return make_kb(seed=0)


@pytest.fixture(scope="session")
def renderer(synthetic: SyntheticKb) -> FaceRenderer:
    return FaceRenderer(synthetic.kb)
