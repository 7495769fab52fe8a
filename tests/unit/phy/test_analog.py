"""Analog JSCC link: the SNR it really applies, power normalisation, fading, gradients, seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from semtalk.phy.analog import AnalogLink, analog_channel, normalize_power

N = 200_000


def symbols(seed: int = 0, scale: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(N, generator=g), torch.randn(N, generator=g)) * scale


def db(x: float) -> float:
    return 10 * math.log10(x)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_measured_awgn_snr_is_the_set_one(snr_db):
    x = symbols()
    y = analog_channel(x, snr_db, rng=np.random.default_rng(1))
    sent = normalize_power(x)
    signal = sent.abs().square().mean().item()
    noise = (y - sent).abs().square().mean().item()
    assert signal == pytest.approx(1.0, rel=1e-4)  # average power normalised to 1
    assert abs(db(signal / noise) - snr_db) < 0.2


@pytest.mark.parametrize("coherence", [1, 10])
def test_rayleigh_keeps_the_mean_snr_and_zf_undoes_the_fading(coherence):
    x = normalize_power(symbols(2))
    faded = analog_channel(x, 300.0, channel="rayleigh", coherence=coherence, equalizer="none",
                           rng=np.random.default_rng(3))
    y = analog_channel(x, 10.0, channel="rayleigh", coherence=coherence, equalizer="none",
                       rng=np.random.default_rng(3))  # same fades and noise draws, noise scaled to 10 dB
    signal = faded.abs().square().mean().item()
    assert abs(db(signal / (y - faded).abs().square().mean().item()) - 10.0) < 0.2
    h = faded / x
    assert torch.allclose(h.reshape(-1, coherence), h.reshape(-1, coherence)[:, :1].expand(-1, coherence), atol=1e-4)
    zf = analog_channel(x, 300.0, channel="rayleigh", coherence=coherence, equalizer="zf",
                        rng=np.random.default_rng(3))
    assert torch.allclose(zf, x, atol=1e-3)


def test_mmse_output_is_bounded_where_zf_blows_up():
    x = normalize_power(symbols(4))
    zf = analog_channel(x, 0.0, channel="rayleigh", equalizer="zf", rng=np.random.default_rng(5))
    mmse = analog_channel(x, 0.0, channel="rayleigh", equalizer="mmse", rng=np.random.default_rng(5))
    assert mmse.abs().max() < zf.abs().max()
    assert (mmse - x).abs().square().mean() < (zf - x).abs().square().mean()


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_gradients_flow_through_the_link(channel):
    x = torch.randn(4, 64, 2, requires_grad=True)  # real (re, im) pairs, per-item normalisation
    y = AnalogLink(channel)(x, 5.0, rng=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not y.is_complex()
    loss = (y - x).square().mean()
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_power_is_normalised_per_item_and_pairs_match_complex():
    x = torch.randn(3, 100, 2) * torch.tensor([1.0, 10.0, 0.1]).reshape(3, 1, 1)
    y = normalize_power(torch.view_as_complex(x))
    assert torch.allclose(y.abs().square().mean(dim=-1), torch.ones(3), atol=1e-5)
    a = analog_channel(x, 7.0, rng=np.random.default_rng(6))
    b = analog_channel(torch.view_as_complex(x), 7.0, rng=np.random.default_rng(6))
    assert torch.allclose(torch.view_as_complex(a.contiguous()), b)


def test_same_seed_same_output_different_seed_differs():
    x = symbols(7)[:1000]
    a, b, c = (analog_channel(x, 3.0, channel="rayleigh", rng=np.random.default_rng(s)) for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_unknown_channel_and_bad_pairs_are_rejected():
    with pytest.raises(ValueError):
        analog_channel(symbols()[:10], 0.0, channel="rician")
    with pytest.raises(ValueError):
        analog_channel(torch.randn(10, 3), 0.0)
