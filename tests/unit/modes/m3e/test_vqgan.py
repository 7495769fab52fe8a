"""The paper's VQGAN generators are named components that refuse in one line: no weights offline."""

from __future__ import annotations

import pytest

from semtalk import registry
from semtalk.errors import SemtalkError


@pytest.mark.parametrize("name", ["vqgan-image", "vqgan-audio"])
def test_a_vqgan_generator_says_it_has_no_weights(name):
    assert name in registry.names("text_generator")
    with pytest.raises(SemtalkError, match="no weights available offline"):
        registry.get("text_generator", name)()
