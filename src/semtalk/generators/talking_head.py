"""The Wav2Vid receiver's face generator: reference clip + audio → frames (the Wav2Lip role).

Wav2Vid sends no per-frame coefficients: only short clips when the head pose changes, and the audio. The
latest clip is the reference material; every other frame is that clip's face with what the audio says:
the mouth opening from the lip track (``generators.lips``), turned into expression coefficients along the
direction in which the speaker's own knowledge-base codes open the mouth, seeded blinks, and a small
smooth seeded head motion so the face does not freeze. The KB's face renderer warps the clip's frames
onto those coefficients, so a generated frame costs what a SyncSC frame costs.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from semtalk.generators import lips
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.kb.knowledge_base import Keyframe, KnowledgeBase
from semtalk.semantics.face.mesh import mouth_opening

TABLE_STEPS = 64  # samples of the opening along the mouth direction, interpolated in between


@dataclass(frozen=True)
class HeadConfig:
    """Blinks (every ``blink_every`` s, uniformly drawn, each ``blink_s`` long, closing the eyes to
    1 − ``blink_depth``) and head motion (two sinusoids per rotation axis of ``motion_hz``, at most
    ``motion_deg`` in all). The mouth may open ``mouth_reach`` of the KB codes' span beyond theirs."""

    blink_every: tuple[float, float] = (3.0, 5.0)
    blink_s: float = 0.15
    blink_depth: float = 0.9
    motion_deg: float = 1.0
    motion_hz: tuple[float, float] = (0.1, 0.4)
    mouth_reach: float = 0.2


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
        # Least squares of each expression coefficient on the opening: the way this speaker opens the mouth.
        design = np.column_stack([np.ones_like(openings), openings - openings.mean()])
        self._direction = np.linalg.lstsq(design, expr, rcond=None)[0][1]
        self.mouth_mean, self.mouth_std = float(openings.mean()), float(openings.std())
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

    def _use(self, base: Keyframe, sources: list[Keyframe]) -> None:
        """Pose, crop and eyes from ``base``; the opening along the mouth direction tabulated around it."""
        self.renderer.set_sources(sources or None)
        c = self.kb.quantizer.dequantize(base.codes).astype(np.float64)
        e = self.model.n_expr
        blinks = [c[e], *self.kb.quantizer.dequantize(np.stack([k.codes for k in self.kb.keyframes]))[:, e]]
        c[e] = np.median(blinks)  # eyes open even if the base frame caught a blink
        self._base = c
        along = (self._kb_expr - c[:e]) @ self._direction / max(float(self._direction @ self._direction), 1e-12)
        span = float(np.ptp(along))
        # Closing may go a whole span past the KB's codes (a base frame caught mid-word must still shut its
        # mouth), up to where the lips meet; opening only ``mouth_reach`` of it (warping far past the sources
        # shows).
        steps = np.linspace(along.min() - span, along.max() + self.config.mouth_reach * span, TABLE_STEPS)
        table = np.array([mouth_opening(self.model.decode(self._with_mouth(u))) for u in steps])
        shut = int(np.argmin(table))  # beyond it the lips cross and the gap grows again
        self._steps, self._table = steps[shut:], np.maximum.accumulate(table[shut:])  # monotone, to invert

    def _with_mouth(self, step: float) -> np.ndarray:
        c = self._base.copy()
        c[: self.model.n_expr] += step * self._direction
        return c

    def opening(self, mouth: float) -> float:
        """A lip-track value as this speaker's mouth opening (``mesh.mouth_opening``): mean and spread of the
        mouths in the KB, which are the enrollment's."""
        return self.mouth_mean + self.mouth_std * float(mouth)

    def coefficients(self, index: int, mouth: float) -> np.ndarray:
        """The coefficient vector of frame ``index`` with lip-track value ``mouth`` (the opening is clipped to what
        the KB's codes and the reference reach)."""
        step = float(np.interp(self.opening(mouth), self._table, self._steps))
        c = self._with_mouth(step)
        e = self.model.n_expr
        c[e] *= 1.0 - self.config.blink_depth * self._closure(index / self.fps)
        freq, phase, amp = self._motion
        c[e + 1: e + 4] += (amp * np.sin(2 * np.pi * freq * index / self.fps + phase)).sum(1)
        return c

    def _closure(self, t: float) -> float:
        """How far the eyes are shut at ``t`` s (0 open, 1 shut): a raised-cosine blink at seeded onsets."""
        while self._blinks[-1] <= t:
            self._blinks.append(self._blinks[-1] + float(self._blink_rng.uniform(*self.config.blink_every)))
        i = bisect.bisect_right(self._blinks, t) - 1
        if i < 0 or t - self._blinks[i] >= self.config.blink_s:
            return 0.0
        return float(np.sin(np.pi * (t - self._blinks[i]) / self.config.blink_s) ** 2)

    def frame(self, index: int, mouth: float) -> np.ndarray:
        """Frame ``index`` (at the KB's fps) with lip-track value ``mouth``: crop-size uint8 RGB."""
        return self.renderer(self.coefficients(index, mouth))

    def generate(self, reference_frames: Sequence[np.ndarray], audio: np.ndarray,
                 rate: int = lips.RATE) -> Iterator[np.ndarray]:
        """Frames for the audio's whole length (frame k shows time k / fps), animating ``reference_frames``."""
        self.set_reference(reference_frames)
        for index, mouth in enumerate(lips.track(audio, rate, self.fps)):
            yield self.frame(index, float(mouth))

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
