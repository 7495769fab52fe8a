from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import struct

import cv2
import numpy as np
import pytest

from semtalk.errors import SemtalkError
from semtalk.kb.knowledge_base import (
    FORMAT_VERSION,
    MAGIC,
    Keyframe,
    KnowledgeBase,
    kb_hash,
    kb_tag,
    pack_kb,
    read_manifest,
)
from tests.unit.kb.kb_fixtures import voice_profile

HEADER = 4 + 2 + 32
CORRUPT = "knowledge base is corrupt (content hash mismatch)"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def raises_exactly(exc_type: type[Exception], message: str):
    """``pytest.raises`` that insists on the whole message, not a substring."""
    return pytest.raises(exc_type, match=f"^{re.escape(message)}$")


@pytest.fixture(scope="module")
def loaded(kb_bytes: bytes) -> KnowledgeBase:
    return KnowledgeBase.from_bytes(kb_bytes)


def test_header_layout(kb_bytes):
    assert kb_bytes[:4] == b"STKB"
    assert struct.unpack(">H", kb_bytes[4:6])[0] == FORMAT_VERSION
    assert kb_bytes[6:38] == hashlib.sha256(kb_bytes[38:]).digest()


def test_codes_round_trip_exactly(synthetic, loaded):
    kb = synthetic.kb
    for before, after in zip(kb.keyframes + kb.mouth_atlas, loaded.keyframes + loaded.mouth_atlas, strict=True):
        assert after.codes.dtype == np.uint16
        np.testing.assert_array_equal(after.codes, before.codes)


def test_counts_offsets_and_settings_round_trip(synthetic, loaded):
    kb = synthetic.kb
    assert len(loaded.keyframes) == 3 and len(loaded.mouth_atlas) == 1
    assert loaded.mouth_atlas[0].offset == kb.mouth_atlas[0].offset != (0, 0)
    assert [k.offset for k in loaded.keyframes] == [(0, 0)] * 3
    assert loaded.crop == kb.crop
    assert loaded.ref_box == kb.ref_box
    assert loaded.fps == kb.fps
    assert loaded.info == kb.info
    assert loaded.webp_quality == kb.webp_quality
    assert loaded.quantizer.bits == kb.quantizer.bits


def test_model_and_quantiser_round_trip(synthetic, loaded):
    kb = synthetic.kb
    # The mean is stored as float32, the (unit-norm) basis as float16.
    np.testing.assert_allclose(loaded.face_model.mean, kb.face_model.mean, atol=1e-6)
    np.testing.assert_allclose(loaded.face_model.basis, kb.face_model.basis, atol=1e-3)
    assert loaded.face_model.n_expr == kb.face_model.n_expr
    np.testing.assert_allclose(loaded.quantizer.lo, kb.quantizer.lo, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(loaded.quantizer.hi, kb.quantizer.hi, rtol=1e-6, atol=1e-7)
    codes = kb.keyframes[0].codes
    np.testing.assert_allclose(loaded.quantizer.dequantize(codes), kb.quantizer.dequantize(codes), atol=1e-5)


def test_images_round_trip_within_webp_loss(synthetic, loaded):
    kb = synthetic.kb
    assert loaded.background.shape == kb.background.shape and loaded.background.dtype == np.uint8
    assert psnr(loaded.background, kb.background) > 35
    for before, after in zip(kb.keyframes + kb.mouth_atlas, loaded.keyframes + loaded.mouth_atlas, strict=True):
        assert after.image.shape == before.image.shape and after.image.dtype == np.uint8
        if before.alpha is None:
            assert psnr(after.image, before.image) > 30
        else:  # colour only matters where the person is (WebP may drop it under transparent pixels)
            inside = cv2.erode(before.alpha, np.ones((5, 5), np.uint8)) == 255
            assert psnr(after.image[inside], before.image[inside]) > 30


def test_alpha_present_iff_given(synthetic, loaded):
    for before, after in zip(synthetic.kb.keyframes, loaded.keyframes, strict=True):
        assert (after.alpha is None) == (before.alpha is None)
        assert after.image.shape[2] == 3
    before, after = synthetic.kb.keyframes[2].alpha, loaded.keyframes[2].alpha
    assert after.shape == before.shape and after.dtype == np.uint8
    assert np.abs(after.astype(int) - before).mean() < 2.0
    assert loaded.mouth_atlas[0].alpha is None


def test_serialisation_is_deterministic(synthetic, kb_bytes):
    assert synthetic.kb.to_bytes() == kb_bytes


def test_hash_is_the_body_digest(kb_bytes):
    h = kb_hash(kb_bytes)
    assert h == hashlib.sha256(kb_bytes[38:]).hexdigest()
    assert len(h) == 64
    assert kb_tag(kb_bytes) == int(h[:2], 16)


def test_hash_changes_with_a_code(synthetic, kb_bytes):
    kb = synthetic.kb
    codes = kb.keyframes[1].codes.copy()
    codes[0] += 1
    changed = dataclasses.replace(kb, keyframes=[kb.keyframes[0], Keyframe(kb.keyframes[1].image, codes),
                                                 kb.keyframes[2]])
    assert kb_hash(changed.to_bytes()) != kb_hash(kb_bytes)


def test_hash_changes_with_info_and_fps(synthetic, kb_bytes):
    kb = synthetic.kb
    assert kb_hash(dataclasses.replace(kb, info={"source": "other"}).to_bytes()) != kb_hash(kb_bytes)
    assert kb_hash(dataclasses.replace(kb, fps=30.0).to_bytes()) != kb_hash(kb_bytes)


@pytest.mark.parametrize("where", [HEADER + 1, HEADER + 100, -1, -5000, 10])
def test_a_flipped_byte_is_detected(kb_bytes, where):
    data = bytearray(kb_bytes)
    data[where] ^= 0x01
    with raises_exactly(ValueError, CORRUPT):
        KnowledgeBase.from_bytes(bytes(data))


def test_bad_magic(kb_bytes):
    with raises_exactly(ValueError, "not a semtalk knowledge base (bad magic)"):
        KnowledgeBase.from_bytes(b"RIFF" + kb_bytes[4:])


def test_unsupported_version(kb_bytes):
    data = kb_bytes[:4] + struct.pack(">H", 2) + kb_bytes[6:]
    with raises_exactly(ValueError, "knowledge base format 2 is not supported (this semtalk reads 1)"):
        KnowledgeBase.from_bytes(data)


@pytest.mark.parametrize("n", [0, 1, 20, HEADER, HEADER + 3])
def test_too_short_input_is_truncated(kb_bytes, n):
    with raises_exactly(ValueError, "knowledge base is truncated"):
        KnowledgeBase.from_bytes(kb_bytes[:n])


@pytest.mark.parametrize("cut", [1, 100, 5000])
def test_truncated_body_is_corrupt(kb_bytes, cut):
    with raises_exactly(ValueError, CORRUPT):
        KnowledgeBase.from_bytes(kb_bytes[:-cut])


def test_garbage_json_manifest_raises_value_error():
    head = b"{not json"
    body = struct.pack(">I", len(head)) + head
    data = MAGIC + struct.pack(">H", FORMAT_VERSION) + hashlib.sha256(body).digest() + body
    with pytest.raises(ValueError):
        KnowledgeBase.from_bytes(data)


@pytest.mark.parametrize(("manifest", "message"), [({}, "kb: manifest lacks 'blobs'"),
                                                   ([], "kb: manifest must be a JSON object, got []"),
                                                   ({"blobs": {}}, "kb: manifest lacks 'crop'")])
def test_malformed_manifest_with_valid_hash_raises_value_error(manifest, message):
    with raises_exactly(ValueError, message):
        KnowledgeBase.from_bytes(pack_kb(manifest, b""))


def test_read_manifest(synthetic, kb_bytes):
    manifest, n = read_manifest(kb_bytes)
    assert struct.unpack(">I", kb_bytes[38:42])[0] == n
    assert json.loads(kb_bytes[42:42 + n]) == manifest
    assert manifest["keyframes"] == 3
    assert manifest["mouth_atlas"] == [list(synthetic.kb.mouth_atlas[0].offset)]
    assert manifest["quant_bits"] == 8
    blobs = manifest["blobs"]
    assert {"face.mean", "face.basis", "quant.lo", "quant.hi", "background", "key2.image", "mouth0.codes"} <= set(blobs)
    # Blobs tile the rest of the file without gaps or overlaps.
    spans = sorted((e["offset"], e["length"]) for e in blobs.values())
    assert spans[0][0] == 0
    for (o1, l1), (o2, _) in itertools.pairwise(spans):
        assert o1 + l1 == o2
    assert spans[-1][0] + spans[-1][1] == len(kb_bytes) - 42 - n


def test_save_and_load(tmp_path, synthetic, kb_bytes):
    path = tmp_path / "speaker.stkb"
    assert synthetic.kb.save(path) == kb_bytes
    assert path.read_bytes() == kb_bytes
    loaded = KnowledgeBase.load(path)
    np.testing.assert_array_equal(loaded.reference.codes, synthetic.kb.reference.codes)
    assert loaded.reference is loaded.keyframes[0]


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.stkb"
    with raises_exactly(SemtalkError, f"knowledge base not found: {path}"):
        KnowledgeBase.load(path)


def test_load_of_a_directory_is_not_found(tmp_path):
    with pytest.raises(SemtalkError, match="knowledge base not found"):
        KnowledgeBase.load(tmp_path)


def test_load_corrupt_file_names_the_file(tmp_path, kb_bytes):
    path = tmp_path / "bad.stkb"
    data = bytearray(kb_bytes)
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with raises_exactly(SemtalkError, f"{path}: {CORRUPT}"):
        KnowledgeBase.load(path)


def test_voice_blob_round_trips_and_changes_the_hash(synthetic, kb_bytes, loaded):
    assert loaded.voice is None and loaded.voice_profile is None
    profile = voice_profile()
    voiced = dataclasses.replace(synthetic.kb, voice=profile)
    data = voiced.to_bytes()
    assert KnowledgeBase.from_bytes(data).voice == profile
    assert kb_hash(data) != kb_hash(kb_bytes)
    assert read_manifest(data)[0]["blobs"]["voice"]["kind"] == "voice"


def _picture_blobs(data: bytes) -> dict[str, bytes]:
    manifest, n = read_manifest(data)
    base = HEADER + 4 + n
    return {name: data[base + e["offset"]: base + e["offset"] + e["length"]]
            for name, e in manifest["blobs"].items() if e["kind"] not in ("array", "voice", "language")}


@pytest.mark.parametrize("codec", ["webp", "avif"])
def test_saving_a_loaded_kb_writes_its_pictures_bytes_again(synthetic, codec):
    """A lossy picture decoded and coded again loses more: a loaded KB saved (after ``kb build`` adds its source,
    say) keeps the bytes it was loaded from, so the file is the first generation and saving is idempotent."""
    data = dataclasses.replace(synthetic.kb, image_codec=codec, image_quality=None if codec == "webp" else 60,
                               coded=None).to_bytes()
    back = KnowledgeBase.from_bytes(data)
    assert back.to_bytes() == data
    back.info["source"] = {"path": "clip.mp4", "width": 512, "height": 512}
    again = back.to_bytes()
    assert again != data and _picture_blobs(again) == _picture_blobs(data)
    # the same pictures coded afresh from the decoded arrays differ: that is the loss avoided
    assert _picture_blobs(dataclasses.replace(back, coded=None).to_bytes()) != _picture_blobs(data)


def test_a_changed_picture_or_quality_is_coded_afresh(kb_bytes, loaded):
    brighter = [dataclasses.replace(k, image=np.clip(k.image.astype(int) + 40, 0, 255).astype(np.uint8))
                for k in loaded.keyframes]
    changed = KnowledgeBase.from_bytes(dataclasses.replace(loaded, keyframes=brighter).to_bytes())
    assert changed.keyframes[1].image.mean() > loaded.keyframes[1].image.mean() + 20
    coarser = dataclasses.replace(loaded, webp_quality=30).to_bytes()
    assert len(_picture_blobs(coarser)["key1.image"]) < len(_picture_blobs(kb_bytes)["key1.image"])


def test_a_loaded_kbs_pictures_are_read_only(loaded):
    """The kept bytes stand for the loaded arrays, so changing one in place (which ``to_bytes`` could not see)
    is refused; a changed picture goes in through ``dataclasses.replace``."""
    for a in (loaded.background, loaded.keyframes[0].image, loaded.keyframes[2].alpha, loaded.mouth_atlas[0].image):
        with pytest.raises(ValueError, match="read-only"):
            a[0, 0] = 0
