"""The image-codec interface and the classic codecs through Pillow (WebP, AVIF, JPEG 2000, JPEG).

A codec is a registry entry (kind ``image_codec``) with ``encode(rgb, quality) -> bytes`` and ``decode(bytes) ->
rgb``; ``quality`` runs 1..100 for every codec (higher is larger and better), so a rate can be matched to a bits-per-
pixel target by one search (:func:`at_bpp`) whatever the codec. Pillow 13 carries all four codecs, so nothing here
downloads or compiles.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Protocol

import numpy as np

QUALITY_RANGE = (1, 100)


class ImageCodec(Protocol):
    name: str

    def encode(self, rgb: np.ndarray, quality: int) -> bytes:
        """An H×W×3 uint8 picture as bytes; ``quality`` in 1..100."""
        ...

    def decode(self, data: bytes) -> np.ndarray:
        """The H×W×3 uint8 picture; ``ValueError`` for bytes that are not this codec's."""
        ...


@dataclass(frozen=True)
class PillowCodec:
    """One of Pillow's lossy codecs. JPEG 2000's quality maps to a compression ratio (OpenJPEG's rate layers,
    irreversible 9/7 wavelet, ``mct=1``: the colour transform the issue asks for), the others' to their own scale."""

    name: str
    format: str

    def encode(self, rgb: np.ndarray, quality: int) -> bytes:
        from PIL import Image

        q = int(np.clip(quality, *QUALITY_RANGE))
        image, buf = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)), io.BytesIO()
        if self.format == "JPEG2000":
            # quality 100 → 4:1, quality 1 → 400:1, geometric in between (a ratio scale, like the others' quality)
            ratio = float(4.0 * 100.0 ** ((100 - q) / 99))
            image.save(buf, format="JPEG2000", quality_mode="rates", quality_layers=[ratio], irreversible=True,
                       mct=1)
        elif self.format == "WEBP":
            image.save(buf, format="WEBP", quality=q, method=6)
        else:
            image.save(buf, format=self.format, quality=q)
        return buf.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        from PIL import Image

        try:
            return np.asarray(Image.open(io.BytesIO(data), formats=[self.format]).convert("RGB"))
        except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
            raise ValueError(f"not a {self.name} image ({exc})") from exc


def webp() -> PillowCodec:
    return PillowCodec("webp", "WEBP")


def avif() -> PillowCodec:
    return PillowCodec("avif", "AVIF")


def jpeg2000() -> PillowCodec:
    return PillowCodec("jpeg2000", "JPEG2000")


def jpeg() -> PillowCodec:
    return PillowCodec("jpeg", "JPEG")


def bpp(data: bytes, rgb: np.ndarray) -> float:
    """Bits per pixel of a coded picture."""
    return 8 * len(data) / (rgb.shape[0] * rgb.shape[1])


def at_bpp(codec: ImageCodec, rgb: np.ndarray, target: float) -> tuple[bytes, int]:
    """The largest-quality coding of ``rgb`` at or under ``target`` bits per pixel, and its quality (bisection: every
    codec's size grows with its quality). The lowest quality when even that is over the target."""
    lo, hi = QUALITY_RANGE
    best = codec.encode(rgb, lo), lo
    while lo <= hi:
        q = (lo + hi) // 2
        data = codec.encode(rgb, q)
        if bpp(data, rgb) <= target:
            best, lo = (data, q), q + 1
        else:
            hi = q - 1
    return best


# A set codec (Seb) also has ``encode_set(images, quality) -> (shared, each)`` and ``decode_set(shared, each)``:
# ``shared`` is what every picture of the set needs (the Sebs), ``each`` one bytes per picture. These two functions
# give every codec that form (a codec without the set API codes its pictures one by one, with empty shared bytes),
# so a caller coding a set (the KB's pictures) needs no case per codec.


def encode_set(codec: ImageCodec, images: list[np.ndarray], quality: int) -> tuple[bytes, list[bytes]]:
    """A set of H×W×3 uint8 pictures as (shared bytes, bytes per picture)."""
    if hasattr(codec, "encode_set"):
        return codec.encode_set(images, quality)
    return b"", [codec.encode(im, quality) for im in images]


def decode_set(codec: ImageCodec, shared: bytes, each: list[bytes]) -> list[np.ndarray]:
    """The pictures of ``encode_set``'s bytes."""
    if hasattr(codec, "decode_set"):
        return codec.decode_set(shared, each)
    if shared:
        raise ValueError(f"{codec.name} has no shared bytes, got {len(shared)}")
    return [codec.decode(d) for d in each]
