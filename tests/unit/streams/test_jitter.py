from __future__ import annotations

import pytest

from semtalk.streams.jitter import AdaptiveDelay


def test_margin_follows_delay_and_jitter_within_bounds():
    d = AdaptiveDelay(base=0.84, low=0.02, high=0.5)
    assert d.delay == pytest.approx(0.86)  # starts at the low bound
    assert d.update(0.0, owd=0.05, jitter=0.01) == pytest.approx(0.84 + 0.05 + 4 * 0.01)
    assert d.update(0.5, owd=0.3, jitter=0.2) == pytest.approx(0.84 + 0.5)  # capped at high
    d.update(1.0, owd=0.0, jitter=0.0)  # the network calms: the margin comes down slowly, not at once
    assert d.margin == pytest.approx(0.5 - 0.05 * 0.5)
    for t in range(2, 40):
        d.update(float(t), owd=0.0, jitter=0.0)
    assert d.margin == pytest.approx(0.02)  # ... and stops at the low bound


def test_late_packets_are_counted_and_raise_the_margin():
    d = AdaptiveDelay(base=0.5, low=0.02, high=1.0)
    assert not d.arrived(capture=1.0, arrival=1.3)  # due at 1.52: on time
    assert d.arrived(capture=1.0, arrival=1.62)  # 0.1 s after its frame was played
    assert d.late_packets == 1 and d.margin == pytest.approx(0.12)


def test_bounds_are_checked():
    with pytest.raises(ValueError):
        AdaptiveDelay(base=0.1, low=0.5, high=0.2)
