from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from semtalk.kb.pictures import ALPHA_SCALE, decode_alpha, encode_alpha


def soft_person(size: int = 256, edge: float = 0.8) -> np.ndarray:
    """A head-and-shoulders mask with the segmenter's 1–2 px soft edge."""
    m = np.zeros((size, size), np.float32)
    cv2.ellipse(m, (size // 2, size // 3), (size // 5, size // 4), 0, 0, 360, 255, -1)
    cv2.rectangle(m, (size // 6, size * 2 // 3), (size * 5 // 6, size), 255, -1)
    return np.clip(cv2.GaussianBlur(m, (0, 0), edge) + 0.5, 0, 255).astype(np.uint8)


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_a_thin_edged_mask_goes_as_its_outline_and_comes_back_soft():
    mask = soft_person(edge=0.8)
    data = encode_alpha(mask)
    back = decode_alpha(data, 256, 256)
    assert size_of(data) == (256, 256) and back.shape == mask.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - mask).mean() < 1.0
    assert ((back > 0) & (back < 255)).any()  # the edge is soft again, not a hard cut
    assert len(data) < 600  # a 1-bit picture: a fraction of the mask as 8-bit alpha


def test_a_wide_ramp_goes_at_a_quarter_of_the_size():
    """Hair makes the segmenter's edge a ramp of many pixels: an outline would cut it, the small mask keeps it."""
    mask = soft_person(edge=6.0)
    data = encode_alpha(mask)
    assert size_of(data) == (256 // ALPHA_SCALE,) * 2
    outline = np.where(mask >= 128, 255, 0).astype(np.uint8)
    error = np.abs(decode_alpha(data, 256, 256).astype(int) - mask).mean()
    assert error < np.abs(decode_alpha(encode_alpha(outline), 256, 256).astype(int) - mask).mean() < 99
    assert error < 2.0


def test_a_mask_of_another_size_is_refused():
    with pytest.raises(ValueError, match="alpha is 128×128, expected 256×256 or 1/4 of it"):
        decode_alpha(encode_alpha(soft_person(128)), 256, 256)
    with pytest.raises(ValueError, match="alpha is not a WebP image"):
        decode_alpha(b"RIFF0000WEBPjunk", 256, 256)


def test_mouth_patches_go_coarser_than_keyframes_and_the_plate_stays_webp_for_a_set_codec():
    import dataclasses

    from semtalk import registry
    from semtalk.kb.knowledge_base import read_manifest
    from semtalk.kb.pictures import MOUTH_QUALITY_DROP, codes_sets, mouth_quality
    from tests.unit.kb.kb_fixtures import make_kb

    assert mouth_quality(72) == 72 - MOUTH_QUALITY_DROP and mouth_quality(5) == 1
    kb = make_kb(seed=0).kb
    data = dataclasses.replace(kb, image_codec="jpeg", image_quality=80).to_bytes()
    manifest, n = read_manifest(data)
    base = 4 + 2 + 32 + 4 + n
    blob = manifest["blobs"]["mouth0.image"]
    jpeg = registry.get("image_codec", "jpeg")()
    assert data[base + blob["offset"]: base + blob["offset"] + blob["length"]] == jpeg.encode(
        kb.mouth_atlas[0].image, mouth_quality(80))
    assert manifest["blobs"]["background"]["kind"] == "jpeg" and not codes_sets("jpeg") and codes_sets("seb")
