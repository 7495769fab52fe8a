"""Training pictures for Seb: the enrollment segments (first 2 s) of the shared clips and scikit-image's bundled
photographs, drawn as correlated *sets* (several frames of one clip at one crop position, or several crops of one
photograph), because Seb codes a set whose pictures share their Sebs.

Held out from training entirely (the RD benchmark's sets and the KB acceptance clip): ``HELDOUT_CLIPS``. The other
clips' frames after the enrollment segment, which the calls are scored on, are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENROLL_SECONDS = 2.0
HELDOUT_CLIPS = ("hdtf_WDA_EdMarkey0_000", "lrs2_00019")
SKIMAGE_PICTURES = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "ihc.png", "hubble_deep_field.jpg",
                    "retina.jpg", "motorcycle_left.png", "camera.png", "brick.png", "grass.png", "page.png")
MAX_SIDE = 288  # clips are scaled so their longer side is at most this (the KB crops faces to 256)


@dataclass
class Pictures:
    """Clips (each a (T, H, W, 3) uint8 stack of enrollment frames) and single photographs (H, W, 3)."""

    clips: dict[str, np.ndarray]
    photos: dict[str, np.ndarray]


def _fit(rgb: np.ndarray, side: int = MAX_SIDE) -> np.ndarray:
    from PIL import Image

    h, w = rgb.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS))


def load_pictures(data: Path, skimage: bool = True) -> Pictures:
    """The enrollment frames of every clip in ``data/faces_av`` but ``HELDOUT_CLIPS``, and the photographs."""
    from semtalk.media.reader import read_video

    clips = {}
    for path in sorted((data / "faces_av").glob("*")):
        if path.suffix not in (".mp4", ".mpg") or path.stem in HELDOUT_CLIPS:
            continue
        clips[path.stem] = np.stack([_fit(f) for f in read_video(path, duration=ENROLL_SECONDS)])
    photos = {}
    if skimage:
        from importlib.resources import files

        from PIL import Image

        for name in SKIMAGE_PICTURES:  # the files scikit-image ships (its loaders would fetch the others)
            with (files("skimage") / "data" / name).open("rb") as f:
                img = np.asarray(Image.open(f).convert("RGB"))
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, 2)
            photos[name] = _fit(img[..., :3].astype(np.uint8), 512)
    return Pictures(clips, photos)


def sample_set(pics: Pictures, n: int, side: int, rng: np.random.Generator, photo_share: float = 0.3,
               jitter: int = 8) -> np.ndarray:
    """One training set (n, side, side, 3) uint8: n frames of one clip at one crop position (± ``jitter``), or n crops
    of one photograph; each set flipped left-right with probability ½."""
    if pics.photos and (not pics.clips or rng.random() < photo_share):
        img = pics.photos[list(pics.photos)[rng.integers(len(pics.photos))]]
        out = [_crop(img, side, rng.integers(0, img.shape[0] - side + 1), rng.integers(0, img.shape[1] - side + 1))
               for _ in range(n)]
    else:
        clip = pics.clips[list(pics.clips)[rng.integers(len(pics.clips))]]
        t, h, w = clip.shape[:3]
        y0, x0 = rng.integers(0, max(h - side, 0) + 1), rng.integers(0, max(w - side, 0) + 1)
        out = []
        for i in rng.choice(t, n, replace=n > t):
            dy, dx = rng.integers(-jitter, jitter + 1, 2)
            y, x = np.clip(y0 + dy, 0, max(h - side, 0)), np.clip(x0 + dx, 0, max(w - side, 0))
            out.append(_crop(clip[i], side, y, x))
    batch = np.stack(out)
    return batch[:, :, ::-1] if rng.random() < 0.5 else batch


def _crop(img: np.ndarray, side: int, y: int, x: int) -> np.ndarray:
    c = img[y:y + side, x:x + side]
    if c.shape[:2] != (side, side):  # a picture smaller than the crop: edge-pad
        c = np.pad(c, ((0, side - c.shape[0]), (0, side - c.shape[1]), (0, 0)), mode="edge")
    return c
