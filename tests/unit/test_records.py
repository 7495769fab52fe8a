"""``config_from``: a config dataclass takes the same-named fields of a wider config; overrides win."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from semtalk.link.simulated import ChannelConfig
from semtalk.records import config_from


@dataclass(frozen=True)
class Narrow:
    loss: float = 0.0
    seed: int = 0
    delay: float = 1.0
    derived: int = field(default=-1, init=False)


@dataclass(frozen=True)
class Wide:
    loss: float = 0.3
    seed: int = 5
    burst: float = 2.0
    derived: int = 99
    name: str = "wide"


def test_same_named_fields_are_picked_and_the_rest_keep_their_defaults():
    assert config_from(Narrow, Wide()) == Narrow(loss=0.3, seed=5, delay=1.0)
    assert config_from(Narrow, Wide()).derived == -1  # not an init field: never copied


def test_overrides_win_over_the_source():
    assert config_from(Narrow, Wide(), seed=9) == Narrow(loss=0.3, seed=9)
    assert config_from(Narrow, Wide(), delay=0.2, loss=0.0) == Narrow(loss=0.0, seed=5, delay=0.2)


def test_any_object_with_attributes_is_a_source_and_unknown_overrides_are_refused():
    run = SimpleNamespace(channel="gilbert_elliott", loss=0.1, burst=3.0, seed=4, fps=25.0)
    assert config_from(ChannelConfig, run) == ChannelConfig(channel="gilbert_elliott", loss=0.1, burst=3.0, seed=4)
    with pytest.raises(TypeError):
        config_from(Narrow, Wide(), nonsense=1)
