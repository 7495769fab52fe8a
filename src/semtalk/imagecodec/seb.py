"""Seb as an image codec (registry kind ``image_codec``, name ``seb``): a *set* codec.

The KB's pictures of one speaker are one correlated set, so Seb's natural call is ``encode_set(images, quality) ->
(shared, each)`` (the Sebs once, then usage and residual per picture; ``imagecodec.base.encode_set`` gives every
codec that form). ``encode``/``decode`` of one picture are a set of one, its shared bytes in front (u32 length), so
Seb also fits ``at_bpp`` and the RD benchmark. ``quality`` 1..100 sets the residual's quantisation step
(``learned.seb.code.quality_step``; each picture carries its own); ``rate`` picks the shipped weights (training λ);
``chroma`` is the KB's operating point (below).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The KB's operating point (chosen by measured KB size and held-out video SSIM on the HDTF clips, docs/seb.md): the
# chroma coefficients' step ×3 (``learned.seb.code``), since every score of a call (SSIM, PSNR, MS-SSIM) is luma.
KB_CHROMA = 3.0


@dataclass(frozen=True)
class SebImageCodec:
    name: str = "seb"
    rate: str = "mid"
    chroma: float = KB_CHROMA

    def _coder(self):  # the weights load on first use, not at import
        from semtalk.learned.seb.code import load_seb

        return load_seb(self.rate)

    def encode_set(self, images: list[np.ndarray], quality: int | Sequence[int]) -> tuple[bytes, list[bytes]]:
        """The Sebs once and each picture's usage and residual; ``quality``: one for the set or one per picture."""
        coded = self._coder().encode_set(list(images), quality, self.chroma)
        return coded.shared, coded.each

    def decode_set(self, shared: bytes, each: list[bytes]) -> list[np.ndarray]:
        return self._coder().decode_set(shared, list(each))

    def encode(self, rgb: np.ndarray, quality: int) -> bytes:
        shared, (data,) = self.encode_set([rgb], quality)
        return struct.pack(">I", len(shared)) + shared + data

    def decode(self, data: bytes) -> np.ndarray:
        if len(data) < 4 or struct.unpack_from(">I", data)[0] > len(data) - 4:
            raise ValueError(f"not a {self.name} image (truncated)")
        n = struct.unpack_from(">I", data)[0]
        try:
            return self.decode_set(data[4:4 + n], [data[4 + n:]])[0]
        except ValueError as exc:
            raise ValueError(f"not a {self.name} image ({exc})") from exc


def seb() -> SebImageCodec:
    """The shipped mid-rate Seb (the KB's default when ``--image-codec seb``)."""
    return SebImageCodec()


def seb_low() -> SebImageCodec:
    return SebImageCodec("seb-low", "low")


def seb_high() -> SebImageCodec:
    return SebImageCodec("seb-high", "high")
