"""Seb as a registered image codec and as the KB's picture codec (shipped weights, small pictures)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from semtalk import registry
from semtalk.imagecodec.base import decode_set, encode_set


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _set(n: int = 3, side: int = 64) -> list[np.ndarray]:
    y, x = np.mgrid[:side, :side]
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        rgb = np.stack([x * 3 + i * 5, y * 3, (x + y + 10 * i) % 256], axis=-1)
        out.append(np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8))
    return out


def test_seb_is_a_registered_set_codec():
    assert {"seb", "seb-low", "seb-high"} <= set(registry.names("image_codec"))
    codec = registry.get("image_codec", "seb")()
    pictures = _set()
    shared, each = encode_set(codec, pictures, 60)
    assert shared[:3] == b"SEB" and len(each) == len(pictures)
    decoded = decode_set(codec, shared, each)
    assert all(d.shape == p.shape and d.dtype == np.uint8 for d, p in zip(decoded, pictures, strict=True))
    # exact: decoding again gives the same pixels, and they are the encoder's reconstructions
    from semtalk.imagecodec.seb import KB_CHROMA
    from semtalk.learned.seb.code import load_seb

    assert KB_CHROMA > 1 and shared[4] == round(8 * KB_CHROMA)  # the KB's pictures spend their bits on luma
    assert [e[5] for e in each] == [60, 60, 60]
    assert all(np.array_equal(a, b) for a, b in
               zip(load_seb("mid").encode_set(pictures, 60, KB_CHROMA).reconstructions, decoded,
                   strict=True))
    assert np.mean([np.abs(d.astype(int) - p).mean() for d, p in zip(decoded, pictures, strict=True)]) < 20


def test_codecs_without_a_set_api_code_one_by_one():
    codec = registry.get("image_codec", "webp")()
    shared, each = encode_set(codec, _set(2), 80)
    assert shared == b"" and len(each) == 2
    assert [d.shape for d in decode_set(codec, shared, each)] == [(64, 64, 3)] * 2
    with pytest.raises(ValueError, match="no shared bytes"):
        decode_set(codec, b"x", each)


def test_kb_round_trip_with_seb_pictures():
    from semtalk.kb.info import describe
    from semtalk.kb.knowledge_base import KnowledgeBase
    from tests.unit.kb.kb_fixtures import make_kb

    kb = make_kb(seed=0).kb
    webp_bytes = kb.to_bytes()
    seb_kb = dataclasses.replace(kb, image_codec="seb", image_quality=70)
    data = seb_kb.to_bytes()
    back = KnowledgeBase.from_bytes(data)
    assert back.image_codec == "seb" and back.image_quality == 70
    assert len(back.keyframes) == len(kb.keyframes) and len(back.mouth_atlas) == len(kb.mouth_atlas)
    for a, b in zip(kb.keyframes + kb.mouth_atlas, back.keyframes + back.mouth_atlas, strict=True):
        assert a.image.shape == b.image.shape and a.offset == b.offset and np.array_equal(a.codes, b.codes)
        assert np.abs(a.image.astype(int) - b.image).mean() < 25
        assert (a.alpha is None) == (b.alpha is None)
        if a.alpha is not None:
            assert np.abs(a.alpha.astype(int) - b.alpha).mean() < 10
    again = KnowledgeBase.from_bytes(data)  # every receiver decodes the same pictures
    assert all(np.array_equal(a.image, b.image) for a, b in zip(back.keyframes, again.keyframes, strict=True))
    info = describe(back, data)
    assert info["image_codec"] == "seb" and info["bytes_by_part"]["image_shared"] > 0
    # the still plate is no part of the speaker's set: WebP, exactly as the WebP KB codes it
    from semtalk.kb.knowledge_base import read_manifest

    assert read_manifest(data)[0]["blobs"]["background"]["kind"] == "webp"
    assert np.array_equal(back.background, KnowledgeBase.from_bytes(webp_bytes).background)
    # a WebP KB is unchanged by the image-codec fields
    assert KnowledgeBase.from_bytes(webp_bytes).image_codec == "webp"
    assert describe(KnowledgeBase.from_bytes(webp_bytes), webp_bytes)["image_codec"] == "webp"


def test_kb_refuses_an_unknown_image_codec():
    import json

    from semtalk.kb.knowledge_base import KnowledgeBase, pack_kb, read_manifest
    from tests.unit.kb.kb_fixtures import make_kb

    data = dataclasses.replace(make_kb(seed=0).kb, image_codec="avif", image_quality=50).to_bytes()
    assert KnowledgeBase.from_bytes(data).image_codec == "avif"
    manifest, n = read_manifest(data)
    assert manifest["blobs"]["background"]["kind"] == "avif"  # one by one: the plate goes with the others
    body = data[4 + 2 + 32:]
    blobs = body[4 + n:]
    for field, value, message in (("image_codec", "bmp", "image_codec is 'bmp'"),
                                  ("image_quality", 0, "image_quality is 0")):
        bad = json.loads(json.dumps(manifest)) | {field: value}
        with pytest.raises(ValueError, match=message):
            KnowledgeBase.from_bytes(pack_kb(bad, blobs))


def test_run_and_kb_settings_carry_the_image_codec():
    from semtalk.call.run import RunConfig, check_kb_config, kb_config
    from semtalk.enroll.build import KbConfig
    from semtalk.errors import SemtalkError

    assert kb_config(RunConfig()).image_codec == "webp"  # today's KB unless asked
    assert kb_config(RunConfig(kb_image_codec="seb")).image_codec == "seb"
    with pytest.raises(SemtalkError, match="KB image codec must be one of"):
        check_kb_config(KbConfig(image_codec="bmp"))
    with pytest.raises(SemtalkError, match=r"--image-quality must be in 1\.\.100"):
        check_kb_config(KbConfig(image_codec="seb", image_quality=0))


def test_cli_kb_build_refuses_an_unknown_codec(capsys):
    from semtalk.cli import main

    assert main(["kb", "build", "clip.mp4", "--out", "x.stkb", "--image-codec", "bmp"]) == 2
    assert "invalid choice: 'bmp'" in capsys.readouterr().err


def test_kb_with_bad_seb_pictures_is_one_value_error():
    import json

    from semtalk.kb.knowledge_base import KnowledgeBase, pack_kb, read_manifest
    from tests.unit.kb.kb_fixtures import make_kb

    data = dataclasses.replace(make_kb(seed=0).kb, image_codec="seb", image_quality=40).to_bytes()
    manifest, n = read_manifest(data)
    blobs = bytearray(data[4 + 2 + 32 + 4 + n:])
    shared = manifest["blobs"]["pictures.shared"]
    blobs[shared["offset"]:shared["offset"] + 3] = b"XYZ"
    with pytest.raises(ValueError, match=r"kb: pictures are not seb \(not Seb shared bytes"):
        KnowledgeBase.from_bytes(pack_kb(manifest, bytes(blobs)))
    blobs = bytearray(data[4 + 2 + 32 + 4 + n:])
    key0 = manifest["blobs"]["key0.image"]
    blobs[key0["offset"]:key0["offset"] + 2] = (300).to_bytes(2, "big")  # the header's height
    with pytest.raises(ValueError, match=r"kb: key0\.image is 256×300, expected the crop's 256×256"):
        KnowledgeBase.from_bytes(pack_kb(json.loads(json.dumps(manifest)), bytes(blobs)))
