"""PacSC network (SyncSC §III-B, eqs. 10–19): a masked-autoencoder transformer whose code rows are packets.

Data flow of one block (``F = 20`` frames of 16 coefficients, codes scaled to [0, 1])::

    X (N_pv × D_v) ─conv(kernel = stride = n_p)─► T tokens + pos ─► transformer ─► mix T → M rows
      ─► norm ─► linear ─► tanh ─► E (M × D_p), quantised to 8 bits ─► rows are packets ─►
    channel (row dropout) ─► linear(received rows) or mask token, + row pos ─► mix M → T tokens + pos
      ─► transformer ─► norm ─► MLP ─► X̂

How our 16 coefficients map onto ``D_v`` (the paper's vectors): the block's ``F × 16`` values are read
row-major as ``N_pv = F·16 / D_v`` vectors. Code rate 1/2: ``D_v = 8`` (each frame is two vectors),
``N_pv = 40``, ``n_p = 2`` (one token per frame), ``M = 8`` rows of ``D_p = 80``. Code rate 1/4:
``D_v = 16`` (one vector per frame), ``N_pv = 20``, ``n_p = 2`` (one token per two frames), ``M = 16``
rows of ``D_p = 80``. Code rate = source values / transmitted values = ``F·16 / (M·D_p)``. The block and
packet counts equal those of RS with ``k = 4`` packets of 5 frames (n = 8 or 16), so both codes see
the same packets lost and wait for the same play-out delay.
"""

from __future__ import annotations

import torch
from torch import nn

from semtalk.learned.pacsc.config import PacscConfig


def _stack(cfg: PacscConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.heads, cfg.ff, dropout=0.0, batch_first=True,
                                       norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class PacscEncoder(nn.Module):
    """X (B, N_pv, D_v) → E (B, M, D_p) in [-1, 1] (eqs. 10–13).

    The T patch tokens are mixed into the M packet rows by a learned (M × T) matrix. Rows as extra
    attention queries would start as the block mean (attention is uniform at initialisation) and
    learn per-frame detail only slowly; the linear mix keeps a direct path from every frame to every
    row, which is what an erasure code needs.
    """

    def __init__(self, cfg: PacscConfig):
        super().__init__()
        self.cfg = cfg
        self.patch = nn.Conv1d(cfg.d_v, cfg.d_model, kernel_size=cfg.n_p, stride=cfg.n_p)
        self.pos = nn.Parameter(0.02 * torch.randn(1, cfg.tokens, cfg.d_model))
        self.blocks = _stack(cfg, cfg.enc_layers)
        self.mix = nn.Parameter(torch.randn(cfg.rows, cfg.tokens) / cfg.tokens**0.5)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.patch(x.transpose(1, 2)).transpose(1, 2) + self.pos)
        return torch.tanh(self.out(self.norm(torch.einsum("mt,btd->bmd", self.mix, h))))


class PacscDecoder(nn.Module):
    """Received rows (lost ones replaced by a mask token) → X̂ (B, N_pv, D_v) (eqs. 14–17)."""

    def __init__(self, cfg: PacscConfig):
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Linear(cfg.d_p, cfg.d_model)
        self.lost = nn.Parameter(0.02 * torch.randn(1, 1, cfg.d_model))  # MAE mask token
        self.row_pos = nn.Parameter(0.02 * torch.randn(1, cfg.rows, cfg.d_model))
        self.mix = nn.Parameter(torch.randn(cfg.tokens, cfg.rows) / cfg.rows**0.5)
        self.pos = nn.Parameter(0.02 * torch.randn(1, cfg.tokens, cfg.d_model))
        self.blocks = _stack(cfg, cfg.dec_layers)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.ff), nn.GELU(), nn.Linear(cfg.ff, cfg.n_p * cfg.d_v))

    def forward(self, e: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(e.dtype)
        rows = m * self.inp(e * m) + (1 - m) * self.lost + self.row_pos
        h = self.blocks(torch.einsum("tm,bmd->btd", self.mix, rows) + self.pos)
        return self.mlp(self.norm(h)).reshape(len(e), self.cfg.n_pv, self.cfg.d_v)


class PacscModel(nn.Module):
    """Encoder, 8-bit row quantiser (straight-through in training) and decoder.

    Frames are standardised per coefficient (``mean``, ``scale``: buffers fitted on the training codes)
    before the encoder and restored after the decoder: a talking face moves each code by only a few
    percent of its range, and the network learns far faster on unit-scale deviations.
    """

    def __init__(self, cfg: PacscConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = PacscEncoder(cfg)
        self.decoder = PacscDecoder(cfg)
        self.register_buffer("mean", torch.full((cfg.n_coeffs,), 0.5))
        self.register_buffer("scale", torch.ones(cfg.n_coeffs))

    def blocks(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, F, n_coeffs) → standardised X (B, N_pv, D_v): the documented row-major mapping."""
        return ((frames - self.mean) / self.scale).reshape(len(frames), self.cfg.n_pv, self.cfg.d_v)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (B, F, C) in [0, 1] → E (B, M, D_p) in [-1, 1], before quantisation."""
        return self.encoder(self.blocks(frames))

    def decode(self, e: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Received E (B, M, D_p) and row mask (B, M) → frames (B, F, C) on the [0, 1] scale."""
        x = self.decoder(e, mask).reshape(len(e), self.cfg.frames, self.cfg.n_coeffs)
        return x * self.scale + self.mean

    @staticmethod
    def quantise(e: torch.Tensor, bits: int = 8) -> torch.Tensor:
        """Uniform ``bits``-bit levels over [-1, 1]; gradients pass straight through."""
        levels = (1 << bits) - 1
        q = torch.round((e + 1) / 2 * levels) / levels * 2 - 1
        return e + (q - e).detach()

    def forward(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Training pass: frames (B, F, C) and row mask (B, M) → reconstructed frames (B, F, C)."""
        return self.decode(self.quantise(self.encode(frames)), mask)


class LinearDiscriminator(nn.Module):
    """The linear-projection discriminator of the GAN term (eq. 19): one logit per block."""

    def __init__(self, cfg: PacscConfig):
        super().__init__()
        self.proj = nn.Linear(cfg.frames * cfg.n_coeffs, 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.proj(frames.flatten(1)).squeeze(-1)
