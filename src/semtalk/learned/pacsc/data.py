"""Training data for PacSC: quantised face codes extracted from real clips, cached as ``.npz``.

Each clip gets its own knowledge base from its first 2 s (exactly what ``semtalk run`` builds), so
its codes are the 8-bit indices of *that speaker's* quantiser ranges. ``codes / (2**bits - 1)`` is
then in [0, 1] whatever the speaker, which is what PacSC trains on and transmits.
"""

from __future__ import annotations

import math
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


def sample_windows(seqs: list[np.ndarray], frames: int, count: int, rng: np.random.Generator,
                   synthetic: float = 0.3) -> np.ndarray:
    """``count`` augmented windows (count, frames, C) in [0, 1].

    Real windows: random clip, offset, speed (×0.7 … ×1.4) and direction, then a random level shift
    (±0.15) and gain (×0.5 … ×2 around the window mean) per coefficient. A ``synthetic`` fraction are
    smooth random trajectories (three random sinusoids per coefficient). Without these the code
    memorises the few training clips and does worse than the block mean on unseen speakers.
    """
    lengths = np.array([len(s) for s in seqs], dtype=np.float64)
    n_coeffs = seqs[0].shape[1]
    out = np.empty((count, frames, n_coeffs), dtype=np.float32)
    t_axis = np.arange(frames)[:, None, None]
    for i, c in enumerate(rng.choice(len(seqs), size=count, p=lengths / lengths.sum())):
        if rng.random() < synthetic:
            freq = rng.uniform(0.0, 0.25, (1, n_coeffs, 3))
            amp = rng.uniform(0.0, 0.08, (1, n_coeffs, 3))
            phase = rng.uniform(0, 2 * np.pi, (1, n_coeffs, 3))
            wave = (amp * np.sin(2 * np.pi * freq * t_axis + phase)).sum(-1)
            out[i] = np.clip(rng.uniform(0.25, 0.75, n_coeffs) + wave, 0, 1)
            continue
        s = seqs[c]
        speed = math.exp(rng.uniform(math.log(0.7), math.log(1.4)))
        span = min(speed * (frames - 1), len(s) - 1)
        t0 = rng.uniform(0, len(s) - 1 - span)
        t = t0 + np.linspace(0, span, frames)
        lo = np.floor(t).astype(int)
        hi = np.minimum(lo + 1, len(s) - 1)
        w = (t - lo)[:, None]
        window = (1 - w) * s[lo] + w * s[hi]
        window = window[::-1] if rng.random() < 0.5 else window
        mean = window.mean(0)
        gain = np.exp(rng.uniform(math.log(0.5), math.log(2.0), n_coeffs))
        shift = rng.uniform(-0.15, 0.15, n_coeffs)
        out[i] = np.clip(mean + shift + gain * (window - mean), 0, 1)
    return out
