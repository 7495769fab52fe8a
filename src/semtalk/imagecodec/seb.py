"""Seb as an image codec (registry kind ``image_codec``, name ``seb``): a *set* codec.

The KB's pictures of one speaker are one correlated set, so Seb's natural call is ``encode_set(images, quality) ->
(shared, each)`` (the Sebs once, then usage and residual per picture; ``imagecodec.base.encode_set`` gives every
codec that form). ``encode``/``decode`` of one picture are a set of one, its shared bytes in front (u32 length), so
Seb also fits ``at_bpp`` and the RD benchmark. ``quality`` 1..100 sets the residual's quantisation step
(``learned.seb.code.quality_step``; each picture carries its own); ``rate`` picks the shipped weights (training λ);
``chroma`` and ``first_quality`` are the KB's operating point (below).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from semtalk.learned.seb.code import MAX_QUALITY

# The KB's operating point (chosen by measured KB size and held-out video SSIM on the HDTF clips, docs/seb.md):
# - the chroma coefficients' step ×3 (``learned.seb.code``): every score of a call (SSIM, PSNR, MS-SSIM) is luma;
# - the first picture of a set of several at quality ``KB_PLATE_QUALITY`` at least: the KB codes its still background
#   plate first (``kb.knowledge_base``), and the plate is behind the person in every frame of the call, unwarped
#   (finer than 100 measured no better).
KB_CHROMA = 3.0
KB_PLATE_QUALITY = 100


@dataclass(frozen=True)
class SebImageCodec:
    name: str = "seb"
    rate: str = "mid"
    chroma: float = KB_CHROMA
    first_quality: int = KB_PLATE_QUALITY

    def _coder(self):  # the weights load on first use, not at import
        from semtalk.learned.seb.code import load_seb

        return load_seb(self.rate)

    def encode_set(self, images: list[np.ndarray], quality: int) -> tuple[bytes, list[bytes]]:
        qualities = [quality] * len(images)
        if len(qualities) > 1:
            qualities[0] = min(MAX_QUALITY, max(quality, self.first_quality))
        coded = self._coder().encode_set(list(images), qualities, self.chroma)
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
