"""Fixtures for the knowledge-base tests: one synthetic KB (kb_fixtures.py) and its bytes.

The synthetic faces live in ../semantics/face/face_fixtures.py.
"""

from __future__ import annotations

import pytest

from tests.unit.kb.kb_fixtures import SyntheticKb, make_kb


@pytest.fixture(scope="session")
def synthetic() -> SyntheticKb:
    return make_kb(seed=0)


@pytest.fixture(scope="session")
def kb_bytes(synthetic: SyntheticKb) -> bytes:
    return synthetic.kb.to_bytes()
