"""``check_config``: settings that cannot work are refused with one line naming the flag, before any work."""

from __future__ import annotations

import pytest

from semtalk.call.run import RunConfig, check_config
from semtalk.errors import SemtalkError


@pytest.mark.parametrize("settings, message", [
    ({"channel": "awgn", "loss": 0.1}, "--loss is for the packet channels"),
    ({"channel": "rayleigh", "burst": 3.0}, "--burst is for the packet channels"),
    ({"snr": 3.0}, "--snr sets up a radio link: add --channel awgn or --channel rayleigh"),
    ({"channel": "gilbert_elliott", "loss": 0.1, "burst": 2.0, "modulation": "16qam"}, "--modulation sets up"),
    ({"channel": "awgn", "csi": "estimated"}, "--csi estimated needs --channel rayleigh"),
    ({"channel": "awgn", "modulation": "8psk"}, "--modulation must be one of bpsk, qpsk, 16qam, 64qam"),
    ({"channel": "awgn", "ldpc_rate": 0.6}, "--ldpc-rate: unsupported LDPC rate 0.6"),
    ({"channel": "awgn", "snr": 99.0}, "--snr is Es/N0 in dB and must be in [-30, 60]"),
    ({"channel": "rayleigh", "coherence": 0}, "--coherence is the fading block in symbols"),
    ({"channel": "rayleigh", "csi": "estimated", "coherence": 4, "pilots": 4}, "--pilots must be in 1..3"),
])
def test_nonsense_radio_and_packet_combinations_are_refused(settings, message):
    with pytest.raises(SemtalkError, match=message.replace("[", r"\[").replace(".", r"\.")):
        check_config(RunConfig(**settings))


@pytest.mark.parametrize("settings", [
    {"channel": "awgn", "snr": 0.0, "modulation": "64qam", "ldpc_rate": 5 / 6},
    {"channel": "rayleigh", "snr": 6.0, "modulation": "16qam", "ldpc_rate": 0.5, "csi": "estimated"},
    {"channel": "rayleigh", "coherence": 1},
    {"channel": "bernoulli", "loss": 0.2},
])
def test_sensible_settings_pass(settings):
    check_config(RunConfig(**settings))
