"""Shapes of the text coder: vocabulary, widths, symbols per token, the longest piece coded at once.

Channel use: every token takes ``symbols_per_token`` complex symbols (``2·symbols_per_token`` reals from the
stacked autoencoder), so the receiver reads the token count off the symbol count and needs no side
information. Text longer than ``max_tokens`` tokens is cut into near-equal pieces of at most ``max_tokens``,
each coded (and power-normalised) alone; ``pieces`` gives the cut from the token count alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class TextCoderConfig:
    """LGM-TSC's text semantic + channel coder scaled to CPU training (the paper: 768 → 256 per token).

    ``width`` is the transformers' model width (token embedding and output tied), ``hidden`` the stacked
    autoencoder's middle layer: ``width → hidden → 2·symbols_per_token`` and back.
    """

    vocab: int = 4096
    width: int = 128
    heads: int = 4
    layers: int = 2  # each of encoder and decoder
    feedforward: int = 512
    hidden: int = 64
    symbols_per_token: int = 6
    max_tokens: int = 64
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not a multiple of heads {self.heads}")
        if min(self.vocab, self.symbols_per_token, self.max_tokens, self.layers) < 1:
            raise ValueError("vocab, symbols_per_token, max_tokens and layers must be ≥ 1")

    def to_dict(self) -> dict:
        return asdict(self)


def pieces(n_tokens: int, max_tokens: int) -> list[int]:
    """Lengths of the near-equal pieces (longest first) that ``n_tokens`` tokens are coded in."""
    count = -(-n_tokens // max_tokens)
    base, extra = divmod(n_tokens, count) if count else (0, 0)
    return [base + 1] * extra + [base] * (count - extra)
