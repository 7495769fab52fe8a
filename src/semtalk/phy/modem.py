"""Gray-labelled BPSK / QAM mapping and soft demapping (Sionna ``Mapper`` / ``Demapper``), NumPy in and out.

Constellations have unit average symbol energy (Es = 1). BPSK is Sionna's 1-bit PAM (±1 on the real axis):
Sionna's ``Constellation("qam", m)`` needs an even m (it takes *bits per symbol*: 2 → QPSK, 4 → 16-QAM).

LLRs follow Sionna's logit convention: llr = ln P(b=1|y) / P(b=0|y), so a positive LLR means bit 1. The
demapper is exact APP: llr_i = ln Σ_{c∈C_i,1} exp(−|y−c|²/N0) − ln Σ_{c∈C_i,0} exp(−|y−c|²/N0).
"""

from __future__ import annotations

import numpy as np
import torch
from sionna.phy.mapping import Constellation, Demapper, Mapper

BITS_PER_SYMBOL = {"bpsk": 1, "qpsk": 2, "16qam": 4, "64qam": 6}


def bits_per_symbol(modulation: str) -> int:
    """Coded bits per complex symbol for a modulation name (one of ``BITS_PER_SYMBOL``)."""
    try:
        return BITS_PER_SYMBOL[modulation]
    except KeyError:
        raise ValueError(f"unknown modulation {modulation!r}; choose one of {sorted(BITS_PER_SYMBOL)}") from None


class Modem:
    """Maps bit arrays to complex symbols and received symbols to per-bit LLRs for one modulation."""

    def __init__(self, modulation: str) -> None:
        self.modulation = modulation
        self.bits_per_symbol = bits_per_symbol(modulation)
        kind = "pam" if self.bits_per_symbol == 1 else "qam"
        self.constellation = Constellation(kind, self.bits_per_symbol, device="cpu")
        self._mapper = Mapper(constellation=self.constellation, device="cpu")
        self._demapper = Demapper("app", constellation=self.constellation, device="cpu")

    def modulate(self, bits: np.ndarray) -> np.ndarray:
        """Bits (0/1, last axis a multiple of m) → ``complex64`` symbols, last axis ÷ m."""
        with torch.no_grad():
            x = self._mapper(torch.from_numpy(np.ascontiguousarray(bits, dtype=np.int32)))
        return x.numpy().astype(np.complex64, copy=False)

    def demodulate(self, y: np.ndarray, no: float | np.ndarray) -> np.ndarray:
        """Equalised symbols and noise variance N0 (scalar or per symbol) → ``float32`` LLRs, last axis × m."""
        no_t = torch.as_tensor(np.asarray(no, dtype=np.float32))
        with torch.no_grad():
            llr = self._demapper(torch.from_numpy(np.ascontiguousarray(y, dtype=np.complex64)), no_t)
        return llr.numpy()


def hard_decisions(llr: np.ndarray) -> np.ndarray:
    """Bit decisions from logit-convention LLRs: 1 where llr > 0."""
    return (llr > 0).astype(np.uint8)
