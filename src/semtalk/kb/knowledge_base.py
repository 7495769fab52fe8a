"""The knowledge base shared once at session start, as one versioned, hashed file.

File layout (all integers big-endian)::

    b"STKB" | u16 format version | 32-byte SHA-256 of the body | body
    body = u32 manifest length | manifest (UTF-8 JSON) | blobs

The manifest names every blob (offset, length, kind, dtype, shape). Images are WebP, arrays raw
little-endian, the voice profile its own versioned bytes (``kb.voice``). The hash identifies the KB
on the wire: a receiver holding another KB refuses the stream instead of rendering garbage. A KB comes
from a peer, so loading checks every field against the format's schema (``kb.schema``) as well.

The pictures are lossy, so a loaded KB keeps their coded bytes (``CodedPictures``) and writes those again while
its pictures are the ones it loaded: saving a KB never codes a decoded picture a second time (which cost the
enrollment's KB, built, loaded and then saved, up to 0.0015 held-out SSIM).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semtalk.atomic import atomic_bytes
from semtalk.errors import SemtalkError
from semtalk.kb.schema import FORMAT_VERSION, check_codes, check_face_tables, check_image, check_info, check_manifest
from semtalk.semantics.face.coefficients import FaceModel
from semtalk.semantics.face.crop import CropBox
from semtalk.semantics.face.encoder import CropConfig
from semtalk.semantics.face.quantize import Quantizer

MAGIC = b"STKB"
_HEADER = struct.Struct(">4sH32s")


@dataclass(frozen=True)
class Keyframe:
    """A reference image and the quantised coefficients that describe it.

    ``offset`` is where the image's top-left corner sits in the face crop (non-zero for atlas
    patches cut from a crop); ``alpha`` (uint8) marks the person, for compositing over the plate.
    """

    image: np.ndarray
    codes: np.ndarray
    offset: tuple[int, int] = (0, 0)
    alpha: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class CodedPictures:
    """The pictures' blobs as a KB file holds them (every ``kind`` but arrays and parts), with the decoded arrays
    they came from: ``to_bytes`` writes them again while the KB still holds exactly those arrays (``is``)."""

    codec: str
    quality: int
    sources: tuple[np.ndarray | None, ...]
    blobs: dict[str, tuple[bytes, dict]]

    def reusable(self, codec: str, quality: int, sources: tuple[np.ndarray | None, ...]) -> bool:
        return (codec, quality) == (self.codec, self.quality) and len(sources) == len(self.sources) and all(
            a is b for a, b in zip(sources, self.sources, strict=True))


@dataclass
class KnowledgeBase:
    """Everything the receiver needs besides the stream: speaker shape model, quantiser, references."""

    face_model: FaceModel
    quantizer: Quantizer
    crop: CropConfig
    ref_box: CropBox
    fps: float
    keyframes: list[Keyframe]
    mouth_atlas: list[Keyframe]
    background: np.ndarray
    info: dict = field(default_factory=dict)
    webp_quality: int = 90
    voice: bytes | None = None  # serialised kb.voice.VoiceProfile; None for a silent enrollment
    language: bytes | None = None  # serialised kb.language.DomainLM (``--lm-text``); None: generic LM only
    image_codec: str = "webp"  # the pictures' codec (registry ``image_codec``; ``kb.pictures``); webp: as ever
    image_quality: int | None = None  # that codec's quality 1..100; None: ``kb.pictures.DEFAULT_QUALITY``
    coded: CodedPictures | None = field(default=None, repr=False, compare=False)  # as loaded (``from_bytes``)

    @property
    def voice_profile(self):
        """The speaker's voice profile (parsed on use, so face-only callers never import the speech stack)."""
        if self.voice is None:
            return None
        from semtalk.kb.voice import VoiceProfile

        return VoiceProfile.from_bytes(self.voice)

    @property
    def reference(self) -> Keyframe:
        """The reference frame: the first keyframe, the enrollment frame nearest the mean face."""
        return self.keyframes[0]

    def to_bytes(self) -> bytes:
        blobs: list[bytes] = []
        entries: dict[str, dict] = {}

        def add(name: str, data: bytes, **meta) -> None:
            entries[name] = {"offset": sum(map(len, blobs)), "length": len(data), **meta}
            blobs.append(data)

        def add_array(name: str, arr: np.ndarray, dtype: str) -> None:
            a = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
            add(name, a.tobytes(), kind="array", dtype=dtype, shape=list(a.shape))

        add_array("face.mean", self.face_model.mean, "float32")
        add_array("face.basis", self.face_model.basis, "float16")
        add_array("quant.lo", self.quantizer.lo, "float32")
        add_array("quant.hi", self.quantizer.hi, "float32")
        frames = {f"{g}{i}": kf for g, group in (("key", self.keyframes), ("mouth", self.mouth_atlas))
                  for i, kf in enumerate(group)}
        sources = self._picture_sources()
        if self.coded is not None and self.coded.reusable(self.image_codec, self.quality, sources):
            pictures = self.coded.blobs
        else:
            pictures = self._code_pictures(frames)
        for name, (data, meta) in pictures.items():
            add(name, data, **meta)
            stem, part = name.rsplit(".", 1) if "." in name else (name, "")
            if stem in frames and (part == "alpha" or f"{stem}.alpha" not in pictures):
                add_array(f"{stem}.codes", frames[stem].codes, "uint16")
        if self.voice is not None:
            add("voice", self.voice, kind="voice")
        if self.language is not None:
            add("language", self.language, kind="language")
        manifest = {
            "format": FORMAT_VERSION,
            "fps": self.fps,
            "quant_bits": self.quantizer.bits,
            "crop": {"size": self.crop.size, "scale": self.crop.scale, "dead_zone": self.crop.dead_zone},
            "ref_box": [self.ref_box.cx, self.ref_box.cy, self.ref_box.size],
            "keyframes": len(self.keyframes),
            "mouth_atlas": [list(k.offset) for k in self.mouth_atlas],
            "webp_quality": self.webp_quality,
            "info": self.info,
            "blobs": entries,
        }
        if self.image_codec != "webp":  # optional fields: a WebP KB's bytes (and hash) are as before
            manifest |= {"image_codec": self.image_codec, "image_quality": self.quality}
        return pack_kb(manifest, b"".join(blobs))

    @property
    def quality(self) -> int:
        """The pictures' codec quality: a WebP KB's ``webp_quality``, else ``image_quality`` or the codec's default."""
        from semtalk.kb.pictures import default_quality

        if self.image_codec == "webp":
            return self.webp_quality
        return self.image_quality if self.image_quality is not None else default_quality(self.image_codec)

    def _picture_sources(self) -> tuple[np.ndarray | None, ...]:
        frames = [*self.keyframes, *self.mouth_atlas]
        return (self.background, *(a for kf in frames for a in (kf.image, kf.alpha)))

    def _code_pictures(self, frames: dict[str, Keyframe]) -> dict[str, tuple[bytes, dict]]:
        """Every picture blob in file order: WebP one by one (the person mask in the alpha channel), as ever; any
        other codec the keyframes and mouth patches as one set, the masks apart (``kb.pictures``), and the still
        background plate with them, except for a set codec (Seb): the plate is no part of the speaker's correlated
        pictures, and smooth, where WebP is 6× smaller than Seb at equal PSNR (docs/seb.md), so it goes as WebP."""
        out: dict[str, tuple[bytes, dict]] = {}
        if self.image_codec == "webp":
            out["background"] = _encode_webp(self.background, self.webp_quality), {"kind": "webp"}
            for stem, kf in frames.items():
                rgba = kf.image if kf.alpha is None else np.dstack([kf.image, kf.alpha])
                out[f"{stem}.image"] = _encode_webp(rgba, self.webp_quality), {"kind": "webp"}
            return out
        from semtalk.kb.pictures import codes_sets, encode_alpha, encode_pictures, mouth_quality

        plate_apart = codes_sets(self.image_codec)
        pictures = [kf.image for kf in frames.values()]
        qualities = [mouth_quality(self.quality) if stem.startswith("mouth") else self.quality for stem in frames]
        if not plate_apart:
            pictures, qualities = [self.background, *pictures], [self.quality, *qualities]
        shared, coded = encode_pictures(self.image_codec, qualities, pictures)
        if shared:
            out["pictures.shared"] = shared, {"kind": "image_shared"}
        if plate_apart:
            out["background"] = _encode_webp(self.background, self.webp_quality), {"kind": "webp"}
        else:
            out["background"], coded = (coded[0], {"kind": self.image_codec}), coded[1:]
        for (stem, kf), data in zip(frames.items(), coded, strict=True):
            out[f"{stem}.image"] = data, {"kind": self.image_codec}
            if kf.alpha is not None:
                out[f"{stem}.alpha"] = encode_alpha(kf.alpha), {"kind": "alpha"}
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> KnowledgeBase:
        """A serialised KB, checked against its format's schema (``kb.schema``): the hash proves it arrived
        intact, not that it makes sense, so anything inconsistent is one ``ValueError`` naming the field."""
        if len(data) < _HEADER.size + 4:
            raise ValueError("knowledge base is truncated")
        magic, version, digest = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError("not a semtalk knowledge base (bad magic)")
        if version != FORMAT_VERSION:
            raise ValueError(f"knowledge base format {version} is not supported "
                             f"(this semtalk reads {FORMAT_VERSION})")
        body = data[_HEADER.size:]
        if hashlib.sha256(body).digest() != digest:
            raise ValueError("knowledge base is corrupt (content hash mismatch)")
        manifest, blob_base = _manifest(body)
        check_manifest(manifest, len(body) - blob_base)
        blobs, bits, size = manifest["blobs"], manifest["quant_bits"], manifest["crop"]["size"]

        def raw(name: str) -> bytes:
            e = blobs[name]
            return body[blob_base + e["offset"]: blob_base + e["offset"] + e["length"]]

        def arr(name: str) -> np.ndarray:
            e = blobs[name]
            return np.frombuffer(raw(name), dtype=np.dtype(e["dtype"]).newbyteorder("<")).reshape(e["shape"])

        codec = manifest.get("image_codec", "webp")
        decoded = {} if codec == "webp" else _decode_coded_pictures(manifest, raw, size)

        def keyframe(name: str, offset: tuple[int, int] | None = None) -> Keyframe:
            codes = arr(f"{name}.codes")
            check_codes(f"{name}.codes", codes, bits)
            if codec != "webp":
                image, alpha = decoded[name]
                return Keyframe(image, codes.copy(), offset or (0, 0), alpha)
            image = _decode_webp(raw(f"{name}.image"), f"{name}.image", size, offset)
            alpha = image[..., 3].copy() if image.shape[2] == 4 else None
            return Keyframe(np.ascontiguousarray(image[..., :3]), codes.copy(), offset or (0, 0), alpha)

        with np.errstate(invalid="ignore"):  # a signalling NaN warns when cast; check_face_tables refuses it
            mean, basis, lo, hi = (arr(n).astype(np.float64) for n in ("face.mean", "face.basis", "quant.lo",
                                                                        "quant.hi"))
        check_face_tables(mean, basis, lo, hi)
        keys = [keyframe(f"key{i}") for i in range(manifest["keyframes"])]
        mouths = [keyframe(f"mouth{i}", (x, y)) for i, (x, y) in enumerate(manifest["mouth_atlas"])]
        background = decoded["background"][0] if decoded else _decode_webp(raw("background"), "background", size)
        if background.shape[2] != 3:
            raise ValueError("kb: background has an alpha channel, expected RGB")
        check_info(manifest["info"], len(basis))
        voice = raw("voice") if "voice" in blobs else None
        language = raw("language") if "language" in blobs else None
        if voice is not None:
            from semtalk.kb.voice import VoiceProfile

            _check_part("voice", VoiceProfile.from_bytes, voice)
        if language is not None:
            from semtalk.kb.language import DomainLM

            _check_part("language", DomainLM.parse, language)
        c = manifest["crop"]
        kb = cls(face_model=FaceModel(mean=mean, basis=basis), quantizer=Quantizer(lo, hi, bits),
                 crop=CropConfig(c["size"], c["scale"], c["dead_zone"]), ref_box=CropBox(*manifest["ref_box"]),
                 fps=manifest["fps"], keyframes=keys, mouth_atlas=mouths, background=background,
                 info=manifest["info"], webp_quality=manifest["webp_quality"], voice=voice, language=language,
                 image_codec=codec, image_quality=manifest.get("image_quality"))
        pictures = {name: (raw(name), {k: v for k, v in e.items() if k not in ("offset", "length")})
                    for name, e in sorted(blobs.items(), key=lambda item: item[1]["offset"])  # file order
                    if e["kind"] not in ("array", "voice", "language")}
        sources = kb._picture_sources()
        for a in sources:  # the coded bytes stand for these arrays: changing one in place would go unseen
            if a is not None:
                a.flags.writeable = False
        kb.coded = CodedPictures(codec, kb.quality, sources, pictures)
        return kb

    def save(self, path: str | Path) -> bytes:
        """Write the KB atomically (temporary file, then rename): a full disk or an interrupt leaves no truncated
        KB that a later ``--kb`` run would refuse, nor a half-replaced one."""
        data = self.to_bytes()
        atomic_bytes(Path(path), data)
        return data

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeBase:
        return read_kb(path)[0]


def read_kb(path: str | Path) -> tuple[KnowledgeBase, bytes]:
    """A KB file, parsed, with its bytes (for the hash and sizes); problems become one-line SemtalkErrors."""
    p = Path(path)
    if not p.is_file():
        raise SemtalkError(f"knowledge base not found: {p}")
    data = p.read_bytes()
    try:
        return KnowledgeBase.from_bytes(data), data
    except ValueError as exc:
        raise SemtalkError(f"{p}: {exc}") from exc


def pack_kb(manifest: object, blobs: bytes) -> bytes:
    """Header, hash and body around a manifest and its blobs: the one place a KB's bytes are laid out."""
    head = json.dumps(manifest, sort_keys=True).encode()
    body = struct.pack(">I", len(head)) + head + blobs
    return _HEADER.pack(MAGIC, FORMAT_VERSION, hashlib.sha256(body).digest()) + body


def _manifest(body: bytes) -> tuple[object, int]:
    (n,) = struct.unpack_from(">I", body)
    if 4 + n > len(body):
        raise ValueError(f"kb: manifest length {n} runs past the end of the file")
    try:
        return json.loads(body[4:4 + n]), 4 + n
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"kb: manifest is not valid JSON ({exc})") from exc


def read_manifest(data: bytes) -> tuple[object, int]:
    """The manifest of a serialised KB and its own length in bytes (without checking the hash)."""
    manifest, end = _manifest(data[_HEADER.size:])
    return manifest, end - 4


def kb_hash(data: bytes) -> str:
    """The KB's identity: the SHA-256 of its body as stored in the header, in hex."""
    return _HEADER.unpack_from(data)[2].hex()


def kb_tag(data: bytes) -> int:
    """One byte of the hash, carried in every face packet so a mismatched receiver notices at once."""
    return _HEADER.unpack_from(data)[2][0]


def _check_part(name: str, parse: Callable[[bytes], object], data: bytes) -> None:
    """A blob in its own versioned format (voice profile, domain LM) parses, or the KB names it."""
    try:
        parse(data)
    except ValueError as exc:
        raise ValueError(f"kb: {name}: {exc}") from exc


def _decode_coded_pictures(manifest: dict, raw: Callable[[str], bytes], crop: int,
                           ) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Every picture of a KB whose ``image_codec`` is not WebP, by blob stem (``background``, ``key0``, ...), with its
    mask; sizes are checked from the pictures' headers before any is decoded."""
    from semtalk.kb.pictures import decode_alpha, decode_pictures, picture_size

    codec, blobs = manifest["image_codec"], manifest["blobs"]
    plate_apart = blobs["background"]["kind"] == "webp"  # a set codec's KB: the plate is WebP
    names = [*(f"key{i}" for i in range(manifest["keyframes"])),
             *(f"mouth{i}" for i in range(len(manifest["mouth_atlas"])))]
    offsets = [None] * manifest["keyframes"] + [tuple(o) for o in manifest["mouth_atlas"]]
    if not plate_apart:
        names, offsets = ["background", *names], [None, *offsets]
    each = [raw(n if n == "background" else f"{n}.image") for n in names]
    for name, data, offset in zip(names, each, offsets, strict=True):
        check_image(f"{name}.image", *picture_size(codec, data), crop, offset)
    shared = raw("pictures.shared") if "pictures.shared" in blobs else b""
    try:
        images = decode_pictures(codec, shared, each)
    except ValueError as exc:
        raise ValueError(f"kb: pictures are not {codec} ({exc})") from exc
    out = {}
    for name, image in zip(names, images, strict=True):
        alpha = None
        if f"{name}.alpha" in blobs:
            try:
                alpha = decode_alpha(raw(f"{name}.alpha"), image.shape[1], image.shape[0])
            except ValueError as exc:
                raise ValueError(f"kb: {name}.alpha: {exc}") from exc
        out[name] = (np.ascontiguousarray(image), alpha)
    if plate_apart:
        out["background"] = _decode_webp(raw("background"), "background", crop), None
    return out


def _encode_webp(image: np.ndarray, quality: int) -> bytes:
    """Lossy WebP (RGB, or RGBA with the person mask as alpha)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="WEBP", quality=quality, method=6, alpha_quality=80)
    return buf.getvalue()


def _decode_webp(data: bytes, name: str, crop: int, offset: tuple[int, int] | None = None) -> np.ndarray:
    """RGB, or RGBA with the person mask; the size is checked from the header, before any pixel is decoded."""
    from PIL import Image

    try:
        img = Image.open(io.BytesIO(data), formats=["WEBP"])
        check_image(name, *img.size, crop, offset)
        return np.asarray(img.convert("RGBA" if img.mode == "RGBA" else "RGB"))
    except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise ValueError(f"kb: {name} is not a WebP image ({exc})") from exc
