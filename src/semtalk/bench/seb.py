"""The Seb suite (``semtalk bench --suite seb``): the learned set codec against JPEG 2000, WebP, AVIF and JPEG on
the KB keyframe sets of the shared HDTF and LRS2 clips.

Cells: ``seb_keyframes`` builds a clip's KB (WebP, no voice) once and keeps its 10 keyframes (256², the WebP-90
pictures every KB holds today: the originals here); ``seb_rd`` codes that set with one codec at one quality
(Seb: the whole set with shared Sebs; the others picture by picture) and scores it: bits per pixel of the set,
RGB PSNR and MS-SSIM (luma, ``metrics.video``) as means over the pictures, and Seb's bits by part. The report
(``bench.seb_report``) draws the RD curves and derives from the same rows, with no further coding:

- Fig. 4: PSNR and MS-SSIM against AWGN SNR at CBR = 1/30 through an ideal capacity-achieving code: at SNR s a
  scheme may spend 3·CBR·log2(1 + s) bits per pixel (the inverse of eq. 11, ``phy.theory``), arrives intact, and
  each codec sends its best coding within that budget;
- Fig. 5: per training λ (Seb's shipped weights), the CBR its Sebs, usage and residual take at SNR 5 dB in its
  best coding that fits CBR = 1/30 there.

``--quick``: the two clips held out of Seb's training, fewer qualities (≤ 5 minutes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.bench.runner import BenchEnv, BenchOptions, Task
from semtalk.bench.seb_report import SEB, write_all

CLIPS = ("hdtf_WDA_EdMarkey0_000.mp4", "hdtf_WDA_KatieHill_000.mp4", "hdtf_RD_Radio34_000.mp4", "lrs2_00004.mp4",
         "lrs2_00016.mp4", "lrs2_00019.mp4")
QUICK_CLIPS = ("hdtf_WDA_EdMarkey0_000.mp4", "lrs2_00019.mp4")  # Seb never trained on these (learned.seb.data)
PILLOW = ("jpeg2000", "webp", "avif", "jpeg")


@dataclass(frozen=True)
class SebGrid:
    """Clips and the qualities each codec is swept over."""

    clips: tuple[str, ...] = CLIPS
    pillow_qualities: tuple[int, ...] = (2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90)
    seb_qualities: tuple[int, ...] = (1, 15, 30, 45, 60, 75, 90)
    seb_codecs: tuple[str, ...] = tuple(SEB)

    @classmethod
    def full(cls) -> SebGrid:
        return cls()

    @classmethod
    def quick(cls) -> SebGrid:
        return cls(clips=QUICK_CLIPS, pillow_qualities=(5, 20, 40, 70), seb_qualities=(1, 15, 35, 60, 90))

    def tasks(self, seed: int = 0) -> list[Task]:
        out = [Task.make("seb_rd", c, seed, codec=k, quality=q) for c in self.clips for k in PILLOW
               for q in self.pillow_qualities]
        return out + [Task.make("seb_rd", c, seed, codec=k, quality=q) for c in self.clips for k in self.seb_codecs
                      for q in self.seb_qualities]


def keyframes_path(env: BenchEnv, clip: str) -> Path:
    return env.clip_dir(clip) / "seb_keyframes.npz"


def seb_keyframes(task: Task, env: BenchEnv) -> dict:
    """The clip's KB keyframes (built once, WebP, no voice), kept as an npz in the clip's work folder."""
    from semtalk.enroll.build import KbConfig, build_kb_from_clip

    path = keyframes_path(env, task.clip)
    if not path.is_file():
        kb = build_kb_from_clip(env.clip_path(task.clip), config=KbConfig(voice=False, seed=task.seed))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, *[k.image for k in kb.keyframes])
    with np.load(path) as z:
        return {"pictures": len(z.files)}


def rgb_psnr(ref: np.ndarray, out: np.ndarray) -> float:
    """10·log10(255² / MSE) over the three colour channels (the paper's PSNR); capped at 100 dB."""
    err = float(np.mean((ref.astype(np.float64) - out) ** 2))
    return 100.0 if err == 0 else min(100.0, 10 * math.log10(255**2 / err))


def seb_rd_method(task: Task, env: BenchEnv) -> dict:
    """One RD point: the clip's keyframe set through one codec at one quality."""
    from semtalk import registry
    from semtalk.imagecodec.base import decode_set, encode_set
    from semtalk.metrics.video import ms_ssim

    p = task.params
    with np.load(keyframes_path(env, task.clip)) as z:
        pictures = [z[k] for k in z.files]
    codec = registry.get("image_codec", p["codec"])()
    bits = {}
    if p["codec"] in SEB:  # the coder itself, for its bits by part and its own reconstructions
        from semtalk.learned.seb.code import load_seb

        coded = load_seb(SEB[p["codec"]]).encode_set(pictures, p["quality"])
        shared, each, bits = coded.shared, coded.each, {f"bits_{k}": v for k, v in coded.bits.items()}
    else:
        shared, each = encode_set(codec, pictures, p["quality"])
    decoded = decode_set(codec, shared, each)
    if bits and not all(np.array_equal(a, b) for a, b in zip(coded.reconstructions, decoded, strict=True)):
        raise RuntimeError("Seb's decoder did not reproduce the encoder's reconstruction")
    pixels = sum(im.shape[0] * im.shape[1] for im in pictures)
    n_bytes = len(shared) + sum(map(len, each))
    row = {"codec": p["codec"], "quality": p["quality"], "dataset": task.clip.split("_")[0],
           "pictures": len(pictures), "bytes": n_bytes, "bpp": 8 * n_bytes / pixels, "pixels": pixels,
           "psnr": float(np.mean([rgb_psnr(a, b) for a, b in zip(pictures, decoded, strict=True)])),
           "ms_ssim": float(np.mean([ms_ssim(a, b) for a, b in zip(pictures, decoded, strict=True)])), **bits}
    return row


def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: SebGrid | None = None,
              progress: bool = True) -> list[dict]:
    """Keyframe sets, then every RD cell (cached by the harness), then results.md and figures."""
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run

    grid = grid or (SebGrid.quick() if options.quick else SebGrid.full())
    env = BenchEnv.of_suite(data, Path(out) / "work", grid.clips)
    with open_executor(options.workers, options.scheduler) as executor:
        prepare_clips([Task.make("seb_keyframes", c, options.seed) for c in grid.clips], env, executor, progress,
                      desc="keyframes")
        rows = run(grid.tasks(options.seed), env, executor, cache=Path(out) / CACHE_NAME, progress=progress,
                   desc="seb")
    write_all(rows, Path(out), grid)
    return rows
