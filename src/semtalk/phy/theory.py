"""Closed-form references that the simulated radio is checked against, and Seb's bandwidth accounting.

All Eb/N0 and SNR arguments are in dB; functions accept scalars or arrays and return the same shape.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc


def db_to_linear(db: ArrayLike) -> np.ndarray:
    """10^(dB/10)."""
    return np.power(10.0, np.asarray(db, dtype=np.float64) / 10.0)


def linear_to_db(x: ArrayLike) -> np.ndarray:
    """10·log10(x)."""
    return 10.0 * np.log10(np.asarray(x, dtype=np.float64))


def q_function(x: ArrayLike) -> np.ndarray:
    """Gaussian tail Q(x) = P(N(0,1) > x) = ½·erfc(x/√2)."""
    return 0.5 * erfc(np.asarray(x, dtype=np.float64) / np.sqrt(2.0))


def ber_bpsk_awgn(ebno_db: ArrayLike) -> np.ndarray:
    """Uncoded BPSK (and Gray QPSK, which is two BPSKs in quadrature) bit error rate over AWGN.

    P_b = Q(√(2·Eb/N0))  (Proakis, Digital Communications, 5th ed., eq. 4.3-13).
    """
    return q_function(np.sqrt(2.0 * db_to_linear(ebno_db)))


def ber_bpsk_rayleigh(ebno_db: ArrayLike) -> np.ndarray:
    """Uncoded BPSK / Gray QPSK bit error rate over flat Rayleigh fading with perfect CSI (coherent detection).

    P_b = ½·(1 − √(γ/(1+γ))) with γ = E|h|²·Eb/N0 the mean SNR per bit (Proakis, eq. 13.3-7).
    """
    gamma = db_to_linear(ebno_db)
    return 0.5 * (1.0 - np.sqrt(gamma / (1.0 + gamma)))


def awgn_capacity(snr_db: ArrayLike) -> np.ndarray:
    """Shannon capacity of the complex AWGN channel, bits per channel use: log2(1 + SNR)."""
    return np.log2(1.0 + db_to_linear(snr_db))


def channel_bandwidth_ratio(channel_uses: float, source_dims: float) -> float:
    """Seb's channel bandwidth ratio CBR = channel uses (complex symbols) ÷ source dimensions.

    For an H×W RGB image the source dimension is 3·H·W; for a stream, use per-second rates for both.
    """
    if source_dims <= 0:
        raise ValueError("source_dims must be positive")
    return float(channel_uses) / float(source_dims)


def capacity_snr_threshold(bpp: ArrayLike, cbr: ArrayLike) -> np.ndarray:
    """Smallest linear SNR at which an ideal capacity-achieving code carries ``bpp`` over bandwidth ratio ``cbr``.

    An H×W image at ``bpp`` bits per pixel has bpp·H·W bits; it gets CBR·3·H·W channel uses, each carrying at
    most log2(1 + SNR) bits. So bpp ≤ 3·CBR·log2(1 + SNR), i.e. SNR ≥ 2^(bpp/(3·CBR)) − 1 (Seb's ideal-capacity
    check). A digital scheme needing less SNR than this is impossible; one needing more is that far from ideal.
    """
    bpp = np.asarray(bpp, dtype=np.float64)
    cbr = np.asarray(cbr, dtype=np.float64)
    return np.power(2.0, bpp / (3.0 * cbr)) - 1.0


def capacity_snr_threshold_db(bpp: ArrayLike, cbr: ArrayLike) -> np.ndarray:
    """``capacity_snr_threshold`` in dB (−inf when bpp = 0)."""
    with np.errstate(divide="ignore"):
        return linear_to_db(capacity_snr_threshold(bpp, cbr))
