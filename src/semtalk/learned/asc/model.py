"""ASC network (Wav2Vid, Table I): a CNN autoencoder of the waveform trained through an analog channel.

Data flow of one chunk (``CHUNK_SAMPLES`` = 3200 samples at 16 kHz, coded alone)::

    x (1 × 3200), g = RMS(x) ─ x / g ─ 6 × [Conv1d + BatchNorm + PReLU] (strides 1, 2, 2, 2, 2, 2)
      ─ Conv1d + BatchNorm, + level(g) · learned pattern ─► z (16 × 100 reals)
      ─ channel pairs (2k, 2k+1) → complex, channel-major ─► s (800 symbols), mean |s|² = 1
      ─► AWGN / block Rayleigh + MMSE (``semtalk.phy.analog``) ─► ŝ ─► ẑ (16 × 100)
      ─ Conv1d + BN + PReLU ─┬─ 5 × [ConvTranspose1d (stride 2) + BN + PReLU] ─ Conv1d + BN + PReLU
                             │   ─ Conv1d → 1 channel, linear ─► shape
                             └─ 1×1 conv, mean over time ─► level ĝ;   x̂ = ĝ · shape (1 × 3200)

The level path is ours, not Table I's: the conv stacks see unit-RMS chunks whatever the speech level, and the
chunk's level rides in the latent as a pattern the decoder reads back, so a quiet chunk (a pause) decodes
to a quiet output instead of to noise at the level of the code.

Channel-major symbol order: symbol ``k·100 + t`` carries channels ``2k`` and ``2k+1`` at latent frame ``t``,
so a fade held for 100 symbols (the radio's default coherence) dims one channel pair for the whole chunk
instead of silencing 25 ms of every channel. The loss is the paper's eq. 8, NRMSE per segment.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from semtalk.learned.asc.config import CHUNK_SAMPLES, CHUNK_SYMBOLS, AscConfig
from semtalk.phy.analog import AnalogLink, Rng, normalize_power

RAYLEIGH = AnalogLink("rayleigh", coherence=100)  # the radio's default block fading, perfect CSI, MMSE
GAIN_FLOOR = 1e-5  # RMS below this (−100 dBFS) counts as this
LEVEL_DB = (-30.0, 20.0)  # level = (20·log10 g − mid) / span: about 0 ± 1 for speech


def _block(conv: nn.Module, width: int, act: bool = True) -> nn.Sequential:
    layers = [conv, nn.BatchNorm1d(width)]
    return nn.Sequential(*layers, nn.PReLU(width)) if act else nn.Sequential(*layers)


def _pad(kernel: int, stride: int) -> int:
    return (kernel - stride) // 2


class AscEncoder(nn.Module):
    """Waveform chunks (B, 1, 3200) → latent (B, latent, 100): seven conv blocks, the last without activation."""

    def __init__(self, cfg: AscConfig):
        super().__init__()
        blocks, c_in = [], 1
        for width, stride in zip(cfg.widths, cfg.strides, strict=True):
            k = cfg.kernel if stride == 1 else 2 * stride
            blocks.append(_block(nn.Conv1d(c_in, width, k, stride, _pad(k, stride)), width))
            c_in = width
        blocks.append(_block(nn.Conv1d(c_in, cfg.latent, 3, 1, 1), cfg.latent, act=False))
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class AscDecoder(nn.Module):
    """Latent (B, latent, 100) → unit-level waveform (B, 1, 3200) and level (B, 1): eight blocks mirroring the
    encoder, the level read from the first block's features."""

    def __init__(self, cfg: AscConfig):
        super().__init__()
        widths = cfg.widths[::-1]
        blocks = [_block(nn.Conv1d(cfg.latent, widths[0], 3, 1, 1), widths[0])]
        for c_in, width, stride in zip(widths[:-1], widths[1:], cfg.strides[:0:-1], strict=True):
            k = cfg.kernel if stride == 1 else 2 * stride
            conv = (nn.Conv1d(c_in, width, k, 1, k // 2) if stride == 1
                    else nn.ConvTranspose1d(c_in, width, k, stride, _pad(k, stride)))
            blocks.append(_block(conv, width))
        blocks.append(_block(nn.Conv1d(widths[-1], widths[-1], cfg.kernel, 1, cfg.kernel // 2), widths[-1]))
        blocks.append(nn.Conv1d(widths[-1], 1, cfg.kernel, 1, cfg.kernel // 2))
        self.blocks = nn.Sequential(*blocks)
        self.level = nn.Conv1d(widths[0], 1, 1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks[0](z)
        return self.blocks[1:](h), self.level(h).mean(-1)


class AscModel(nn.Module):
    """Encoder, power-normalised complex symbols, analog channel (training only) and decoder; the chunk's
    level is normalised out before the encoder and restored after the decoder."""

    def __init__(self, cfg: AscConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or AscConfig()
        self.encoder = AscEncoder(cfg)
        self.decoder = AscDecoder(cfg)
        self.level_pattern = nn.Parameter(torch.randn(1, cfg.latent, cfg.frames))

    def transmit(self, x: torch.Tensor) -> torch.Tensor:
        """Chunks (B, 3200) → complex symbols (B, 800), unit mean power per chunk."""
        x = x.reshape(-1, 1, CHUNK_SAMPLES)
        g = x.square().mean(-1, keepdim=True).sqrt().clamp_min(GAIN_FLOOR)
        mid, span = LEVEL_DB
        z = self.encoder(x / g) + (20 * torch.log10(g) - mid) / span * self.level_pattern
        pairs = z.reshape(len(z), self.cfg.latent // 2, 2, self.cfg.frames).permute(0, 1, 3, 2)
        return normalize_power(torch.view_as_complex(pairs.reshape(len(z), CHUNK_SYMBOLS, 2).contiguous()))

    def receive(self, s: torch.Tensor) -> torch.Tensor:
        """Complex symbols (B, 800) → chunks (B, 3200)."""
        pairs = torch.view_as_real(s).reshape(len(s), self.cfg.latent // 2, self.cfg.frames, 2)
        z = pairs.permute(0, 1, 3, 2).reshape(len(s), self.cfg.latent, self.cfg.frames)
        shape, level = self.decoder(z)
        mid, span = LEVEL_DB
        gain = 10 ** ((level.clamp(-4.0, 2.0) * span + mid) / 20)  # −110 … +10 dBFS
        return shape.reshape(len(s), CHUNK_SAMPLES) * gain

    def forward(self, x: torch.Tensor, snr_db: float | Sequence[float] | None,
                link: AnalogLink | Sequence[AnalogLink] = RAYLEIGH, rng: Rng = None) -> torch.Tensor:
        """Training pass: chunks (B, 3200) → reconstructed chunks through ``link`` at ``snr_db``.

        ``snr_db`` and ``link`` are one for the batch or one per item; ``snr_db=None`` is a noiseless channel.
        """
        s = self.transmit(x)
        if snr_db is None:
            return self.receive(s)
        if isinstance(snr_db, int | float) and isinstance(link, AnalogLink):
            return self.receive(link(s, snr_db, rng))
        snrs = [snr_db] * len(s) if isinstance(snr_db, int | float) else snr_db
        links = [link] * len(s) if isinstance(link, AnalogLink) else link
        return self.receive(torch.cat([lk(s[i:i + 1], float(snr), rng)
                                       for i, (lk, snr) in enumerate(zip(links, snrs, strict=True))]))

def nrmse(x: torch.Tensor, x_hat: torch.Tensor, floor: float = 1e-4) -> torch.Tensor:
    """Wav2Vid eq. 8: ‖x − x̂‖₂ / ‖x‖₂ per segment (rows), mean over the batch; ``floor`` bounds ‖x‖ below as an
    RMS (so a silent segment does not divide by zero)."""
    norm = x.norm(dim=-1).clamp_min(floor * x.shape[-1] ** 0.5)
    return ((x - x_hat).norm(dim=-1) / norm).mean()

