"""The KB's pictures through a registered image codec other than WebP (``KnowledgeBase.image_codec``).

With ``webp`` (the default, and every KB before image codecs) each picture is one WebP, the person mask in its alpha
channel, exactly as before. With any other codec the keyframes and mouth patches (``mouth_quality``) are coded as one
set (``imagecodec.base.encode_set``: Seb shares its Sebs across them, the others code them one by one), the
background plate with them, or as WebP beside a set codec (``kb.knowledge_base``), and each keyframe's person mask
is coded apart, in whichever of two forms comes closer to it (``encode_alpha``): its outline (the mask thresholded
at ½, a 1-bit picture at full resolution, lossless WebP, about 0.47 KB; the receiver softens the edge
again, Gaussian σ ``ALPHA_EDGE_SIGMA``), exact where the segmenter's edge is 1–2 px wide; or the mask at a quarter of
the resolution (lossless WebP, about 0.5–0.7 KB, scaled back bilinearly), closer where hair makes the edge a wide
ramp. Inside a WebP-RGBA keyframe the mask costs 2.6 KB.
"""

from __future__ import annotations

import io
import struct

import numpy as np

DEFAULT_QUALITY = {"webp": 90, "seb": 72, "seb-low": 60, "seb-high": 60, "avif": 60, "jpeg2000": 60, "jpeg": 85}
ALPHA_EDGE_SIGMA = 0.7  # px; mean |error| 1.25 of 255 against the mask (0.5: 1.38, 1.0: 1.49, hard edge 1.81)
ALPHA_SCALE = 4  # the other form: the mask at a quarter of the resolution, scaled up bilinearly
MOUTH_QUALITY_DROP = 20  # the mouth patches' quality below the keyframes' (``mouth_quality``)


def default_quality(codec: str) -> int:
    return DEFAULT_QUALITY.get(codec, 75)


def _codec(name: str):
    from semtalk import registry

    return registry.get("image_codec", name)()


def mouth_quality(quality: int) -> int:
    """The mouth patches' quality for a KB at ``quality``: ``MOUTH_QUALITY_DROP`` lower. A patch is pasted over the
    mouth only, about 1 % of a frame, where the held-out SSIM did not move with its coding (Seb at 60 against WebP at
    90 on Radio34: 0.7818 both); keyframes fill the whole frame and buy SSIM (docs/seb.md)."""
    return max(1, quality - MOUTH_QUALITY_DROP)


def codes_sets(codec: str) -> bool:
    """Whether ``codec`` codes a set of pictures together (Seb), rather than one by one."""
    return hasattr(_codec(codec), "encode_set")


def encode_pictures(codec: str, qualities: list[int], pictures: list[np.ndarray]) -> tuple[bytes, list[bytes]]:
    """RGB uint8 pictures, each at its quality → (shared bytes, bytes per picture): a set codec's ``encode_set``,
    else one by one (the set form of ``imagecodec.base``; reached through the registry, so kb/ imports no codec)."""
    c, rgb = _codec(codec), [np.ascontiguousarray(p[..., :3]) for p in pictures]
    if hasattr(c, "encode_set"):
        return c.encode_set(rgb, list(qualities))
    return b"", [c.encode(p, q) for p, q in zip(rgb, qualities, strict=True)]


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
    """A person mask (uint8) as lossless WebP: its outline (alpha ≥ 128, 1 bit, full size) or the mask at
    1/``ALPHA_SCALE`` of its size (area mean), whichever ``decode_alpha`` brings back closer (mean |error|)."""
    from PIL import Image

    h, w = alpha.shape
    outline = Image.fromarray(np.where(alpha >= 128, 255, 0).astype(np.uint8)).convert("1")
    small = Image.fromarray(alpha).resize((max(1, w // ALPHA_SCALE), max(1, h // ALPHA_SCALE)), Image.Resampling.BOX)
    best = None
    for picture in (outline, small):
        buf = io.BytesIO()
        picture.save(buf, format="WEBP", lossless=True, method=6)
        data = buf.getvalue()
        error = np.abs(decode_alpha(data, w, h).astype(np.int16) - alpha).mean()
        if best is None or error < best[0]:
            best = error, data
    return best[1]


def decode_alpha(data: bytes, width: int, height: int) -> np.ndarray:
    """``encode_alpha``'s mask (width × height uint8): an outline with its soft edge back, or the quarter-size mask
    scaled up bilinearly (told apart by their size)."""
    import cv2
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data), formats=["WEBP"])
        if img.size == (max(1, width // ALPHA_SCALE), max(1, height // ALPHA_SCALE)):
            return np.asarray(img.convert("L").resize((width, height), Image.Resampling.BILINEAR))
        if img.size != (width, height):
            raise ValueError(f"alpha is {img.size[0]}×{img.size[1]}, expected {width}×{height} or "
                             f"1/{ALPHA_SCALE} of it")
        outline = np.asarray(img.convert("L"), dtype=np.float32)
    except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ValueError(f"alpha is not a WebP image ({exc})") from exc
    soft = cv2.GaussianBlur(outline, (0, 0), ALPHA_EDGE_SIGMA, borderType=cv2.BORDER_REPLICATE)
    return np.clip(soft + 0.5, 0, 255).astype(np.uint8)
