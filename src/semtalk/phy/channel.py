"""Symbol channels for the digital radio: AWGN, flat block Rayleigh fading, pilots, LS estimation, equalisation.

Pure NumPy on complex symbol streams (1-D ``complex64`` arrays). Randomness comes in as an explicit
``np.random.Generator``; drawing the fading (``draw_rayleigh``) and applying it (``apply_fading``) are separate
steps so a caller can reuse or inspect the gains. SNR convention: Es/N0 per complex symbol, Es = 1, so the
complex noise variance is N0 = 10^(−snr_db/10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

ChannelKind = Literal["awgn", "rayleigh"]
CsiKind = Literal["perfect", "estimated"]
PILOT_SYMBOL = np.complex64(1.0 + 0.0j)  # known unit-energy pilot (Es = 1 like the data)


def snr_db_to_no(snr_db: float) -> float:
    """N0 for Es/N0 = ``snr_db`` with Es = 1: N0 = 10^(−snr_db/10)."""
    return float(10.0 ** (-snr_db / 10.0))


def ebno_to_no(ebno_db: float, bits_per_symbol: int, code_rate: float = 1.0) -> float:
    """N0 for a given Eb/N0 (dB), as Sionna's ``ebnodb2no``: N0 = (Eb/N0 · r · m / Es)^−1 with Es = 1.

    Each complex symbol carries m coded bits, i.e. r·m information bits, so Es = r·m·Eb.
    """
    return float(1.0 / (10.0 ** (ebno_db / 10.0) * code_rate * bits_per_symbol))


def no_to_ebno(no: float, bits_per_symbol: int, code_rate: float = 1.0) -> float:
    """Inverse of ``ebno_to_no``: Eb/N0 in dB = −10·log10(N0 · r · m)."""
    return float(-10.0 * math.log10(no * code_rate * bits_per_symbol))


def ebno_to_snr_db(ebno_db: float, bits_per_symbol: int, code_rate: float = 1.0) -> float:
    """Es/N0 (dB) = Eb/N0 (dB) + 10·log10(r·m)."""
    return float(ebno_db + 10.0 * math.log10(code_rate * bits_per_symbol))


def awgn(x: np.ndarray, no: float, rng: np.random.Generator) -> np.ndarray:
    """x + n with n ~ CN(0, N0): independent N(0, N0/2) real and imaginary parts."""
    noise = rng.standard_normal((2, *x.shape), dtype=np.float32)
    scale = np.float32(math.sqrt(no / 2.0))
    return (x + scale * (noise[0] + 1j * noise[1])).astype(np.complex64)


def draw_rayleigh(num_symbols: int, coherence: int, rng: np.random.Generator) -> np.ndarray:
    """Per-symbol gains of flat block Rayleigh fading: h ~ CN(0, 1), held for ``coherence`` consecutive symbols.

    ``coherence`` = 1 is fast (per-symbol i.i.d.) fading; blocks are independent (block-fading model).
    E|h|² = 1, so the mean received SNR equals the transmitted Es/N0.
    """
    if coherence < 1:
        raise ValueError("coherence must be ≥ 1 symbol")
    blocks = -(-num_symbols // coherence)
    g = rng.standard_normal((2, blocks), dtype=np.float32)
    h = (g[0] + 1j * g[1]).astype(np.complex64) * np.float32(math.sqrt(0.5))
    return np.repeat(h, coherence)[:num_symbols]


def apply_fading(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Multiplicative flat fading y = h·x (noise is added separately by ``awgn``)."""
    return (h * x).astype(np.complex64)


def equalize(y: np.ndarray, h: np.ndarray, no: float, err_var: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Zero-forcing equalisation x̂ = y/ĥ and the effective noise variance per symbol for soft demapping.

    With a perfect gain (err_var = 0) the noise after y/h is CN(0, N0/|h|²). With an estimate ĥ = h + e,
    e ~ CN(0, σe²), the estimation error acts as extra noise of power σe²·Es, so N0_eff = (N0 + σe²)/|ĥ|²
    (the usual mismatched-detector approximation, as in Sionna's LS + LMMSE chain).
    """
    gain = np.maximum(np.abs(h) ** 2, np.float32(1e-12))
    return (y / h).astype(np.complex64), ((no + err_var) / gain).astype(np.float32)


@dataclass(frozen=True)
class PilotLayout:
    """One coherence block = ``pilots`` known pilot symbols followed by ``coherence − pilots`` data symbols.

    Pilots are placed once per coherence block (the fading is constant within a block), they use the same
    energy as data and count as channel uses.
    """

    coherence: int
    pilots: int = 1

    def __post_init__(self) -> None:
        if self.pilots < 1 or self.coherence <= self.pilots:
            raise ValueError(f"pilot estimation needs coherence > pilots (got {self.coherence}, {self.pilots})")

    @property
    def data_per_block(self) -> int:
        return self.coherence - self.pilots

    def num_blocks(self, num_data: int) -> int:
        return -(-num_data // self.data_per_block)

    def channel_uses(self, num_data: int) -> int:
        """Data plus pilot symbols (the last block carries only the remaining data)."""
        return num_data + self.pilots * self.num_blocks(num_data)

    def insert(self, x: np.ndarray) -> np.ndarray:
        """Data stream → air stream with pilots in front of each block's data (length ``channel_uses``)."""
        blocks = self.num_blocks(x.size)
        data = np.zeros(blocks * self.data_per_block, dtype=np.complex64)
        data[: x.size] = x
        grid = np.empty((blocks, self.coherence), dtype=np.complex64)
        grid[:, : self.pilots] = PILOT_SYMBOL
        grid[:, self.pilots :] = data.reshape(blocks, self.data_per_block)
        return grid.reshape(-1)[: self.channel_uses(x.size)]

    def split(self, y: np.ndarray, num_data: int) -> tuple[np.ndarray, np.ndarray]:
        """Air stream → (received pilots [blocks, pilots], received data [num_data])."""
        blocks = self.num_blocks(num_data)
        grid = np.zeros((blocks, self.coherence), dtype=np.complex64)
        grid.reshape(-1)[: y.size] = y
        return grid[:, : self.pilots], grid[:, self.pilots :].reshape(-1)[:num_data]

    def ls_estimate(self, y_pilots: np.ndarray, no: float, num_data: int) -> tuple[np.ndarray, float]:
        """Least-squares gain estimate per block, ĥ = mean_p(y_p / x_p), expanded to each data symbol.

        The error ĥ − h ~ CN(0, N0/(P·|x_p|²)) for P pilots; returns (ĥ per data symbol, that variance).
        """
        h_hat = (y_pilots / PILOT_SYMBOL).mean(axis=1).astype(np.complex64)
        err_var = no / (self.pilots * float(abs(PILOT_SYMBOL)) ** 2)
        return np.repeat(h_hat, self.data_per_block)[:num_data], err_var


@dataclass(frozen=True)
class Equalized:
    """What the receiver hands the soft demapper: equalised symbols and per-symbol effective N0."""

    x_hat: np.ndarray
    no_eff: np.ndarray
    channel_uses: int
    pilot_symbols: int


def through_channel(
    x: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
    *,
    channel: ChannelKind = "awgn",
    coherence: int = 1,
    csi: CsiKind = "perfect",
    pilots: int = 1,
) -> Equalized:
    """Send data symbols ``x`` over the channel and equalise them at the receiver.

    AWGN: y = x + n. Rayleigh: y = h·x + n with block fading over the *air* stream (pilots included), then
    ZF equalisation with the true h (``csi="perfect"``, no pilots sent) or with the LS estimate from the pilots
    (``csi="estimated"``). Fading is drawn before the noise, so a seed fixes both.
    """
    no = snr_db_to_no(snr_db)
    x = np.asarray(x, dtype=np.complex64)
    if channel == "awgn":
        if csi != "perfect":
            raise ValueError("csi='estimated' needs channel='rayleigh'")
        y = awgn(x, no, rng)
        return Equalized(y, np.full(x.size, no, dtype=np.float32), x.size, 0)
    if channel != "rayleigh":
        raise ValueError(f"unknown channel {channel!r}")
    if csi == "perfect":
        h = draw_rayleigh(x.size, coherence, rng)
        y = awgn(apply_fading(x, h), no, rng)
        x_hat, no_eff = equalize(y, h, no)
        return Equalized(x_hat, no_eff, x.size, 0)
    if csi != "estimated":
        raise ValueError(f"unknown csi {csi!r}")
    layout = PilotLayout(coherence, pilots)
    air = layout.insert(x)
    h = draw_rayleigh(air.size, coherence, rng)
    y = awgn(apply_fading(air, h), no, rng)
    y_pilots, y_data = layout.split(y, x.size)
    h_hat, err_var = layout.ls_estimate(y_pilots, no, x.size)
    x_hat, no_eff = equalize(y_data, h_hat, no, err_var)
    return Equalized(x_hat, no_eff, air.size, air.size - x.size)
