"""Training data for PacSC: quantised face codes extracted from real clips, cached as ``.npz``.

Each clip gets its own knowledge base from its first 2 s (exactly what ``semtalk run`` builds), so
its codes are the 8-bit indices of *that speaker's* quantiser ranges. ``codes / (2**bits - 1)`` is
then in [0, 1] whatever the speaker, which is what PacSC trains on and transmits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".mpg", ".avi", ".mkv", ".webm", ".mov")


@dataclass(frozen=True)
class ClipCodes:
    """One clip through the sender: codes per frame, and optionally the crops to score against."""

    name: str
    codes: np.ndarray  # (T, n_coeffs) uint16
    levels: int  # 2**bits - 1
    enroll_frames: int
    crops: np.ndarray | None = None  # (T, H, W, 3) uint8 when asked for

    @property
    def unit(self) -> np.ndarray:
        """Codes scaled to [0, 1]: speaker-independent, what the network sees."""
        return self.codes.astype(np.float32) / self.levels


def clip_paths(data: Path) -> list[Path]:
    """Video files in ``data`` or in ``data/faces_av``, sorted by name."""
    folder = data / "faces_av" if (data / "faces_av").is_dir() else data
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def encode_clip(path: Path, cache: Path | None = None, keep_crops: bool = False, kb_path: Path | None = None,
                fps: float = 25.0) -> ClipCodes:
    """Build the clip's KB, run tracker + face encoder over every frame; cached by clip name."""
    cached = None if cache is None else cache / f"{path.stem}{'_crops' if keep_crops else ''}.npz"
    if cached is not None and cached.is_file():
        z = np.load(cached)
        return ClipCodes(path.stem, z["codes"], int(z["levels"]), int(z["enroll"]),
                         z["crops"] if keep_crops else None)
    from semtalk.enroll.build import build_kb_from_clip
    from semtalk.media.reader import read_video
    from semtalk.semantics.face.encoder import FaceEncoder, FaceTracker

    kb = build_kb_from_clip(path)
    if kb_path is not None:
        kb_path.parent.mkdir(parents=True, exist_ok=True)
        kb.save(kb_path)
    tracker = FaceTracker(kb.crop, kb.ref_box)
    encoder = FaceEncoder(kb.face_model, kb.quantizer)
    codes, crops = [], []
    try:
        for index, rgb in enumerate(read_video(path, fps=fps)):
            tracked = tracker.track(index, rgb)
            codes.append(encoder(tracked).codes)
            if keep_crops:
                crops.append(tracked.crop)
    finally:
        tracker.close()
    out = ClipCodes(path.stem, np.stack(codes).astype(np.uint16), kb.quantizer.levels,
                    int(kb.info.get("enroll_frames", 0)), np.stack(crops) if keep_crops else None)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        extra = {"crops": out.crops} if keep_crops else {}
        np.savez_compressed(cached, codes=out.codes, levels=out.levels, enroll=out.enroll_frames, **extra)
    return out
