"""Effective bandwidth from the long-term spectrum: a steep low-pass is found where it cuts."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.dsp.signal import bandwidth_hz
from tests.unit.dsp.dsp_fixtures import steep_low_pass

RATE = 16000


@pytest.mark.parametrize("cutoff", [2000.0, 3400.0, 4000.0, 6000.0])
def test_bandwidth_of_low_passed_noise_is_its_cutoff(cutoff: float) -> None:
    noise = np.random.default_rng(0).normal(size=4 * RATE)
    assert bandwidth_hz(steep_low_pass(noise, cutoff, RATE), RATE) == pytest.approx(cutoff, rel=0.1)
    assert bandwidth_hz(noise, RATE) == pytest.approx(RATE / 2, rel=0.1)


def test_silence_has_no_bandwidth() -> None:
    with pytest.raises(ValueError, match=r"^a silent signal has no bandwidth$"):
        bandwidth_hz(np.zeros(RATE), RATE)
