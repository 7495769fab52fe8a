"""Shapes of the PacSC codes: ``PacscConfig``, the shipped rates and the 8-bit quantisation.

Shared by the block codes (``code``, ``linear``), the network (``model``) and training (``train``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

LEVELS = 255  # 8 bits per transmitted value


@dataclass(frozen=True)
class PacscConfig:
    """Shapes of one PacSC code; ``code_rate`` follows from them."""

    frames: int = 20
    n_coeffs: int = 16
    d_v: int = 8
    n_p: int = 2
    rows: int = 8  # M: packets per block
    d_p: int = 80  # values per packet
    d_model: int = 64
    heads: int = 4
    enc_layers: int = 2
    dec_layers: int = 2
    ff: int = 128

    def __post_init__(self) -> None:
        if (self.frames * self.n_coeffs) % self.d_v or self.n_pv % self.n_p:
            raise ValueError(f"block of {self.frames}×{self.n_coeffs} values does not split into vectors of "
                             f"D_v={self.d_v} and patches of n_p={self.n_p}")
        if self.d_p % self.n_coeffs or self.frames % self.frames_per_row or self.rows <= self.systematic_rows:
            raise ValueError(f"{self.rows} rows of D_p={self.d_p} cannot carry {self.frames} frames of "
                             f"{self.n_coeffs} codes plus parity")

    @property
    def n_pv(self) -> int:
        return self.frames * self.n_coeffs // self.d_v

    @property
    def frames_per_row(self) -> int:
        return self.d_p // self.n_coeffs

    @property
    def systematic_rows(self) -> int:
        """K: rows that carry the codes themselves."""
        return self.frames // self.frames_per_row

    @property
    def parity_rows(self) -> int:
        """P: learned rows."""
        return self.rows - self.systematic_rows

    @property
    def tokens(self) -> int:
        return self.n_pv // self.n_p

    @property
    def code_rate(self) -> float:
        return self.frames * self.n_coeffs / (self.rows * self.d_p)

    def to_dict(self) -> dict:
        return asdict(self)


RATE_CONFIGS = {
    0.5: PacscConfig(d_v=8, n_p=2, rows=8, d_p=80),
    0.25: PacscConfig(d_v=16, n_p=2, rows=16, d_p=80),
}


def rate_config(code_rate: float) -> PacscConfig:
    """The shipped configuration nearest to ``code_rate``; ValueError if none is within 1 %."""
    for rate, cfg in RATE_CONFIGS.items():
        if abs(rate - code_rate) <= 0.01 * rate:
            return cfg
    raise ValueError(f"PacSC code rate must be one of {', '.join(map(str, RATE_CONFIGS))}, got {code_rate}")
