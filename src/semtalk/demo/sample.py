"""The embedded default input: a talking-head clip the project makes itself.

A public-domain portrait that ships inside scikit-image (NASA astronaut Eileen Collins) is animated
by semtalk's own renderer from a single image: a hand-made jaw/smile basis, head motion and blinks.
The demo's clip speaks ``DEMO_TEXT`` in piper's voice, the jaw opening with the speech's loudness, so
`make demo` runs the speech half too (ASR, text packets, TextPC, synthesis); the tests' clip has a
voiced buzz instead, which no ASR hears as words, so they skip the speech models. It exercises every
stage of the chain; real clips give the real numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semtalk.errors import SemtalkError

FPS = 25.0
AUDIO_RATE = 16000
DEMO_TEXT = "Hello, and welcome. This call sends the words I say with their timing, not the sound of my voice."
SPEECH_LEAD = 0.5  # s of silence before the demo's speech
# Jaw coefficients at full opening, with speech and with the tests' buzz: at the buzz's the lips move less than
# the head does, and the mouth opening measured on the video followed the speech with a correlation of 0.34;
# at JAW_SPEECH 0.94 (8 s). Both drop the lower lip as far as 0.6 and 0.05 did with the first jaw, which moved
# the inner lower lip alone.
JAW_SPEECH, JAW_BUZZ = 0.75, 0.06


def portrait() -> np.ndarray:
    """The astronaut portrait, 512×512 RGB (bundled with scikit-image, public domain)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def make_sample(path: str | Path, seconds: float = 8.0, seed: int = 7, speech: bool = False) -> Path:
    """Write the sample clip (512×512, 25 fps, mono 16 kHz audio) and return its path.

    ``speech``: piper says ``DEMO_TEXT`` (cut at ``seconds``) and the jaw follows it; else a voiced buzz.
    """
    from semtalk.enroll.portrait import portrait_model
    from semtalk.generators.face_renderer import FaceRenderer
    from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
    from semtalk.media.writer import VideoWriter
    from semtalk.semantics.face.crop import CropBox
    from semtalk.semantics.face.encoder import CropConfig
    from semtalk.semantics.face.landmarks import FaceLandmarker
    from semtalk.semantics.face.quantize import Quantizer

    image = portrait()
    size = image.shape[0]
    marker = FaceLandmarker()
    points = marker(image)
    marker.close()
    if points is None:  # pragma: no cover - the bundled portrait always has a face
        raise SemtalkError("the sample portrait shows no face to MediaPipe")
    box = CropBox(size / 2, size / 2, float(size))
    crop_pts = box.to_crop(points)
    model = portrait_model(crop_pts)
    coeffs0 = model.encode(crop_pts, np.zeros(3)).astype(np.float64)
    span = np.full(model.n_coeffs, 1.0)
    quant = Quantizer(coeffs0 - span, coeffs0 + span, bits=16)
    kb = KnowledgeBase(model, quant, CropConfig(size=size), box, FPS, [Keyframe(image, quant.quantize(coeffs0))], [],
                       background=image)
    renderer = FaceRenderer(kb)
    rng = np.random.default_rng(seed)
    n = round(seconds * FPS)
    t = np.arange(n) / FPS
    jaw = JAW_SPEECH if speech else JAW_BUZZ
    if speech:
        audio = _speech(seconds)
        syllables = speech_opening(audio, AUDIO_RATE, n)
    else:
        pauses = np.sin(2 * np.pi * 0.31 * t) > -0.4
        syllables = np.clip(np.sin(2 * np.pi * 3.1 * t + rng.uniform(0, 6)), 0, None) * pauses
        audio = _voice(syllables, rng)
    e = model.n_expr
    with VideoWriter(path, FPS, audio_rate=AUDIO_RATE) as writer:
        writer.write_audio(audio)
        for i in range(n):
            c = coeffs0.copy()
            c[0] += jaw * syllables[i]
            c[1] += 0.01 * np.sin(2 * np.pi * 0.2 * t[i])
            blink = min(abs(t[i] - b) for b in (1.3, 3.9, 6.2))
            c[e] *= 1.0 - 0.8 * np.exp(-((blink / 0.06) ** 2))
            c[e + 1:e + 4] += [0.06 * np.sin(2 * np.pi * 0.23 * t[i]), 0.12 * np.sin(2 * np.pi * 0.17 * t[i] + 1),
                               0.04 * np.sin(2 * np.pi * 0.29 * t[i])]
            c[e + 4:e + 6] += 0.01 * np.sin(2 * np.pi * 0.13 * t[i] + np.array([0.0, 2.0]))
            writer.write(renderer(c))
    return Path(path)


def _voice(envelope: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A voiced buzz (gliding 120–160 Hz with harmonics) whose loudness follows the mouth opening."""
    n = round(len(envelope) / FPS * AUDIO_RATE)
    t = np.arange(n) / AUDIO_RATE
    env = np.interp(t, np.arange(len(envelope)) / FPS, envelope)
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / AUDIO_RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.3 * env * buzz / 3 + 0.002 * rng.standard_normal(n)).astype(np.float32)


def _speech(seconds: float) -> np.ndarray:
    """Piper saying ``DEMO_TEXT`` after ``SPEECH_LEAD`` s of silence, exactly ``seconds`` long at ``AUDIO_RATE``."""
    from semtalk.dsp.signal import resample
    from semtalk.generators.tts import synthesize

    syn = synthesize(DEMO_TEXT)
    voice = resample(syn.audio, syn.rate, AUDIO_RATE)
    out = np.zeros(round(seconds * AUDIO_RATE), np.float32)
    lead = min(round(SPEECH_LEAD * AUDIO_RATE), len(out))
    part = voice[:len(out) - lead]
    out[lead:lead + len(part)] = 0.5 * part / max(float(np.abs(part).max(initial=0.0)), 1e-9)
    return out


def speech_opening(audio: np.ndarray, rate: int, n: int, floor_db: float = 30.0) -> np.ndarray:
    """Jaw opening 0..1 for ``n`` video frames: the level of the audio around each frame's time (one frame
    wide) in dB, ``floor_db`` below the peak → 0, the peak → 1, smoothed over three frames."""
    from semtalk.dsp.signal import window_power

    centres = np.round((np.arange(n) + 0.5) / FPS * rate).astype(np.int64)
    power = window_power(np.asarray(audio), centres, round(rate / FPS / 2))
    db = 10 * np.log10(np.maximum(power, 1e-12) / max(float(power.max(initial=0.0)), 1e-12))
    opening = np.clip(1 + db / floor_db, 0.0, 1.0)
    return np.convolve(np.pad(opening, 1, mode="edge"), np.ones(3) / 3, mode="valid")
