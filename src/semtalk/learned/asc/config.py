"""Shapes of ASC: the sample rate, the chunk every code word covers and the channel use per second.

Bandwidth: a chunk of ``CHUNK_SAMPLES`` samples becomes a latent of ``latent`` channels × ``CHUNK_SAMPLES /
downsampling`` frames of reals, sent as complex symbols (pairs of reals): 16 × 100 reals = 800 symbols per
0.2 s, i.e. ``SYMBOLS_PER_SECOND = 4000`` complex channel uses per second, bandwidth ratio 1/4 complex symbol
per sample — the rate of Opus 8 kbps + LDPC 1/2 + 16-QAM (8000 / (1/2) / 4 = 4000 symbols/s).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

SAMPLE_RATE = 16000
CHUNK_SAMPLES = 3200  # 0.2 s: every chunk is coded on its own (no state, no overlap between chunks)
SYMBOLS_PER_SECOND = 4000  # complex channel uses per second of audio
CHUNK_SYMBOLS = SYMBOLS_PER_SECOND * CHUNK_SAMPLES // SAMPLE_RATE  # 800


@dataclass(frozen=True)
class AscConfig:
    """Widths and strides of the encoder's seven conv blocks (the decoder mirrors them, Wav2Vid Table I).

    ``widths[i]``/``strides[i]`` are the output channels and stride of encoder block ``i`` (the 7th block is
    the ``latent`` projection, stride 1); the decoder's eight blocks run the widths backwards and end in a
    1-channel linear output.
    """

    widths: tuple[int, ...] = (32, 32, 64, 64, 96, 128)
    strides: tuple[int, ...] = (1, 2, 2, 2, 2, 2)
    kernel: int = 7  # of the stride-1 blocks; strided blocks use 2·stride
    latent: int = 16

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.strides):
            raise ValueError("widths and strides must have one entry per block")
        if CHUNK_SAMPLES % self.downsampling or self.latent * self.frames != 2 * CHUNK_SYMBOLS:
            raise ValueError(f"a latent of {self.latent} × {CHUNK_SAMPLES}/{self.downsampling} reals is not "
                             f"{CHUNK_SYMBOLS} complex symbols per chunk")

    @property
    def downsampling(self) -> int:
        return math.prod(self.strides)

    @property
    def frames(self) -> int:
        """Latent frames per chunk."""
        return CHUNK_SAMPLES // self.downsampling

    def to_dict(self) -> dict:
        return asdict(self)
