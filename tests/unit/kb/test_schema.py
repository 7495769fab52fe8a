"""A KB with a valid hash but inconsistent content is refused at load, with one ValueError naming the field.

Every case takes the synthetic KB apart, changes one field or blob, lays it out again and re-signs it with
the module's own ``pack_kb``, so only the schema (``kb.schema``) stands between it and the consumers.
"""

from __future__ import annotations

import copy
import faulthandler
import hashlib
import io
import json
import re
import struct
import time
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from semtalk.dsp.world import ORDER
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.kb.knowledge_base import KnowledgeBase, pack_kb, read_manifest
from semtalk.kb.language import DomainLM
from semtalk.kb.voice import N_COLS
from tests.unit.kb.kb_fixtures import voice_profile

HEADER = 4 + 2 + 32
Edit = Callable[[dict, dict[str, bytes]], None]


def parts(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """The manifest of a serialised KB and its blobs by name."""
    manifest, n = read_manifest(data)
    base = HEADER + 4 + n
    return manifest, {name: data[base + e["offset"]: base + e["offset"] + e["length"]]
                      for name, e in manifest["blobs"].items()}


def rebuild(data: bytes, edit: Edit) -> bytes:
    """``data`` with ``edit(manifest, blobs)`` applied, blobs laid out again, re-signed with a valid hash."""
    manifest, blobs = parts(data)
    manifest = copy.deepcopy(manifest)
    edit(manifest, blobs)
    section = b""
    for name, blob in blobs.items():
        entry = manifest["blobs"].get(name) if isinstance(manifest.get("blobs"), dict) else None
        if isinstance(entry, dict):
            entry.update(offset=len(section), length=len(blob))
        section += blob
    return pack_kb(manifest, section)


def get(m: dict, b: dict[str, bytes], name: str) -> np.ndarray:
    e = m["blobs"][name]
    return np.frombuffer(b[name], dtype=np.dtype(e["dtype"]).newbyteorder("<")).reshape(e["shape"]).copy()


def put(m: dict, b: dict[str, bytes], name: str, a: np.ndarray, dtype: str | None = None) -> None:
    e = m["blobs"][name]
    e["dtype"] = dtype or e["dtype"]
    b[name] = np.ascontiguousarray(a, dtype=np.dtype(e["dtype"]).newbyteorder("<")).tobytes()
    e["shape"] = list(np.shape(a))


def change(name: str, f: Callable[[np.ndarray], np.ndarray]) -> Edit:
    """An edit that replaces one array blob by ``f`` of it (same dtype)."""
    return lambda m, b: put(m, b, name, f(get(m, b, name)))


def parent(m: object, path: tuple) -> dict | list:
    """The container holding the manifest value at ``path``."""
    for key in path[:-1]:
        m = m[key]
    return m


def setting(*path: str | int, value: object) -> Edit:
    return lambda m, _b: parent(m, path).__setitem__(path[-1], value)


def image(shape: tuple[int, ...], fmt: str = "WEBP") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros(shape, np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def blob(name: str, data: bytes) -> Edit:
    return lambda _m, b: b.__setitem__(name, data)


def entry(name: str, key: str, value: object) -> Edit:
    return lambda m, _b: m["blobs"][name].__setitem__(key, value)


def at(index: int | slice, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(a: np.ndarray) -> np.ndarray:
        a.reshape(-1)[index] = value
        return a

    return f


def with_part(name: str, data: bytes) -> Edit:
    def edit(m: dict, b: dict[str, bytes]) -> None:
        m["blobs"][name] = {"kind": name}
        b[name] = data

    return edit


LM = bytes(DomainLM.train(["bin blue at f two now", "place red by g nine soon"]))


def lm_bytes(body: object) -> bytes:
    """A domain LM whose body is ``body`` (JSON-encoded unless bytes)."""
    return LM[:5] + zlib.compress(body if isinstance(body, bytes) else json.dumps(body).encode())


CASES: list[tuple[str, Edit, str]] = [
    # manifest fields: presence, type, range
    ("no fps", lambda m, _b: m.pop("fps"), "kb: manifest lacks 'fps'"),
    ("extra field", setting("extra", value=1), "kb: manifest field 'extra' is not part of format 1"),
    ("format", setting("format", value=2), "kb: manifest format is 2, the header says 1"),
    ("fps nan", setting("fps", value=float("nan")), "kb: fps is nan, expected a finite number"),
    ("fps negative", setting("fps", value=-25.0), "kb: fps is -25.0, expected (0.0, 1000.0]"),
    ("fps string", setting("fps", value="25"), "kb: fps must be a number, got '25'"),
    ("bits 17", setting("quant_bits", value=17), "kb: quant_bits is 17, expected 2..16"),
    ("bits 1", setting("quant_bits", value=1), "kb: quant_bits is 1, expected 2..16"),
    ("bits float", setting("quant_bits", value=8.0), "kb: quant_bits must be an integer, got 8.0"),
    ("bits bool", setting("quant_bits", value=True), "kb: quant_bits must be an integer, got True"),
    ("crop size negative", setting("crop", "size", value=-256), "kb: crop.size is -256, expected 8..1024"),
    ("crop size huge", setting("crop", "size", value=1 << 20), "kb: crop.size is 1048576, expected 8..1024"),
    ("crop size not the images'", setting("crop", "size", value=512),
     "kb: key0.image is 256×256, expected the crop's 512×512"),
    ("crop scale 0", setting("crop", "scale", value=0), "kb: crop.scale is 0, expected (0.0, 10.0]"),
    ("dead zone inf", setting("crop", "dead_zone", value=float("inf")),
     "kb: crop.dead_zone is inf, expected a finite number"),
    ("crop not object", setting("crop", value=[256]), "kb: crop must be a JSON object, got [256]"),
    ("crop field missing", lambda m, _b: m["crop"].pop("scale"), "kb: crop lacks 'scale'"),
    ("ref box short", setting("ref_box", value=[1.0, 2.0]), "kb: ref_box must be [cx, cy, size], got [1.0, 2.0]"),
    ("ref box size negative", setting("ref_box", 2, value=-300.0),
     "kb: ref_box size is -300.0, expected (0.0, 100000.0]"),
    ("ref box nan", setting("ref_box", 0, value=float("nan")), "kb: ref_box cx is nan, expected a finite number"),
    ("no keyframes", setting("keyframes", value=0), "kb: keyframes is 0, expected 1..256"),
    ("more keyframes than blobs", setting("keyframes", value=4), "kb: blob 'key3.image' is missing"),
    ("fewer keyframes than blobs", setting("keyframes", value=2), "kb: blob 'key2.codes' is not part of format 1"),
    ("keyframes string", setting("keyframes", value="3"), "kb: keyframes must be an integer, got '3'"),
    ("mouth offset negative", setting("mouth_atlas", 0, 0, value=-5), "kb: mouth_atlas[0] x is -5, expected 0..255"),
    ("mouth offset not a pair", setting("mouth_atlas", 0, value=[1]), "kb: mouth_atlas[0] must be [x, y], got [1]"),
    ("mouth atlas not a list", setting("mouth_atlas", value={"a": 1}),
     "kb: mouth_atlas must be a list of at most 256 offsets, got {'a': 1}"),
    ("mouth atlas longer than blobs", lambda m, _b: m["mouth_atlas"].append([0, 0]),
     "kb: blob 'mouth1.image' is missing"),
    ("webp quality", setting("webp_quality", value=101), "kb: webp_quality is 101, expected 0..100"),
    ("info list", setting("info", value=[]), "kb: info must be a JSON object, got []"),
    ("info source string", setting("info", "source", value="clip.mp4"),
     "kb: info.source must be dict, got 'clip.mp4'"),
    ("info path number", setting("info", "source", "path", value=3), "kb: info.source.path must be str, got 3"),
    ("info enroll frames string", setting("info", "enroll_frames", value="50"),
     "kb: info.enroll_frames must be int, got '50'"),
    ("info enroll frames negative", setting("info", "enroll_frames", value=-1),
     "kb: info.enroll_frames is -1, expected 0..1000000000"),
    ("info n_expr", setting("info", "n_expr", value=5), "kb: info.n_expr is 5, the face model has 6"),
    ("info nan", setting("info", "seed", value=float("nan")), "kb: info.seed is nan, expected a finite number"),
    ("info nested inf", setting("info", "source", "width", value=float("-inf")),
     "kb: info.source.width is -inf, expected a finite number"),
    # blob table
    ("blobs list", setting("blobs", value=[]), "kb: blobs must be a JSON object, got []"),
    ("unknown blob", with_part("extra", b"x"), "kb: blob 'extra' is not part of format 1"),
    ("missing blob", lambda m, b: (m["blobs"].pop("quant.hi"), b.pop("quant.hi")), "kb: blob 'quant.hi' is missing"),
    ("entry not an object", setting("blobs", "background", value=3),
     "kb: blob 'background' must be an object with offset, length and kind, got 3"),
    ("wrong kind", entry("background", "kind", "array"), "kb: blob 'background' has kind 'array', expected 'webp'"),
    ("basis shape", change("face.basis", lambda a: a[:5]), "kb: face.basis has shape (5, 1434), expected (6, 1434)"),
    ("basis 3d", change("face.basis", lambda a: a.reshape(6, 478, 3)),
     "kb: face.basis has shape (6, 478, 3), expected (6, 1434)"),
    ("basis dtype", lambda m, b: put(m, b, "face.basis", get(m, b, "face.basis"), "float32"),
     "kb: face.basis has dtype 'float32', expected 'float16'"),
    ("mean shape", change("face.mean", lambda a: a[:468]), "kb: face.mean has shape (468, 3), expected (478, 3)"),
    ("lo shape", change("quant.lo", lambda a: a[:15]), "kb: quant.lo has shape (15,), expected (16,)"),
    ("codes shape", change("key1.codes", lambda a: a[:15]), "kb: key1.codes has shape (15,), expected (16,)"),
    ("codes float shape", entry("key1.codes", "shape", [16.0]), "kb: key1.codes has shape (16.0,), expected (16,)"),
    ("reference codes 2d", change("key0.codes", lambda a: a.reshape(4, 4)),
     "kb: key0.codes has shape (4, 4), expected (n_coeffs,)"),
    ("reference codes too short", change("key0.codes", lambda a: a[:10]),
     "kb: key0.codes length is 10, expected 11..74"),
    ("shape without the data", entry("quant.lo", "shape", [17]), "kb: quant.lo has shape (17,), expected (16,)"),
    ("length short", blob("quant.hi", b"\0" * 60), "kb: quant.hi holds 60 bytes, its shape needs 64"),
    # values of the shape model and the quantiser
    ("basis nan", change("face.basis", at(7, np.nan)), "kb: face.basis holds non-finite values"),
    ("mean inf", change("face.mean", at(3, np.inf)), "kb: face.mean holds non-finite values"),
    ("lo nan", change("quant.lo", at(2, np.nan)), "kb: quant.lo holds non-finite values"),
    ("basis row too long", change("face.basis", lambda a: a * np.array([3.0, 1, 1, 1, 1, 1])[:, None]),
     "kb: face.basis row 0 has norm 3, expected at most 1 (orthonormal rows)"),
    ("mean shifted", change("face.mean", lambda a: a + 1), "kb: face.mean is not zero-centred with unit RMS radius "
     "(centre 1.73, radius 2)"),
    ("crop range", change("quant.hi", at(-1, 0.9)),
     "kb: quant.hi crop-motion ranges are [0.5, 0.5, 0.9], expected the fixed [0.5, 0.5, 0.7]"),
]
RANGE_CASES: list[tuple[str, Edit, str]] = [
    ("hi below lo", lambda m, b: put(m, b, "quant.hi", get(m, b, "quant.lo") - 1.0),
     r"kb: quant\.hi\[0\] = \S+ is not above quant\.lo\[0\] = \S+"),
    ("mean scaled", change("face.mean", lambda a: a * 2),
     r"kb: face\.mean is not zero-centred with unit RMS radius \(centre \S+, radius 2\)"),
    ("expression ranges × 1000", lambda m, b: [change(n, lambda a: np.concatenate([a[:6] * 1000, a[6:]]))(m, b)
                                              for n in ("quant.lo", "quant.hi")],
     r"kb: quant\.lo/quant\.hi let the face mesh reach [\d.e+]+ crop sides from the crop's centre, at most 8"),
    ("log scale up to e^5", change("quant.hi", at(12, 5.0)),
     r"kb: quant\.lo/quant\.hi let the face mesh reach [\d.e+]+ crop sides from the crop's centre, at most 8"),
    ("translation far out", change("quant.lo", at(10, -20.0)),
     r"kb: quant\.lo/quant\.hi let the face mesh reach [\d.e+]+ crop sides from the crop's centre, at most 8"),
    # images
    ("keyframe smaller", blob("key1.image", image((128, 128, 3))),
     r"kb: key1\.image is 128×128, expected the crop's 256×256"),
    ("background with alpha", blob("background", image((256, 256, 4))),
     r"kb: background has an alpha channel, expected RGB"),
    ("mouth patch outside", setting("mouth_atlas", 0, value=[250, 250]),
     r"kb: mouth0\.image \(\d+×\d+ at \(250, 250\)\) does not fit the 256×256 crop"),
    ("image not webp", blob("key2.image", image((256, 256, 3), "PNG")), r"kb: key2\.image is not a WebP image \(.+\)"),
    ("image garbage", blob("mouth0.image", b"RIFF\0\0\0\0WEBPVP8 garbage"),
     r"kb: mouth0\.image is not a WebP image \(.+\)"),
    ("image truncated", lambda _m, b: b.__setitem__("key0.image", b["key0.image"][:200]),
     r"kb: key0\.image is not a WebP image \(.+\)"),
    # voice profile and domain LM
    ("voice garbage", with_part("voice", b"\0voice\xff" * 7), r"kb: voice: not a voice profile \(bad magic\)"),
    ("voice nan", with_part("voice", voice_profile(lf0_mean=float("nan"))),
     r"kb: voice: voice profile holds non-finite values"),
    ("voice std 0", with_part("voice", voice_profile(source_lf0_std=0.0)),
     r"kb: voice: voice profile lf0 stds must lie in \(0, 2\.12\], got 0\.\.0\.2"),
    ("voice mcep std 0", with_part("voice", voice_profile(mcep_std=np.zeros(ORDER))),
     r"kb: voice: voice profile mcep stds must lie in \(0, 10\], got 0\.\.0\.3"),
    ("voice f0 1 MHz", with_part("voice", voice_profile(lf0_mean=np.log(1e6))),
     r"kb: voice: voice profile lf0 means must lie in \[4\.09, 6\.21\], got 5\.1\.\.13\.8"),
    ("voice mapping huge", with_part("voice", voice_profile(mapping=np.full((ORDER, N_COLS), 1e6))),
     r"kb: voice: voice profile \|mapping\| must lie in \[0, 10\], got 1e\+06\.\.1e\+06"),
    ("voice short embedding", with_part("voice", voice_profile(embedding=np.ones(3, np.float32))),
     r"kb: voice: voice profile embedding has 3 values, expected 256"),
    ("language garbage", with_part("language", b"STLM\x01garbage"), r"kb: language: language model body is malformed"),
    ("language order 0", with_part("language", lm_bytes({"order": 0, "ngrams": [["a", 1]]})),
     r"kb: language: language model order must be an integer in 1\.\.8"),
    ("language negative count", with_part("language", lm_bytes({"order": 2, "ngrams": [["a", -3]]})),
     r"kb: language: language model n-grams must have 1\.\.2 non-empty words and counts ≥ 1"),
    ("language long gram", with_part("language", lm_bytes({"order": 1, "ngrams": [["a", "b", 2]]})),
     r"kb: language: language model n-grams must have 1\.\.1 non-empty words and counts ≥ 1"),
    ("language infinite count", with_part("language", lm_bytes(b'{"order": 1, "ngrams": [["a", Infinity]]}')),
     r"kb: language: language model body is malformed"),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_inconsistent_field_is_refused_by_name(kb_bytes, edit, message):
    with pytest.raises(ValueError) as info:
        KnowledgeBase.from_bytes(rebuild(kb_bytes, edit))
    assert str(info.value) == message


@pytest.mark.parametrize(("edit", "pattern"), [c[1:] for c in RANGE_CASES], ids=[c[0] for c in RANGE_CASES])
def test_an_inconsistent_value_is_refused_by_name(kb_bytes, edit, pattern):
    with pytest.raises(ValueError) as info:
        KnowledgeBase.from_bytes(rebuild(kb_bytes, edit))
    assert re.fullmatch(pattern, str(info.value)), str(info.value)


def test_codes_above_the_quantisers_top_are_refused(synthetic, kb_bytes):
    """4 bits with the codes of 8: dequantised far outside the ranges, they hung the rasteriser."""
    top = int(synthetic.kb.reference.codes.max())
    with pytest.raises(ValueError) as info:
        KnowledgeBase.from_bytes(rebuild(kb_bytes, setting("quant_bits", value=4)))
    assert str(info.value) == f"kb: key0.codes holds code {top}, above 15 (the 4-bit quantiser's top)"
    with pytest.raises(ValueError, match=r"^kb: mouth0\.codes holds code 300, above 255 "):
        KnowledgeBase.from_bytes(rebuild(kb_bytes, change("mouth0.codes", at(3, 300))))


def test_manifest_that_runs_past_the_file_or_is_not_json():
    with pytest.raises(ValueError, match=r"^kb: manifest length 1000 runs past the end of the file$"):
        KnowledgeBase.from_bytes(_signed(b"\0\0\x03\xe8{}"))
    with pytest.raises(ValueError, match=r"^kb: manifest is not valid JSON \(.+\)$"):
        KnowledgeBase.from_bytes(_signed(b"\0\0\0\x03\xff\xfe{"))
    with pytest.raises(ValueError, match=r"^kb: manifest is not valid JSON \(.+\)$"):
        KnowledgeBase.from_bytes(_signed(b"\0\0\x9c\x40" + b"[" * 40000))


def _signed(body: bytes) -> bytes:
    """A KB whose body is ``body`` as given (no manifest of pack_kb's making), with the hash it needs."""
    return b"STKB" + struct.pack(">H", 1) + hashlib.sha256(body).digest() + body


def with_speech(m: dict, b: dict[str, bytes]) -> None:
    """Adds a voice profile and a domain LM."""
    with_part("voice", voice_profile())(m, b)
    with_part("language", LM)(m, b)


def test_valid_voice_and_language_parts_load(kb_bytes):
    kb = KnowledgeBase.from_bytes(rebuild(kb_bytes, with_speech))
    assert kb.voice == voice_profile() and kb.voice_profile.lf0_mean == pytest.approx(5.0)
    assert DomainLM.parse(kb.language).order == 3


@pytest.mark.parametrize("key", ["offset", "length"])
def test_a_blob_past_the_end_of_the_file_is_refused(kb_bytes, key):
    manifest, n = read_manifest(kb_bytes)
    entry = manifest["blobs"]["background"]
    entry[key] = 10**9
    section = kb_bytes[HEADER + 4 + n:]
    room = len(section) - (entry["offset"] if key == "length" else 0)
    with pytest.raises(ValueError) as info:
        KnowledgeBase.from_bytes(pack_kb(manifest, section))
    assert str(info.value) == f"kb: blob 'background' {key} is 1000000000, expected 0..{room}"


# -- random mutations: refused with a ValueError, or loaded and rendered in bounded time -----------------------
MUTATIONS = 200
SECONDS_PER_MUTATION = 5.0  # load, build the renderer, render three frames
HANG_GUARD_S = 120.0  # a C-level hang cannot be interrupted: dump every thread's stack and fail the run

SPECIAL = [0, -1, 1, 2, 3, 4, 7, 15, 255, 65535, 1e300, -1e300, 1e-30, float("nan"), float("inf"), float("-inf"),
           0.5, -0.5, True, None, "x", [], {}, [1, 2, 3]]


def _leaves(node: object, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))] + [path]
    return [path]


def _mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One random change to a number, a container or a blob of the manifest, re-signed."""
    manifest, blobs = parts(data)
    kind = rng.choice(["leaf", "leaf", "scale", "array", "array", "bytes", "drop"])
    if kind in ("leaf", "scale", "drop"):
        paths = [p for p in _leaves(manifest) if p and not (kind == "drop" and isinstance(p[-1], int))]
        path = paths[rng.integers(len(paths))]

        def edit(m: dict, _b: dict[str, bytes]) -> None:
            node = parent(m, path)
            old = node[path[-1]]
            if kind == "drop":
                del node[path[-1]]
            elif kind == "scale" and type(old) in (int, float):
                new = old * float(rng.choice([-1.0, 0.5, 2.0, 10.0, 1e6]))
                node[path[-1]] = int(new) if type(old) is int else new
            else:
                node[path[-1]] = SPECIAL[rng.integers(len(SPECIAL))]

        return f"{kind} {path}", rebuild(data, edit)
    arrays = [n for n, e in manifest["blobs"].items() if e["kind"] == "array"]
    if kind == "array":
        name = arrays[rng.integers(len(arrays))]
        e = manifest["blobs"][name]
        a = get(manifest, blobs, name)
        i = int(rng.integers(a.size))
        value = (rng.integers(0, 65536) if e["dtype"] == "uint16"
                 else rng.choice([np.nan, np.inf, -np.inf, 1e4, -1e4, 0.0, a.reshape(-1)[i] * rng.normal(1, 5)]))
        with np.errstate(all="ignore"):
            return f"array {name}[{i}] = {value}", rebuild(data, change(name, at(i, value)))
    names = sorted(blobs)
    name = names[rng.integers(len(names))]
    raw = bytearray(blobs[name])
    for i in rng.integers(0, max(len(raw), 1), size=int(rng.integers(1, 4))):
        if raw:
            raw[i] = int(rng.integers(256))
    return f"bytes {name}", rebuild(data, blob(name, bytes(raw)))


def _exercise(data: bytes) -> None:
    """Load; if it loads, what a receiver does first: parse the speech parts, build the renderer, render the
    reference and both extreme codes."""
    try:
        kb = KnowledgeBase.from_bytes(data)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    if kb.voice is not None:
        assert kb.voice_profile.lf0_std > 0
    if kb.language is not None:
        DomainLM.parse(kb.language).prompt()
    renderer = FaceRenderer(kb)
    q = kb.quantizer
    n = kb.face_model.n_coeffs
    for codes in (kb.reference.codes, np.zeros(n, np.uint16), np.full(n, q.levels, np.uint16)):
        frame = renderer(q.dequantize(codes))
        assert frame.shape == (kb.crop.size, kb.crop.size, 3)


def test_random_mutations_are_refused_or_render_in_bounded_time(kb_bytes):
    full = rebuild(kb_bytes, with_speech)
    rng = np.random.default_rng(25)
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
    try:
        for _ in range(MUTATIONS):
            what, data = _mutate(full, rng)
            t = time.perf_counter()
            try:
                _exercise(data)
            except Exception as exc:
                raise AssertionError(f"mutation {what}: {exc!r}") from exc
            assert time.perf_counter() - t < SECONDS_PER_MUTATION, f"mutation {what} took too long"
    finally:
        faulthandler.cancel_dump_traceback_later()
