"""Analog link for learned joint source–channel coding: complex symbols in, noisy complex symbols out.

Differentiable in torch (the noise and fading are constants of the graph, so gradients reach the encoder), with
the digital radio's SNR definition: the transmitted symbols are normalised to average power Es = 1 per complex
symbol and the complex noise is CN(0, N0), N0 = 10^(−snr_db/10). Rayleigh fading is flat block fading,
h ~ CN(0, 1) held for ``coherence`` symbols along the last axis (1 = fast fading), so the mean received SNR is
the same; the receiver knows h (perfect CSI) and may equalise.

Symbols come as a complex tensor [..., n] or as a real tensor of (re, im) pairs [..., n, 2]; the output has the
same form. The power normalisation is per item over the symbol axis (Deep JSCC's per-image constraint).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from semtalk.phy.channel import ChannelKind

Equalizer = Literal["mmse", "zf", "none"]
Rng = np.random.Generator | torch.Generator | None


def normalize_power(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Scale complex symbols so that mean |x|² over the last axis is 1 (per item)."""
    power = x.real.square().add(x.imag.square()).mean(dim=-1, keepdim=True)
    return x / torch.sqrt(power + eps)


def _complex_normal(shape: tuple[int, ...], like: torch.Tensor, rng: Rng) -> torch.Tensor:
    """CN(0, 1) samples (unit variance, ½ per real dimension) of ``shape`` on ``like``'s device."""
    real_dtype = torch.float64 if like.dtype == torch.complex128 else torch.float32
    if isinstance(rng, np.random.Generator):
        g = torch.from_numpy(rng.standard_normal((*shape, 2))).to(like.device, real_dtype)
    else:
        g = torch.randn((*shape, 2), generator=rng, device=like.device, dtype=real_dtype)
    return torch.view_as_complex(g * math.sqrt(0.5))


def analog_channel(
    x: torch.Tensor,
    snr_db: float,
    *,
    channel: ChannelKind = "awgn",
    coherence: int = 1,
    equalizer: Equalizer = "mmse",
    normalize: bool = True,
    rng: Rng = None,
) -> torch.Tensor:
    """Pass symbols through AWGN or flat block Rayleigh fading at Es/N0 = ``snr_db``.

    ``normalize`` scales the input to unit average power first (set it False only if the caller already did).
    Rayleigh output with perfect CSI: ``"mmse"`` → h*·y/(|h|² + N0) (bounded, what a learned decoder trains on
    best), ``"zf"`` → y/h (unbiased, noise N0/|h|²), ``"none"`` → y = h·x + n. ``rng`` is a NumPy generator, a
    torch generator on x's device, or None for torch's global one.
    """
    pairs = not x.is_complex()
    if pairs:
        if x.shape[-1] != 2:
            raise ValueError("a real input must have a last axis of 2 (re, im)")
        x = torch.view_as_complex((x if x.dtype == torch.float64 else x.float()).contiguous())
    if normalize:
        x = normalize_power(x)
    no = 10.0 ** (-snr_db / 10.0)
    if channel == "awgn":
        y = x + math.sqrt(no) * _complex_normal(tuple(x.shape), x, rng)
    elif channel == "rayleigh":
        if coherence < 1:
            raise ValueError("coherence must be ≥ 1 symbol")
        n = x.shape[-1]
        h = _complex_normal((*x.shape[:-1], -(-n // coherence)), x, rng)
        h = h.repeat_interleave(coherence, dim=-1)[..., :n]
        y = h * x + math.sqrt(no) * _complex_normal(tuple(x.shape), x, rng)
        if equalizer == "mmse":
            y = h.conj() * y / (h.real.square() + h.imag.square() + no)
        elif equalizer == "zf":
            y = y / h
        elif equalizer != "none":
            raise ValueError(f"unknown equalizer {equalizer!r}")
    else:
        raise ValueError(f"unknown channel {channel!r}")
    return torch.view_as_real(y) if pairs else y


class AnalogLink(torch.nn.Module):
    """``analog_channel`` as a module with a fixed channel configuration; the SNR is a call argument."""

    def __init__(self, channel: ChannelKind = "awgn", coherence: int = 1, equalizer: Equalizer = "mmse") -> None:
        super().__init__()
        self.channel, self.coherence, self.equalizer = channel, coherence, equalizer

    def forward(self, x: torch.Tensor, snr_db: float, rng: Rng = None) -> torch.Tensor:
        return analog_channel(x, snr_db, channel=self.channel, coherence=self.coherence, equalizer=self.equalizer,
                              rng=rng)


def transmit(symbols: np.ndarray, snr_db: float | None, link: AnalogLink, rng: Rng = None) -> np.ndarray:
    """NumPy ``symbols`` through ``link`` at ``snr_db`` (None: noiseless), as the receiver gets them (equalised):
    how the learned coders' ``encode`` output is sent in evaluation and benchmarks."""
    if snr_db is None or not len(symbols):
        return symbols
    with torch.no_grad():
        return link(torch.from_numpy(np.asarray(symbols, np.complex64)), snr_db, rng).numpy()
