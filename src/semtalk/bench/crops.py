"""The face-crop frames every method is scored on, made exactly as the semtalk sender makes them.

A fair rate–quality comparison (SyncSC Table I) scores all methods on the same pixels: the
256×256 stable face crop of ``semantics.encoder.FaceTracker`` driven by the KB's crop settings and
reference box, on the frames after the KB's enrollment segment (``kb.info["enroll_frames"]``),
the range ``pipelines.call.FaceCall`` scores. The codec baselines encode these crops; semtalk
renders into the same window, so a codec and semtalk at equal bitrate see identical references.

The same pass keeps the sender's quantised face codes (``FaceEncoder`` on each tracked frame, what
``FaceCall`` packetises): they depend on the clip and KB only, so the semtalk loss cells re-run just
the channel, play-out and renderer per condition (``bench.loss_cells``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semtalk.errors import SemtalkError

FPS = 25.0


@dataclass(frozen=True)
class FaceCrops:
    """All crops of a clip (N×S×S×3 uint8), where the held-out (scored) range starts, and the sender's
    face codes (N×C, empty when not made)."""

    frames: np.ndarray
    heldout_start: int
    fps: float = FPS
    codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint16))

    @property
    def heldout(self) -> np.ndarray:
        """The frames every method is scored on."""
        return self.frames[self.heldout_start:]

    def save(self, path: str | Path) -> None:
        np.savez(path, frames=self.frames, heldout_start=self.heldout_start, fps=self.fps, codes=self.codes)

    @classmethod
    def load(cls, path: str | Path) -> FaceCrops:
        with np.load(path) as z:
            codes = z["codes"] if "codes" in z.files else np.zeros((0, 0), dtype=np.uint16)
            return cls(z["frames"], int(z["heldout_start"]), float(z["fps"]), codes)


def face_crops(clip: str | Path, kb_path: str | Path, max_seconds: float | None = None) -> FaceCrops:
    """Track ``clip`` with the KB's crop window, as the sender does; keep every crop and face code.

    The KB must have been built from this clip (its enrollment frames are not held out otherwise,
    the same rule ``FaceCall`` applies).
    """
    from semtalk.kb.knowledge_base import read_kb
    from semtalk.media.reader import read_video
    from semtalk.semantics.face.encoder import FaceEncoder, FaceTracker

    kb, _ = read_kb(kb_path)
    same_clip = kb.info.get("source", {}).get("path") == str(clip)
    enroll = int(kb.info.get("enroll_frames", 0)) if same_clip else 0
    tracker = FaceTracker(kb.crop, kb.ref_box)
    encoder = FaceEncoder(kb.face_model, kb.quantizer)
    crops, codes = [], []
    try:
        for i, rgb in enumerate(read_video(clip, fps=FPS, duration=max_seconds)):
            tracked = tracker.track(i, rgb)
            crops.append(tracked.crop)
            codes.append(encoder(tracked).codes)
    finally:
        tracker.close()
    if len(crops) <= enroll:
        raise SemtalkError(f"{clip}: {len(crops)} frames leave none held out after {enroll} enrollment frames")
    return FaceCrops(np.stack(crops), enroll, FPS, np.stack(codes).astype(np.uint16))
