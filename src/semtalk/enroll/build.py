"""Build the knowledge base from an enrollment segment (default: the first 2 s of the clip).

The semantic base is chosen by clustering: keyframes are the medoids of k-means clusters of the
decoded face meshes (which carry pose and expression together), so the receiver always has a
reference that needs little warping; the mouth atlas is chosen the same way on lip shapes alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.enroll.background import PersonSegmenter, background_plate
from semtalk.errors import SemtalkError
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.coefficients import fit_face_model
from semtalk.semantics.face.encoder import CropConfig, FaceTracker, TrackedFrame
from semtalk.semantics.face.quantize import Quantizer, fit_ranges

VOICE_RATE = 16000  # the speech path's rate (ASR, PESQ-WB)


@dataclass(frozen=True)
class KbConfig:
    """Enrollment length, model size and how many references to keep."""

    enroll_seconds: float = 2.0
    n_expr: int = 6
    bits: int = 8
    keyframes: int = 10
    mouth_atlas: int = 12
    webp_quality: int = 90
    seed: int = 0
    voice: bool = True
    voice_seconds: float = 4.0
    lm_text: str | None = None  # a text corpus (one sentence a line) for the KB's domain LM (kb.language)
    image_codec: str = "webp"  # the pictures' codec (registry ``image_codec``, ``kb.pictures``)
    image_quality: int | None = None  # its quality 1..100 (None: the codec's KB default)


def build_kb(frames: Sequence[TrackedFrame], ref_box, fps: float, crop: CropConfig,
             config: KbConfig = KbConfig()) -> KnowledgeBase:
    """Knowledge base from tracked enrollment frames (only frames with a face are used)."""
    faces = [f for f in frames if f.points is not None]
    if len(faces) < max(3, len(frames) // 2):
        raise SemtalkError(f"a face was found in only {len(faces)} of {len(frames)} enrollment frames; "
                           "the enrollment segment must show the speaker's face")
    model = fit_face_model(np.stack([f.points for f in faces]), n_expr=config.n_expr)
    coeffs = np.stack([model.encode(f.points, f.crop_motion) for f in faces])
    lo, hi = fit_ranges(coeffs, config.n_expr)
    quant = Quantizer(lo, hi, config.bits)
    codes = quant.quantize(coeffs)
    decoded = quant.dequantize(codes)
    meshes = np.stack([model.decode(c)[: mesh.N_MESH, :2] for c in decoded]).reshape(len(faces), -1)
    rng = np.random.default_rng(config.seed)
    ref = int(np.argmin(((meshes - meshes.mean(0)) ** 2).sum(1)))
    keys = _medoids(meshes, config.keyframes, rng, first=ref)
    lips = np.stack([model.normalised_shape(c)[mesh.LIPS, :2].ravel() for c in decoded])
    mouths = [i for i in _medoids(lips, config.mouth_atlas, rng) if i not in keys]
    segmenter = PersonSegmenter()
    masks = [segmenter(f.crop) for f in faces]
    segmenter.close()
    plate = background_plate([f.crop for f in faces], masks)
    keyframes = [Keyframe(faces[i].crop, codes[i], alpha=np.rint(masks[i] * 255).astype(np.uint8)) for i in keys]
    atlas = [_mouth_patch(faces[i].crop, faces[i].points, codes[i], crop.size) for i in mouths]
    info = {"enroll_frames": len(frames), "enroll_faces": len(faces), "enroll_seconds": config.enroll_seconds,
            "n_expr": config.n_expr, "keyframe_indices": [faces[i].index for i in keys],
            "mouth_indices": [faces[i].index for i in mouths]}
    # A WebP KB keeps its quality where every KB before image codecs did (``webp_quality``), so its manifest is as
    # before; ``image_quality`` is the one knob the CLI offers, for WebP too.
    webp = config.image_codec == "webp"
    kb = KnowledgeBase(model, quant, crop, ref_box, fps, keyframes, atlas, plate, info,
                       config.image_quality if webp and config.image_quality is not None else config.webp_quality,
                       image_codec=config.image_codec, image_quality=None if webp else config.image_quality)
    # The sender and receiver must use the same (rounded) model: round-trip through the file format.
    return KnowledgeBase.from_bytes(kb.to_bytes())


def _medoids(x: np.ndarray, k: int, rng: np.random.Generator, first: int | None = None) -> list[int]:
    """Indices of the members nearest to k-means centres (``first`` is kept and listed first)."""
    from scipy.cluster.vq import kmeans2

    k = min(k, len(x))
    scale = x.std(0).mean() or 1.0
    centres, _ = kmeans2(x / scale, k, seed=rng, minit="++")
    chosen = [] if first is None else [first]
    for c in centres * scale:
        d = ((x - c) ** 2).sum(1)
        for i in np.argsort(d):
            if int(i) not in chosen:
                chosen.append(int(i))
                break
        if len(chosen) >= k:
            break
    return chosen


def _mouth_patch(crop: np.ndarray, points: np.ndarray, codes: np.ndarray, size: int) -> Keyframe:
    """Cut the mouth area (outer lips with a generous margin) out of a face crop."""
    lips = points[mesh.OUTER_LIPS, :2] * size
    lo, hi = lips.min(0), lips.max(0)
    margin = 0.5 * (hi - lo).max()
    x0, y0 = (np.floor(lo - margin).astype(int)).clip(0, size - 1)
    x1, y1 = (np.ceil(hi + margin).astype(int)).clip(1, size)
    return Keyframe(np.ascontiguousarray(crop[y0:y1, x0:x1]), codes, (int(x0), int(y0)))


def build_kb_from_clip(input_path: str | Path, crop: CropConfig = CropConfig(),
                       config: KbConfig = KbConfig(), fps: float = 25.0) -> KnowledgeBase:
    """Track the enrollment segment of a clip and build its knowledge base."""
    from semtalk.media.reader import probe, read_video

    info = probe(input_path)
    tracker = FaceTracker(crop)
    try:
        frames = list(tracker(read_video(input_path, fps=fps, duration=config.enroll_seconds)))
    finally:
        tracker.close()
    if not frames:
        raise SemtalkError(f"{input_path}: no video frames in the first {config.enroll_seconds} s")
    if tracker.ref_box is None:
        raise SemtalkError(f"{input_path}: no face found in the first {config.enroll_seconds} s "
                           "(the enrollment segment must show the speaker's face)")
    kb = build_kb(frames, tracker.ref_box, fps, crop, config)
    kb.info["source"] = {"path": str(input_path), "width": info.width, "height": info.height}
    if config.voice and info.has_audio:
        kb.voice, kb.info["voice"] = voice_profile_of(input_path, config.voice_seconds)
    if config.lm_text:
        kb.language, kb.info["language"] = domain_language(config.lm_text)
    return kb


def domain_language(lm_text: str | Path) -> tuple[bytes, dict]:
    """The KB's private domain LM, trained on a text file (one sentence a line), and what the KB info says of it."""
    from semtalk.kb.language import DomainLM

    with open(lm_text, encoding="utf-8") as f:
        lm = DomainLM.train(f)
    return bytes(lm), {"source": str(lm_text), "words": len(lm.vocab), "ngrams": len(lm.counts)}


def enroll_clip(input_path: str | Path, run_config) -> KnowledgeBase:
    """The KB of a clip from a run's settings (``call.run.RunConfig``): what SyncSC and Wav2Vid enroll."""
    return build_kb_from_clip(input_path, CropConfig(size=run_config.crop_size), run_kb_config(run_config))


def run_kb_config(run_config) -> KbConfig:
    """The enrollment settings of a run: its same-named fields, with a voice profile when the run speaks (and
    this builder's keyframes where the run names none)."""
    from semtalk.records import config_from

    keyframes = getattr(run_config, "keyframes", None)
    return config_from(KbConfig, run_config, voice=run_config.speech,
                       keyframes=KbConfig.keyframes if keyframes is None else keyframes,
                       image_codec=getattr(run_config, "kb_image_codec", KbConfig.image_codec))


def voice_profile_of(input_path: str | Path, seconds: float) -> tuple[bytes | None, dict]:
    """The voice part of the KB: what the enrollment audio says, and the profile learnt from it.

    A silent enrollment gives no profile (None): the receiver then speaks with the plain TTS voice.
    """
    from semtalk.enroll.voice import build_voice_profile
    from semtalk.media.reader import read_audio
    from semtalk.semantics.speech.asr import SpeechRecognizer

    audio = read_audio(input_path, rate=VOICE_RATE, duration=seconds)
    if audio.size < VOICE_RATE or float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) < 1e-4:
        return None, {"seconds": seconds, "profile": False, "reason": "no speech in the enrollment audio"}
    text = " ".join(w.text for w in SpeechRecognizer().transcribe(audio, VOICE_RATE))
    profile = build_voice_profile(audio, VOICE_RATE, text or None)
    return profile.to_bytes(), {"seconds": round(audio.size / VOICE_RATE, 3), "profile": True, "text": text,
                                "parallel": bool(text)}


def build_kb_file(input_path: str | Path, kb_path: str | Path, enroll_seconds: float = 2.0,
                  crop: CropConfig = CropConfig(), config: KbConfig | None = None) -> dict:
    """Build the KB of a clip and save it; returns what ``semtalk kb info`` shows."""
    from semtalk.kb.info import describe

    kb = build_kb_from_clip(input_path, crop, config or KbConfig(enroll_seconds=enroll_seconds))
    return describe(kb, kb.save(kb_path))
