"""Text coder network (LGM-TSC's learned text semantic + channel coder, scaled down): forward() trains.

Data flow of one piece of n ≤ ``max_tokens`` tokens, coded alone::

    tokens (n) ─ embedding + position ─ transformer encoder (non-causal) ─► semantic features (n × width)
      ─ stacked autoencoder per token: width → hidden → 2m reals ─► m complex symbols per token
      ─ power normalisation over the piece (mean |s|² = 1) ─ symbol-major air order ─► n·m symbols
      ─► AWGN / block Rayleigh + MMSE (``semtalk.phy.analog``) ─► ŝ
      ─ per token: 2m → hidden → width, + position ─ transformer decoder (non-causal)
      ─ final linear, tied to the embedding ─► token logits (n × vocab)

The paper's 768 → 256 per-token autoencoder becomes width → hidden → 2m. Air order is symbol-major (symbol
``j·n + t`` is token t's j-th symbol), so a fade held for ``coherence`` symbols dims one symbol of many tokens
rather than every symbol of a few. Training loss: cross-entropy of the tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from semtalk.learned.textcoder.config import TextCoderConfig
from semtalk.phy.analog import AnalogLink, Rng

RAYLEIGH = AnalogLink("rayleigh", coherence=100)  # the analog link's default fading, perfect CSI, MMSE
AWGN = AnalogLink("awgn")


def to_air(s: torch.Tensor) -> torch.Tensor:
    """A piece's symbols (n, m) → the order they go on air (n·m,): symbol-major."""
    return s.transpose(0, 1).reshape(-1)


def from_air(y: torch.Tensor, n: int) -> torch.Tensor:
    """Inverse of ``to_air`` for a piece of ``n`` tokens."""
    return y.reshape(-1, n).transpose(0, 1)


def _stack(layers: int, cfg: TextCoderConfig) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(cfg.width, cfg.heads, cfg.feedforward, cfg.dropout, activation="gelu",
                                       batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(cfg.width), enable_nested_tensor=False)


class TextCoderModel(nn.Module):
    """Encoder, per-token stacked autoencoder to complex symbols, analog channel (training only), decoder.

    Batches are padded: ``tokens`` (B, L) with ``lengths`` (B,) valid tokens each; padding is masked in
    attention, in the power normalisation and in the loss.
    """

    def __init__(self, cfg: TextCoderConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or TextCoderConfig()
        self.embed = nn.Embedding(cfg.vocab, cfg.width)
        self.enc_pos = nn.Embedding(cfg.max_tokens, cfg.width)
        self.dec_pos = nn.Embedding(cfg.max_tokens, cfg.width)
        self.encoder = _stack(cfg.layers, cfg)
        self.to_symbols = nn.Sequential(nn.Linear(cfg.width, cfg.hidden), nn.GELU(),
                                        nn.Linear(cfg.hidden, 2 * cfg.symbols_per_token))
        self.from_symbols = nn.Sequential(nn.Linear(2 * cfg.symbols_per_token, cfg.hidden), nn.GELU(),
                                          nn.Linear(cfg.hidden, cfg.width))
        self.decoder = _stack(cfg.layers, cfg)
        self.out_bias = nn.Parameter(torch.zeros(cfg.vocab))
        nn.init.normal_(self.embed.weight, std=cfg.width ** -0.5)

    @staticmethod
    def _mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
        """(B, size) True on valid tokens."""
        return torch.arange(size, device=lengths.device)[None] < lengths[:, None]

    def transmit(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Tokens (B, L) → complex symbols (B, L, m), zero on padding, mean |s|² = 1 over each piece's tokens."""
        valid = self._mask(lengths, tokens.shape[1])
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        h = self.encoder(self.embed(tokens) * self.cfg.width ** 0.5 + self.enc_pos(pos), src_key_padding_mask=~valid)
        z = self.to_symbols(h).reshape(*tokens.shape, self.cfg.symbols_per_token, 2)
        s = torch.view_as_complex(z.float().contiguous()) * valid[..., None]
        power = s.real.square().add(s.imag.square()).sum((1, 2)) / (lengths * self.cfg.symbols_per_token)
        return s / torch.sqrt(power + 1e-12)[:, None, None]

    def receive(self, s: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Received symbols (B, L, m) → token logits (B, L, vocab)."""
        valid = self._mask(lengths, s.shape[1])
        pos = torch.arange(s.shape[1], device=s.device)
        h = self.from_symbols(torch.view_as_real(s).flatten(2)) + self.dec_pos(pos)
        h = self.decoder(h, src_key_padding_mask=~valid)
        return h @ self.embed.weight.T + self.out_bias

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, snr_db: float | Sequence[float] | None,
                link: AnalogLink | Sequence[AnalogLink] = RAYLEIGH, rng: Rng = None) -> torch.Tensor:
        """Training pass: tokens (B, L) → logits (B, L, vocab) through ``link`` at ``snr_db``.

        ``snr_db`` and ``link`` are one for the batch or one per piece; ``None`` is a noiseless channel. Each
        piece goes on air alone, in air order, as ``code.TextCoder`` sends it.
        """
        s = self.transmit(tokens, lengths)
        if snr_db is None:
            return self.receive(s, lengths)
        snrs = [snr_db] * len(s) if isinstance(snr_db, int | float) else snr_db
        links = [link] * len(s) if isinstance(link, AnalogLink) else link
        rows = []
        for i, (lk, snr) in enumerate(zip(links, snrs, strict=True)):
            n = int(lengths[i])
            y = from_air(lk(to_air(s[i, :n]), float(snr), rng), n)
            rows.append(torch.cat([y, s.new_zeros(s.shape[1] - n, s.shape[2])]))
        return self.receive(torch.stack(rows), lengths)


def token_loss(logits: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per valid token, mean over the batch's tokens."""
    valid = TextCoderModel._mask(lengths, tokens.shape[1])
    return nn.functional.cross_entropy(logits[valid], tokens[valid])
