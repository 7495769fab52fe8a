"""Fixtures for the knowledge-base tests: one synthetic KB (kb_fixtures.py) and its bytes.

The synthetic faces live in ../semantics/face_fixtures.py; that folder is put on ``sys.path`` here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_SEMANTICS = str(Path(__file__).resolve().parents[1] / "semantics")
if _SEMANTICS not in sys.path:
    sys.path.insert(0, _SEMANTICS)

from kb_fixtures import SyntheticKb, make_kb  # noqa: E402


@pytest.fixture(scope="session")
def synthetic() -> SyntheticKb:
    return make_kb(seed=0)


@pytest.fixture(scope="session")
def kb_bytes(synthetic: SyntheticKb) -> bytes:
    return synthetic.kb.to_bytes()
