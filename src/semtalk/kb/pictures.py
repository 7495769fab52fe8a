"""The KB's pictures through a registered image codec other than WebP (``KnowledgeBase.image_codec``).

With ``webp`` (the default, and every KB before image codecs) each picture is one WebP, the person mask in its alpha
channel, exactly as before. With any other codec the background, keyframes and mouth patches are coded as one set
(``imagecodec.base.encode_set``: Seb shares its Sebs across them, the others code them one by one) and each
keyframe's person mask is coded apart, at a quarter of the resolution, as lossless WebP (the mask is smooth but for
a thin soft edge: 0.5 KB instead of WebP's 2.6 KB inside the picture); the receiver scales it back up bilinearly.
"""

from __future__ import annotations

import io
import struct

import numpy as np

DEFAULT_QUALITY = {"webp": 90, "seb": 60, "seb-low": 60, "seb-high": 60, "avif": 60, "jpeg2000": 60, "jpeg": 85}
ALPHA_SCALE = 4


def default_quality(codec: str) -> int:
    return DEFAULT_QUALITY.get(codec, 75)


def _codec(name: str):
    from semtalk import registry

    return registry.get("image_codec", name)()


def encode_pictures(codec: str, quality: int, pictures: list[np.ndarray]) -> tuple[bytes, list[bytes]]:
    """RGB uint8 pictures → (shared bytes, bytes per picture): a set codec's ``encode_set``, else one by one (the
    set form of ``imagecodec.base``; reached through the registry, so kb/ imports no codec)."""
    c, rgb = _codec(codec), [np.ascontiguousarray(p[..., :3]) for p in pictures]
    return c.encode_set(rgb, quality) if hasattr(c, "encode_set") else (b"", [c.encode(p, quality) for p in rgb])


def picture_size(codec: str, data: bytes) -> tuple[int, int]:
    """(width, height) of a coded picture from its header, before anything is decoded."""
    if codec.startswith("seb"):
        if len(data) < 4:
            raise ValueError("not a seb picture (truncated)")
        h, w = struct.unpack_from(">HH", data)
        return w, h
    from PIL import Image

    try:
        return Image.open(io.BytesIO(data)).size
    except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a {codec} image ({exc})") from exc


def decode_pictures(codec: str, shared: bytes, each: list[bytes]) -> list[np.ndarray]:
    c = _codec(codec)
    if hasattr(c, "decode_set"):
        return c.decode_set(shared, each)
    if shared:
        raise ValueError(f"{codec} has no shared bytes, got {len(shared)}")
    return [c.decode(d) for d in each]


def encode_alpha(alpha: np.ndarray) -> bytes:
    """A person mask (uint8) at 1/``ALPHA_SCALE`` of its size (area mean), lossless WebP."""
    from PIL import Image

    h, w = alpha.shape
    small = Image.fromarray(alpha).resize((max(1, w // ALPHA_SCALE), max(1, h // ALPHA_SCALE)),
                                          Image.Resampling.BOX)
    buf = io.BytesIO()
    small.save(buf, format="WEBP", lossless=True, method=6)
    return buf.getvalue()


def decode_alpha(data: bytes, width: int, height: int) -> np.ndarray:
    """``encode_alpha``'s mask scaled back to width × height (bilinear)."""
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data), formats=["WEBP"])
        if img.size != (max(1, width // ALPHA_SCALE), max(1, height // ALPHA_SCALE)):
            raise ValueError(f"alpha is {img.size[0]}×{img.size[1]}, expected 1/{ALPHA_SCALE} of {width}×{height}")
        return np.asarray(img.convert("L").resize((width, height), Image.Resampling.BILINEAR))
    except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ValueError(f"alpha is not a WebP image ({exc})") from exc
