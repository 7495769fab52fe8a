"""What a knowledge base of format 1 must hold for its consumers not to crash or hang, checked at load.

The hash proves that a KB arrived intact, not that it makes sense, and a KB is what a peer sends at call
start: untrusted input. So every manifest field and blob is checked against what its consumers need (the
face renderer's warp and rasteriser, the quantiser and face stream, voice conversion, TextPC), and a bad
KB fails at load with one ``ValueError`` naming the field, not with an IndexError, a QhullError or a
hang in the middle of a call. Every check is linear in the KB's size, and images are checked by their
headers before they are decoded.
"""

from __future__ import annotations

import math

import numpy as np

from semtalk.semantics.face import mesh
from semtalk.semantics.face.quantize import CROP_RANGE, MAX_BITS, MIN_BITS

FORMAT_VERSION = 1
MAX_CROP = 1024  # crop side in pixels: bounds every decoded image and every renderer buffer
MAX_EXPR = 64
MAX_KEYFRAMES = 256
MAX_FPS = 1000.0
MAX_FRAME = 1e5  # pixels: the reference crop box lives in a source frame at most this large
MAX_CROP_SCALE = 10.0  # crop window over the face's extent (the builder uses 1.7)
# How far (in crop sides) any code may put a face point from the crop's centre. Real KBs reach below 1;
# the renderer's rasteriser and mouth blur grow with the mesh's extent, so it must stay bounded.
MAX_REACH = 8.0
UNIT_RMS_TOLERANCE = 1e-3  # the mean mesh is zero-centred with unit RMS radius, stored as float32
BASIS_NORM_TOLERANCE = 1e-2  # basis rows are orthonormal (or zero), stored as float16
CROP_RANGE_TOLERANCE = 1e-6  # the fixed crop-motion ranges, stored as float32

FIELDS = {"format", "fps", "quant_bits", "crop", "ref_box", "keyframes", "mouth_atlas", "webp_quality", "info",
          "blobs"}
CROP_FIELDS = {"size", "scale", "dead_zone"}
# Optional fields: a KB whose pictures are not WebP names their codec (registry ``image_codec``) and its quality.
OPTIONAL_FIELDS = {"image_codec", "image_quality"}
# Info fields a consumer reads (call.run, bench), or the builder writes, and the JSON type each must have.
INFO_TYPES: dict[str, tuple[type, ...]] = {
    "enroll_frames": (int,), "enroll_faces": (int,), "enroll_seconds": (int, float), "n_expr": (int,),
    "keyframe_indices": (list,), "mouth_indices": (list,), "source": (dict,), "voice": (dict,),
    "language": (dict,),
}


def _fail(message: str) -> ValueError:
    return ValueError(f"kb: {message}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(name: str, value: object, lo: int, hi: int) -> int:
    """``value`` as an int in lo..hi (JSON booleans and floats are refused)."""
    if type(value) is not int:
        raise _fail(f"{name} must be an integer, got {_show(value)}")
    if not lo <= value <= hi:
        raise _fail(f"{name} is {value}, expected {lo}..{hi}")
    return value


def _number(name: str, value: object, lo: float, hi: float, *, above: bool = False) -> None:
    """``value`` is a finite number in [lo, hi] (or (lo, hi] with ``above``)."""
    if type(value) not in (int, float):
        raise _fail(f"{name} must be a number, got {_show(value)}")
    if not math.isfinite(value):
        raise _fail(f"{name} is {value}, expected a finite number")
    if not (lo < value if above else lo <= value) or value > hi:
        raise _fail(f"{name} is {value}, expected {'(' if above else '['}{lo}, {hi}]")


def _check_fields(name: str, value: object, fields: set[str], optional: frozenset[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        raise _fail(f"{name} must be a JSON object, got {_show(value)}")
    missing, extra = sorted(fields - set(value)), sorted(set(value) - fields - optional)
    if missing:
        raise _fail(f"{name} lacks '{missing[0]}'")
    if extra:
        raise _fail(f"{name} field '{extra[0]}' is not part of format {FORMAT_VERSION}")
    return value


def check_manifest(manifest: object, blob_bytes: int) -> None:
    """Every manifest field's type and range, and a blob table that fits the ``blob_bytes`` after it."""
    m = _check_fields("manifest", manifest, FIELDS, frozenset(OPTIONAL_FIELDS))
    if m["format"] != FORMAT_VERSION or type(m["format"]) is not int:
        raise _fail(f"manifest format is {_show(m['format'])}, the header says {FORMAT_VERSION}")
    _number("fps", m["fps"], 0.0, MAX_FPS, above=True)
    _integer("quant_bits", m["quant_bits"], MIN_BITS, MAX_BITS)
    crop = _check_fields("crop", m["crop"], CROP_FIELDS)
    size = _integer("crop.size", crop["size"], 8, MAX_CROP)
    _number("crop.scale", crop["scale"], 0.0, MAX_CROP_SCALE, above=True)
    _number("crop.dead_zone", crop["dead_zone"], 0.0, 1.0)
    box = m["ref_box"]
    if not isinstance(box, list) or len(box) != 3:
        raise _fail(f"ref_box must be [cx, cy, size], got {_show(box)}")
    _number("ref_box cx", box[0], -MAX_FRAME, MAX_FRAME)
    _number("ref_box cy", box[1], -MAX_FRAME, MAX_FRAME)
    _number("ref_box size", box[2], 0.0, MAX_FRAME, above=True)
    keyframes = _integer("keyframes", m["keyframes"], 1, MAX_KEYFRAMES)
    atlas = m["mouth_atlas"]
    if not isinstance(atlas, list) or len(atlas) > MAX_KEYFRAMES:
        raise _fail(f"mouth_atlas must be a list of at most {MAX_KEYFRAMES} offsets, got {_show(atlas)}")
    for i, offset in enumerate(atlas):
        if not isinstance(offset, list) or len(offset) != 2:
            raise _fail(f"mouth_atlas[{i}] must be [x, y], got {_show(offset)}")
        for axis, v in zip("xy", offset, strict=True):
            _integer(f"mouth_atlas[{i}] {axis}", v, 0, size - 1)
    _integer("webp_quality", m["webp_quality"], 0, 100)
    if not isinstance(m["info"], dict):
        raise _fail(f"info must be a JSON object, got {_show(m['info'])}")
    codec = _image_codec(m)
    _check_blobs(m["blobs"], keyframes, len(atlas), blob_bytes, codec)


def _image_codec(m: dict) -> str:
    """The optional ``image_codec`` (a registered image codec, default webp) and its ``image_quality`` (1..100)."""
    from semtalk import registry

    codec = m.get("image_codec", "webp")
    if not isinstance(codec, str) or codec not in registry.names("image_codec"):
        raise _fail(f"image_codec is {_show(codec)}, expected one of {', '.join(registry.names('image_codec'))}")
    if "image_quality" in m:
        _integer("image_quality", m["image_quality"], 1, 100)
    if (codec == "webp") != ("image_quality" not in m):
        raise _fail("image_quality goes with an image_codec other than webp, and only then")
    return codec


def _check_blobs(blobs: object, keyframes: int, mouths: int, blob_bytes: int, codec: str = "webp") -> None:
    """Names, kinds, extents, dtypes and shapes of the blobs.

    The reference keyframe's codes give the number of coefficients per frame; the shape model, the
    quantiser's tables and every other keyframe's codes must agree with it.
    """
    if not isinstance(blobs, dict):
        raise _fail(f"blobs must be a JSON object, got {_show(blobs)}")
    for name, e in blobs.items():
        if not isinstance(e, dict) or not {"offset", "length", "kind"} <= set(e):
            raise _fail(f"blob '{name}' must be an object with offset, length and kind, got {_show(e)}")
        offset = _integer(f"blob '{name}' offset", e["offset"], 0, blob_bytes)
        _integer(f"blob '{name}' length", e["length"], 0, blob_bytes - offset)
    if "key0.codes" not in blobs:
        raise _fail("blob 'key0.codes' is missing")
    shape = blobs["key0.codes"].get("shape")
    if not isinstance(shape, list) or len(shape) != 1:
        raise _fail(f"key0.codes has shape {_shape(shape)}, expected (n_coeffs,)")
    n_coeffs = _integer("key0.codes length", shape[0], 11, MAX_EXPR + 10)
    arrays = {"face.mean": ("float32", [mesh.N_LANDMARKS, 3]),
              "face.basis": ("float16", [n_coeffs - 10, 3 * mesh.N_LANDMARKS]),
              "quant.lo": ("float32", [n_coeffs]), "quant.hi": ("float32", [n_coeffs])}
    expected = {name: "array" for name in arrays} | {"background": codec}
    optional = {"voice": "voice", "language": "language"}  # blob → kind, when present
    if codec != "webp":
        optional["pictures.shared"] = "image_shared"
    for group, count in (("key", keyframes), ("mouth", mouths)):
        for i in range(count):
            expected[f"{group}{i}.image"] = codec
            expected[f"{group}{i}.codes"] = "array"
            arrays[f"{group}{i}.codes"] = ("uint16", [n_coeffs])
            if codec != "webp":
                optional[f"{group}{i}.alpha"] = "alpha"
    unknown = sorted(set(blobs) - set(expected) - set(optional))
    if unknown:
        raise _fail(f"blob '{unknown[0]}' is not part of format {FORMAT_VERSION}")
    for name in [*expected, *optional]:
        e = blobs.get(name)
        if e is None:
            if name in expected:
                raise _fail(f"blob '{name}' is missing")
            continue
        kind = expected.get(name) or optional[name]
        if name == "background" and e["kind"] == "webp":  # a set codec's KB keeps its plate in WebP
            kind = "webp"
        if e["kind"] != kind:
            raise _fail(f"blob '{name}' has kind {_show(e['kind'])}, expected '{kind}'")
        if name in arrays:
            dtype, want = arrays[name]
            if e.get("dtype") != dtype:
                raise _fail(f"{name} has dtype {_show(e.get('dtype'))}, expected '{dtype}'")
            got = e.get("shape")
            if got != want or any(type(x) is not int for x in got):  # 16.0 == 16 in Python, not in a shape
                raise _fail(f"{name} has shape {_shape(got)}, expected {_shape(want)}")
            need = math.prod(want) * np.dtype(dtype).itemsize
            if e["length"] != need:
                raise _fail(f"{name} holds {e['length']} bytes, its shape needs {need}")


def _shape(shape: object) -> str:
    return str(tuple(shape)) if isinstance(shape, list) else _show(shape)


def check_info(info: dict, n_expr: int) -> None:
    """The info fields consumers read have their JSON types, and no number in it is NaN or infinite."""
    for key, types in INFO_TYPES.items():
        if key in info and (type(info[key]) not in types):
            raise _fail(f"info.{key} must be {' or '.join(t.__name__ for t in types)}, got {_show(info[key])}")
    if "enroll_frames" in info:
        _integer("info.enroll_frames", info["enroll_frames"], 0, 10**9)
    if "path" in info.get("source", {}) and not isinstance(info["source"]["path"], str):
        raise _fail(f"info.source.path must be str, got {_show(info['source']['path'])}")
    if info.get("n_expr", n_expr) != n_expr:
        raise _fail(f"info.n_expr is {info['n_expr']}, the face model has {n_expr}")
    stack: list[tuple[str, object]] = [("info", info)]  # iterative: the JSON may nest deeply
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{path}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, float) and not math.isfinite(value):
            raise _fail(f"{path} is {value}, expected a finite number")


def check_face_tables(mean: np.ndarray, basis: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Shape model and quantiser ranges that decode every possible code to a face near the crop.

    The mean is the frontal mesh (zero-centred, unit RMS radius) and the basis rows are orthonormal,
    or zero where the enrollment had fewer frames than coefficients; the crop-motion ranges are the
    fixed ones the sender quantises with. Then the farthest point any code can put on the mesh is
    bounded by the ranges, and that bound must stay within ``MAX_REACH`` crop sides.
    """
    for name, a in (("face.mean", mean), ("face.basis", basis), ("quant.lo", lo), ("quant.hi", hi)):
        if not np.all(np.isfinite(a)):
            raise _fail(f"{name} holds non-finite values")
    centre = float(np.linalg.norm(mean.mean(0)))
    radius = float(np.sqrt((mean**2).sum(1).mean()))
    if centre > UNIT_RMS_TOLERANCE or abs(radius - 1.0) > UNIT_RMS_TOLERANCE:
        raise _fail(f"face.mean is not zero-centred with unit RMS radius (centre {centre:.3g}, radius {radius:.3g})")
    norms = np.linalg.norm(basis, axis=1)
    if norms.max() > 1.0 + BASIS_NORM_TOLERANCE:
        i = int(np.argmax(norms))
        raise _fail(f"face.basis row {i} has norm {norms[i]:.3g}, expected at most 1 (orthonormal rows)")
    bad = np.flatnonzero(~(hi > lo))
    if bad.size:
        i = int(bad[0])
        raise _fail(f"quant.hi[{i}] = {hi[i]:.6g} is not above quant.lo[{i}] = {lo[i]:.6g}")
    e = len(basis)
    for name, got, want in (("quant.lo", lo[e + 7:], CROP_RANGE[0]), ("quant.hi", hi[e + 7:], CROP_RANGE[1])):
        if np.abs(got - want).max() > CROP_RANGE_TOLERANCE:
            raise _fail(f"{name} crop-motion ranges are {np.round(got, 6).tolist()}, "
                        f"expected the fixed {want.tolist()}")
    expr = np.maximum(np.abs(lo[:e]), np.abs(hi[:e]))
    point_norms = np.linalg.norm(basis.reshape(e, -1, 3), axis=2)  # (E, 478): how far each row moves each point
    radius_max = float((np.linalg.norm(mean, axis=1) + expr @ point_norms).max())
    shift = float(np.abs(np.concatenate([lo[e + 4:e + 6], hi[e + 4:e + 6]]) - 0.5).max())
    with np.errstate(over="ignore"):  # a huge log-scale reaches infinitely far, and is refused as such
        reach = float(np.exp(hi[e + 6])) * radius_max + shift
    if reach > MAX_REACH:
        raise _fail(f"quant.lo/quant.hi let the face mesh reach {reach:.3g} crop sides from the crop's centre, "
                    f"at most {MAX_REACH:g}")


def check_codes(name: str, codes: np.ndarray, bits: int) -> None:
    """Codes within the quantiser's levels: above its top they dequantise far outside the ranges (4 bits over
    the codes of 8 put the mesh thousands of crops away and stalled the rasteriser)."""
    top = (1 << bits) - 1
    if codes.size and int(codes.max()) > top:
        raise _fail(f"{name} holds code {int(codes.max())}, above {top} (the {bits}-bit quantiser's top)")


def check_image(name: str, width: int, height: int, crop: int, offset: tuple[int, int] | None = None) -> None:
    """A keyframe or the plate covers the crop exactly; a mouth patch lies inside it at its offset."""
    if offset is None:
        if (width, height) != (crop, crop):
            raise _fail(f"{name} is {width}×{height}, expected the crop's {crop}×{crop}")
    elif width < 1 or height < 1 or offset[0] + width > crop or offset[1] + height > crop:
        raise _fail(f"{name} ({width}×{height} at {offset}) does not fit the {crop}×{crop} crop")
