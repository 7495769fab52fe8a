"""The Wav2Vid receiver's face generator: reference clip + audio → frames (the Wav2Lip role).

Wav2Vid sends no per-frame coefficients: only short clips when the head pose changes, and the audio. The
latest clip is the reference material; every other frame is that clip's face with what the audio says:
the mouth opening from the lip track (``generators.lips``), turned into expression coefficients along the
direction in which the speaker's own knowledge-base codes open the mouth, seeded blinks, and a small
smooth seeded head motion so the face does not freeze. The KB's face renderer warps the clip's frames
onto those coefficients, so a generated frame costs what a SyncSC frame costs.

LGM-TSC animates one portrait (``enroll.portrait``): its KB's mouths show no spread, so the mouth opens along
the direction in which the face model's own opening grows, over a typical speaker's range, shut in silence.
``PORTRAIT`` moves the head more, nods it with the speech (``speech_activity``) and paints what the warp of one
image cannot show (``generators.paint``): the inside of the opening mouth and the lids of the closing eyes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from semtalk.generators import lips
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.generators.paint import paint_lids, paint_mouth
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face import mesh
from semtalk.semantics.face.mesh import mouth_opening

TABLE_STEPS = 64  # samples of the opening along the mouth direction, interpolated in between
MIN_SPREAD = 0.01  # σ of the KB mouths' openings below which they tell nothing of the speaker's range (one image)
GRADIENT_STEP = 0.01  # expression step of the finite differences that find a one-image model's mouth direction
NOD_CONTEXT_S = 0.36  # the nod's smoothing: three σ of its Gaussian, within the lips' 0.4-s look-ahead
SHUT = (0.04, 0.1)  # a mouth source's opening: at most the first, shut (teeth drawn); from the second, open


@dataclass(frozen=True)
class HeadConfig:
    """Blinks (every ``blink_every`` s, uniformly drawn, each ``blink_s`` long, closing the eyes to
    1 − ``blink_depth``) and head motion (two sinusoids per rotation axis of ``motion_hz``, at most
    ``motion_deg`` in all, and a nod down by up to ``nod_deg`` with the speech). The mouth may open
    ``mouth_reach`` of the KB codes' span beyond theirs. A KB whose mouths show no spread (one portrait)
    opens it ``spread`` per lip-track σ from shut at the lip model's rest, up to ``widest``. ``paint``: draw
    what a warp cannot show, the inside of an opening mouth (``paint_mouth``) and the lids of closing eyes
    (``paint_lids``)."""

    blink_every: tuple[float, float] = (3.0, 5.0)
    blink_s: float = 0.15
    blink_depth: float = 0.9
    motion_deg: float = 1.0
    motion_hz: tuple[float, float] = (0.1, 0.4)
    mouth_reach: float = 0.2
    nod_deg: float = 0.0
    spread: float = 0.09  # the KB mouths' σ of six HDTF/LRS2 speakers: 0.07–0.11 (LIPS_MODEL_CARD.md)
    widest: float = 0.3  # wider, the chin of a one-image model crosses the renderer's pose-following ring
    paint: bool = False


# LGM-TSC's one portrait: livelier than Wav2Vid's clip (which moves itself), and a mouth drawn open.
PORTRAIT = HeadConfig(motion_deg=2.5, motion_hz=(0.08, 0.3), nod_deg=1.5, paint=True)


def kb_mouth(kb: KnowledgeBase) -> tuple[np.ndarray, np.ndarray]:
    """Expression coefficients (N, E) and mouth openings (N,) of the KB's keyframes and mouth atlas: the
    mouths this speaker showed in the enrollment."""
    codes = np.stack([k.codes for k in [*kb.keyframes, *kb.mouth_atlas]])
    coeffs = kb.quantizer.dequantize(codes).astype(np.float64)
    openings = np.array([mouth_opening(kb.face_model.decode(c)) for c in coeffs])
    return coeffs[:, : kb.face_model.n_expr], openings


class TalkingHead:
    """``frame(index, mouth)``: the reference face with the lip track's value ``mouth`` (``generators.lips``:
    standard deviations of the speaker's mouth opening about its mean), blinking and moving as frame ``index``
    of the sequence; ``generate(reference_frames, audio)``: all of it."""

    def __init__(self, kb: KnowledgeBase, seed: int = 0, config: HeadConfig | None = None):
        self.kb, self.config = kb, config or HeadConfig()
        self.fps = kb.fps
        self.renderer = FaceRenderer(kb)
        self.model = kb.face_model
        expr, openings = kb_mouth(kb)
        self._kb_expr = expr
        self.mouth_mean, self.mouth_std = float(openings.mean()), float(openings.std())
        self._portrait = self.mouth_std < MIN_SPREAD
        if self._portrait:
            self.mouth_std = self.config.spread
            self._direction = self._model_direction(kb.quantizer.dequantize(kb.reference.codes).astype(np.float64))
        else:  # least squares of each expression coefficient on the opening: the way this speaker opens the mouth
            design = np.column_stack([np.ones_like(openings), openings - openings.mean()])
            self._direction = np.linalg.lstsq(design, expr, rcond=None)[0][1]
        rng = np.random.default_rng(seed)
        self._blink_rng = np.random.default_rng(rng.integers(2**63))
        self._blinks = [float(self._blink_rng.uniform(1.0, self.config.blink_every[1]))]
        self._motion = (rng.uniform(*self.config.motion_hz, size=(3, 2)), rng.uniform(0, 2 * np.pi, size=(3, 2)),
                        np.radians(self.config.motion_deg) * np.array([0.6, 0.4]))
        self._landmarker = None
        self._use(kb.reference, [])

    def set_reference(self, frames: Sequence[np.ndarray], coeffs: Sequence[np.ndarray] | None = None) -> int:
        """Animate the cached clip ``frames`` (crop-size RGB) from now on; returns how many were usable.

        Their coefficients are estimated here (landmarks + the KB's face model, in the KB's crop window) unless
        the sender's are given. The last usable frame sets the pose; all of them are warp sources. Without a
        usable frame the face stays on what it was.
        """
        if coeffs is None:
            coeffs = [self._estimate(f) for f in frames]
        usable = [Keyframe(np.ascontiguousarray(f), self.kb.quantizer.quantize(c))
                  for f, c in zip(frames, coeffs, strict=True) if c is not None]
        if usable:
            self._use(usable[-1], usable)
        return len(usable)

    def _estimate(self, frame: np.ndarray) -> np.ndarray | None:
        if frame.shape[:2] != (self.renderer.size, self.renderer.size):
            raise ValueError(f"reference frames must be {self.renderer.size}² crops, got {frame.shape[:2]}")
        if self._landmarker is None:
            from semtalk.semantics.face.landmarks import FaceLandmarker

            self._landmarker = FaceLandmarker()
        points = self._landmarker(frame)
        if points is None:
            return None
        return self.model.encode(points / self.renderer.size, np.zeros(3))

    def _model_direction(self, coeffs: np.ndarray) -> np.ndarray:
        """The expression direction along which the model's lower lip leaves the upper one fastest at ``coeffs``,
        scaled so that a unit step opens the mouth by about one. Forward differences of the signed gap: the
        lips of a shut mouth may cross a little, and there the unsigned opening shrinks as the mouth opens."""
        e = self.model.n_expr
        gap = [_signed_opening(self.model.normalised_shape(coeffs + GRADIENT_STEP * np.eye(len(coeffs))[i]))
               for i in range(e)]
        grad = (np.array(gap) - _signed_opening(self.model.normalised_shape(coeffs))) / GRADIENT_STEP
        return grad / max(float(grad @ grad), 1e-12)

    def _use(self, base: Keyframe, sources: list[Keyframe]) -> None:
        """Pose, crop and eyes from ``base``; the opening along the mouth direction tabulated around it."""
        self.renderer.set_sources(sources or None)
        c = self.kb.quantizer.dequantize(base.codes).astype(np.float64)
        e = self.model.n_expr
        blinks = [c[e], *self.kb.quantizer.dequantize(np.stack([k.codes for k in self.kb.keyframes]))[:, e]]
        c[e] = np.median(blinks)  # eyes open even if the base frame caught a blink
        self._base = c
        self._lid_source = (base.image, self.model.decode(c)[:, :2] * self.renderer.size)  # skin above its eyes
        if self._portrait:  # a unit step opens the mouth by about one: from past shut to past the widest
            here = mouth_opening(self.model.decode(c))
            steps = np.linspace(-1.5 * here - 0.05, 1.5 * (self.config.widest - here) + 0.05, TABLE_STEPS)
        else:
            along = (self._kb_expr - c[:e]) @ self._direction / max(float(self._direction @ self._direction),
                                                                      1e-12)
            span = float(np.ptp(along))
            # Closing may go a whole span past the KB's codes (a base frame caught mid-word must still shut its
            # mouth), up to where the lips meet; opening only ``mouth_reach`` of it (warping far past the sources
            # shows).
            steps = np.linspace(along.min() - span, along.max() + self.config.mouth_reach * span, TABLE_STEPS)
        table = np.array([mouth_opening(self.model.decode(self._with_mouth(u))) for u in steps])
        shut = int(np.argmin(table))  # beyond it the lips cross and the gap grows again
        self._steps, self._table = steps[shut:], np.maximum.accumulate(table[shut:])  # monotone, to invert
        if self._portrait:  # shut at the lip model's rest (silence), no wider than ``widest``
            self.mouth_mean = float(self._table[0]) - self.mouth_std * lips.shipped_model().rest
            wide = self._table < self.config.widest
            self._steps = np.append(self._steps[wide], np.interp(self.config.widest, self._table, self._steps))
            self._table = np.append(self._table[wide], self.config.widest)

    def _with_mouth(self, step: float) -> np.ndarray:
        c = self._base.copy()
        c[: self.model.n_expr] += step * self._direction
        return c

    def opening(self, mouth: float) -> float:
        """A lip-track value as this speaker's mouth opening (``mesh.mouth_opening``): mean and spread of the
        mouths in the KB, which are the enrollment's; for one portrait, ``HeadConfig.spread`` from shut."""
        return self.mouth_mean + self.mouth_std * float(mouth)

    def coefficients(self, index: int, mouth: float, speech: float = 0.0) -> np.ndarray:
        """The coefficient vector of frame ``index`` with lip-track value ``mouth`` (the opening is clipped to what
        the KB's codes and the reference reach) and ``speech`` activity (0..1, ``speech_activity``) for the nod."""
        step = float(np.interp(self.opening(mouth), self._table, self._steps))
        c = self._with_mouth(step)
        e = self.model.n_expr
        c[e] *= 1.0 - self.config.blink_depth * self._closure(index / self.fps)
        freq, phase, amp = self._motion
        c[e + 1: e + 4] += (amp * np.sin(2 * np.pi * freq * index / self.fps + phase)).sum(1)
        c[e + 1] += np.radians(self.config.nod_deg) * speech  # rot_x > 0 looks down: the nose drops towards the chin
        return c

    def _closure(self, t: float) -> float:
        """How far the eyes are shut at ``t`` s (0 open, 1 shut): a raised-cosine blink at seeded onsets."""
        while self._blinks[-1] <= t:
            self._blinks.append(self._blinks[-1] + float(self._blink_rng.uniform(*self.config.blink_every)))
        i = bisect.bisect_right(self._blinks, t) - 1
        if i < 0 or t - self._blinks[i] >= self.config.blink_s:
            return 0.0
        return float(np.sin(np.pi * (t - self._blinks[i]) / self.config.blink_s) ** 2)

    def frame(self, index: int, mouth: float, speech: float = 0.0) -> np.ndarray:
        """Frame ``index`` (at the KB's fps) with lip-track value ``mouth`` and ``speech`` activity (the nod's):
        crop-size uint8 RGB."""
        c = self.coefficients(index, mouth, speech)
        image = self.renderer(c)
        if self.config.paint:
            size, e = self.renderer.size, self.model.n_expr
            points = self.model.decode(c)[:, :2] * size
            source = self.renderer.mouth_source(c)
            seen = self.model.decode(source.coeffs)
            shut = float(np.clip((SHUT[1] - mouth_opening(seen)) / (SHUT[1] - SHUT[0]), 0.0, 1.0))
            paint_mouth(image, points[mesh.INNER_LIPS], source.image[..., :3],
                        seen[mesh.INNER_LIPS, :2] * size - source.offset, shut)
            closure = self._closure(index / self.fps)
            if closure > 0:
                wide = c.copy()
                wide[e] = self._base[e]
                paint_lids(image, self.model.decode(wide)[:, :2] * size, points, *self._lid_source, closure)
        return image

    def generate(self, reference_frames: Sequence[np.ndarray], audio: np.ndarray,
                 rate: int = lips.RATE) -> Iterator[np.ndarray]:
        """Frames for the audio's whole length (frame k shows time k / fps), animating ``reference_frames``."""
        self.set_reference(reference_frames)
        track = lips.track(audio, rate, self.fps)
        speech = speech_activity(track, self.fps) if self.config.nod_deg else np.zeros(len(track))
        for index, (mouth, active) in enumerate(zip(track, speech, strict=True)):
            yield self.frame(index, float(mouth), float(active))

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


def _signed_opening(frontal: np.ndarray) -> float:
    """``mesh.mouth_opening`` of a frontal mesh (y down), negative where the lower inner lip is above the upper."""
    lips = frontal[mesh.INNER_LIPS, :2]
    return float((lips[15, 1] - lips[5, 1]) / max(np.linalg.norm(lips[0] - lips[10]), 1e-9))


def speech_activity(track: np.ndarray, fps: float) -> np.ndarray:
    """How much the speaker talks around each frame, 0..1, for the nod: the lip track above the lip model's rest
    (silence), two σ above it full, Gaussian-smoothed so the head nods with phrases and stresses, not with every
    syllable. Frame k's value depends on the track within ``NOD_CONTEXT_S`` of it only (the ends held), so a
    streaming caller passes that window around k (the lips' look-ahead covers it) and gets the same value."""
    active = np.clip((np.asarray(track, dtype=np.float64) - lips.shipped_model().rest) / 2.0, 0.0, 1.0)
    half = max(1, round(NOD_CONTEXT_S * fps))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / (half / 3)) ** 2)
    return np.convolve(np.pad(active, half, mode="edge"), kernel / kernel.sum(), mode="valid")
