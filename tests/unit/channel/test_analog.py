from __future__ import annotations

import numpy as np
import pytest

from semtalk.channel.analog import AnalogChannel
from semtalk.records import Datagram
from semtalk.streams.audio import DIGITAL_BYTES, AudioDepacketizer, AudioPacketizer


def _send(channel: AnalogChannel, symbols: np.ndarray) -> np.ndarray:
    packet = AudioPacketizer("asc", 7, span=3200).push(symbols)
    [out] = channel([Datagram(packet, 1.0)])
    assert out.data[:DIGITAL_BYTES] == packet[:DIGITAL_BYTES] and out.time == 1.0
    [(_, got)] = AudioDepacketizer("asc", 7)(out.data)
    return got


@pytest.mark.parametrize("kind", ["awgn", "rayleigh"])
def test_noise_power_follows_the_snr_and_nothing_is_lost(kind):
    rng = np.random.default_rng(1)
    x = ((rng.standard_normal(20000) + 1j * rng.standard_normal(20000)) / np.sqrt(2)).astype(np.complex64)
    errors = []
    for snr in (0.0, 10.0, 20.0):
        y = _send(AnalogChannel(kind, snr, seed=3), x)
        errors.append(float(np.mean(np.abs(y - x) ** 2)))
    assert errors[0] > errors[1] > errors[2]
    if kind == "awgn":
        assert errors[1] == pytest.approx(0.1, rel=0.05)  # N0 = 10^(-SNR/10) at unit symbol power


def test_channel_uses_count_symbols_and_the_header_bits():
    channel = AnalogChannel("awgn", 10.0, header_bits_per_use=1.0, seed=0)
    _send(channel, np.ones(100, np.complex64))
    assert channel.counts.symbols == 100
    assert channel.counts.channel_uses == 100 + 8 * DIGITAL_BYTES
    assert channel.lost == 0 and channel.sent == 1


def test_a_packet_channel_cannot_carry_analog_symbols():
    with pytest.raises(ValueError):
        AnalogChannel("bernoulli", 10.0)
