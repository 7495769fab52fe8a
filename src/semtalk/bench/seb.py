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

Each ``seb_rd`` cell keeps its coding's bytes (``code_set``), so the ``seb_radio`` cells (``bench.seb_radio``) send
the same codings through the real radio (CRC + 5G LDPC + QAM, link adaptation) for contrast with Fig. 4's ideal
code, and the report shows one keyframe of a held-out clip as each codec reconstructs it at Fig. 4's 5-dB budget.

``--quick``: the two clips held out of Seb's training, fewer qualities and radio SNRs (≤ 5 minutes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.bench.runner import BenchEnv, BenchOptions, Task
from semtalk.bench.seb_report import EXAMPLE_BPP, SEB, SNRS, example_rows, write_all

CLIPS = ("hdtf_WDA_EdMarkey0_000.mp4", "hdtf_WDA_KatieHill_000.mp4", "hdtf_RD_Radio34_000.mp4", "lrs2_00004.mp4",
         "lrs2_00016.mp4", "lrs2_00019.mp4")
QUICK_CLIPS = ("hdtf_WDA_EdMarkey0_000.mp4", "lrs2_00019.mp4")  # Seb never trained on these (learned.seb.data)
PILLOW = ("jpeg2000", "webp", "avif", "jpeg")
EXAMPLE_CLIP = QUICK_CLIPS[0]  # the example strip: keyframe 0 of a clip held out of Seb's training


@dataclass(frozen=True)
class SebGrid:
    """Clips, the qualities each codec is swept over, and the SNRs of the real-radio contrast (``bench.seb_radio``)."""

    clips: tuple[str, ...] = CLIPS
    pillow_qualities: tuple[int, ...] = (2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90)
    seb_qualities: tuple[int, ...] = (1, 15, 30, 45, 60, 75, 90)
    seb_codecs: tuple[str, ...] = tuple(SEB)
    radio_snrs: tuple[float, ...] = SNRS

    @classmethod
    def full(cls) -> SebGrid:
        return cls()

    @classmethod
    def quick(cls) -> SebGrid:
        return cls(clips=QUICK_CLIPS, pillow_qualities=(5, 20, 40, 70), seb_qualities=(1, 15, 35, 60, 90),
                   radio_snrs=(0.0, 5.0, 11.0, 20.0))

    def tasks(self, seed: int = 0) -> list[Task]:
        out = [Task.make("seb_rd", c, seed, codec=k, quality=q) for c in self.clips for k in PILLOW
               for q in self.pillow_qualities]
        return out + [Task.make("seb_rd", c, seed, codec=k, quality=q) for c in self.clips for k in self.seb_codecs
                      for q in self.seb_qualities]

    def radio_tasks(self, seed: int = 0) -> list[Task]:
        """One ``seb_radio`` cell per clip and scheme (every Seb λ is one scheme), sweeping ``radio_snrs`` over the
        codings of ``tasks``: the cell picks, per SNR, the best of them whose packets fit the channel uses."""
        schemes = [("seb", self.seb_codecs, self.seb_qualities)] + [(k, (k,), self.pillow_qualities) for k in PILLOW]
        return [Task.make("seb_radio", c, seed, scheme=name, codecs=codecs, qualities=qs, snrs=self.radio_snrs)
                for c in self.clips for name, codecs, qs in schemes]


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


@dataclass(frozen=True, eq=False)  # holds arrays
class Coding:
    """A keyframe set coded by one codec at one quality: its exact bytes and each picture's scores (what the radio
    cells send and score without coding again)."""

    codec: str
    quality: int
    shared: bytes  # Seb's Sebs; empty for the Pillow codecs
    each: list[bytes]
    psnr: np.ndarray  # [pictures] RGB PSNR of each reconstruction
    ms_ssim: np.ndarray  # [pictures] luma MS-SSIM

    @property
    def n_bytes(self) -> int:
        return len(self.shared) + sum(map(len, self.each))


def coding_path(env: BenchEnv, clip: str, codec: str, quality: int) -> Path:
    return env.clip_dir(clip) / "seb_coded" / f"{codec}_{quality}.npz"


def code_set(env: BenchEnv, clip: str, codec: str, quality: int,
             pictures: list[np.ndarray]) -> tuple[Coding, list[np.ndarray], dict]:
    """Code the set, decode it, score each picture and keep the bytes (``coding_path``, stamped with the code
    version); the reconstructions and Seb's bits by part come back too. Seb's decoder must reproduce the encoder's
    reconstruction bit for bit (RuntimeError otherwise)."""
    from semtalk import registry
    from semtalk.bench.runner import code_version
    from semtalk.imagecodec.base import decode_set, encode_set
    from semtalk.metrics.video import ms_ssim

    coder = registry.get("image_codec", codec)()
    bits = {}
    if codec in SEB:  # the coder itself, for its bits by part and its own reconstructions
        from semtalk.learned.seb.code import load_seb

        coded = load_seb(SEB[codec]).encode_set(pictures, quality)
        shared, each, bits = coded.shared, coded.each, {f"bits_{k}": v for k, v in coded.bits.items()}
    else:
        shared, each = encode_set(coder, pictures, quality)
    decoded = decode_set(coder, shared, each)
    if bits and not all(np.array_equal(a, b) for a, b in zip(coded.reconstructions, decoded, strict=True)):
        raise RuntimeError("Seb's decoder did not reproduce the encoder's reconstruction")
    coding = Coding(codec, quality, shared, list(each),
                    np.array([rgb_psnr(a, b) for a, b in zip(pictures, decoded, strict=True)]),
                    np.array([ms_ssim(a, b) for a, b in zip(pictures, decoded, strict=True)]))
    path = coding_path(env, clip, codec, quality)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, shared=np.frombuffer(shared, np.uint8), each=np.frombuffer(b"".join(each), np.uint8),
             lengths=np.array([len(e) for e in each], np.int64), psnr=coding.psnr, ms_ssim=coding.ms_ssim,
             version=np.array(code_version()))
    return coding, decoded, bits


def load_coding(env: BenchEnv, clip: str, codec: str, quality: int, pictures: list[np.ndarray]) -> Coding:
    """The set's coding as the RD cell kept it, or coded now when it is missing or from other code."""
    from semtalk.bench.runner import code_version

    path = coding_path(env, clip, codec, quality)
    if path.is_file():
        with np.load(path) as z:
            if str(z["version"]) == code_version() and len(z["lengths"]) == len(pictures):
                flat = z["each"].tobytes()
                ends = np.cumsum(z["lengths"])
                each = [flat[e - n:e] for e, n in zip(ends, z["lengths"], strict=True)]
                return Coding(codec, quality, z["shared"].tobytes(), each, z["psnr"], z["ms_ssim"])
    return code_set(env, clip, codec, quality, pictures)[0]


def reconstruct(coding: Coding) -> list[np.ndarray]:
    """The receiver's pictures from the coding's bytes (every codec here decodes deterministically)."""
    from semtalk import registry
    from semtalk.imagecodec.base import decode_set

    return decode_set(registry.get("image_codec", coding.codec)(), coding.shared, coding.each)


def load_keyframes(env: BenchEnv, clip: str) -> list[np.ndarray]:
    with np.load(keyframes_path(env, clip)) as z:
        return [z[k] for k in z.files]


def seb_rd_method(task: Task, env: BenchEnv) -> dict:
    """One RD point: the clip's keyframe set through one codec at one quality."""
    p = task.params
    pictures = load_keyframes(env, task.clip)
    coding, _, bits = code_set(env, task.clip, p["codec"], p["quality"], pictures)
    pixels = sum(im.shape[0] * im.shape[1] for im in pictures)
    return {"codec": p["codec"], "quality": p["quality"], "dataset": task.clip.split("_")[0],
            "pictures": len(pictures), "bytes": coding.n_bytes, "bpp": 8 * coding.n_bytes / pixels, "pixels": pixels,
            "psnr": float(np.mean(coding.psnr)), "ms_ssim": float(np.mean(coding.ms_ssim)), **bits}


def example_panels(env: BenchEnv, rows: list[dict], clip: str, picture: int = 0,
                   budget: float = EXAMPLE_BPP) -> list[tuple[str, np.ndarray]]:
    """The original keyframe ``picture`` of ``clip`` and, per codec, its reconstruction in the set coding of
    ``example_rows`` (the coding Fig. 4 sends at 5 dB), each captioned with the set's bpp and the picture's PSNR."""
    pictures = load_keyframes(env, clip)
    panels = [("original", pictures[picture])]
    for scheme, r in example_rows(rows, clip, budget).items():
        coding = load_coding(env, clip, r["codec"], r["quality"], pictures)
        name = scheme if r["codec"] == scheme else f"{scheme} ({r['codec']})"
        panels.append((f"{name} q{r['quality']}: {r['bpp']:.3f} bpp, {coding.psnr[picture]:.2f} dB",
                       reconstruct(coding)[picture]))
    return panels


def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: SebGrid | None = None,
              progress: bool = True) -> list[dict]:
    """Keyframe sets, every RD cell, then the radio cells that send the RD cells' codings (cached by the harness),
    then results.md / report.html, figures and the example strip."""
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run

    grid = grid or (SebGrid.quick() if options.quick else SebGrid.full())
    env = BenchEnv.of_suite(data, Path(out) / "work", grid.clips)
    cache = Path(out) / CACHE_NAME
    with open_executor(options.workers, options.scheduler) as executor:
        prepare_clips([Task.make("seb_keyframes", c, options.seed) for c in grid.clips], env, executor, progress,
                      desc="keyframes")
        rows = run(grid.tasks(options.seed), env, executor, cache=cache, progress=progress, desc="seb")
        rows += run(grid.radio_tasks(options.seed), env, executor, cache=cache, progress=progress, desc="seb radio")
    clip = EXAMPLE_CLIP if EXAMPLE_CLIP in grid.clips else grid.clips[0]
    write_all(rows, Path(out), grid, examples=example_panels(env, rows, clip))
    return rows
