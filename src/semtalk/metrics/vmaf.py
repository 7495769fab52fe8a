"""VMAF, and ffmpeg's own PSNR/SSIM, computed by the static ffmpeg that imageio-ffmpeg ships.

That build includes libvmaf with its models compiled in, so ``model=version=vmaf_v0.6.1`` works
offline. The pipeline streams the reference crops and the received frames into two lossless y4m
files (``semtalk.media.y4m.Y4mWriter``) and calls these functions once per clip. ffmpeg's PSNR and
SSIM serve as an independent cross-check of ``semtalk.metrics.video`` on the very same luma.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
from pathlib import Path

from semtalk.errors import SemtalkError
from semtalk.media.reader import ffmpeg_exe
from semtalk.metrics.video import PEAK, PSNR_CAP

DEFAULT_MODEL = "version=vmaf_v0.6.1"  # built into libvmaf; pinned so scores do not drift with ffmpeg


def _run(args: list[str], cwd: str) -> None:
    """Run ffmpeg quietly in ``cwd``; on failure raise with the last line it printed."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise SemtalkError(f"ffmpeg failed: {last}")


def _inputs(ref_path: str | Path, dist_path: str | Path) -> list[str]:
    """ffmpeg input arguments: distorted first (libvmaf's 'main'), reference second."""
    paths = [Path(dist_path).resolve(), Path(ref_path).resolve()]
    for p in paths:
        if not p.is_file():
            raise SemtalkError(f"no such media file: {p}")
    return ["-i", str(paths[0]), "-i", str(paths[1])]


def vmaf(
    ref_path: str | Path, dist_path: str | Path, n_threads: int = 2, model: str = DEFAULT_MODEL
) -> float:
    """Mean VMAF (0-100) of ``dist_path`` against ``ref_path``, over the frames both files have.

    Both inputs must have the same size and pixel format (two ``Y4mWriter`` files do).
    """
    with tempfile.TemporaryDirectory(prefix="semtalk-vmaf-") as tmp:
        # Relative log path inside cwd=tmp: no filter-graph escaping of arbitrary paths needed.
        graph = (
            f"[0:v][1:v]libvmaf=model={model}:log_fmt=json:log_path=vmaf.json"
            f":n_threads={int(n_threads)}:shortest=1"
        )
        _run([*_inputs(ref_path, dist_path), "-lavfi", graph, "-f", "null", "-"], cwd=tmp)
        log = json.loads((Path(tmp) / "vmaf.json").read_text())
    try:
        return float(log["pooled_metrics"]["vmaf"]["mean"])
    except KeyError as exc:
        raise SemtalkError("ffmpeg's VMAF log has no pooled vmaf score (no frames compared?)") from exc


_PAIR = re.compile(r"(\w+):(\S+)")


def _stats(path: Path) -> list[dict[str, str]]:
    """ffmpeg psnr/ssim ``stats_file`` lines as key → value text (``n:1 mse_y:0.00 ...``)."""
    return [dict(_PAIR.findall(line)) for line in path.read_text().splitlines() if line.strip()]


def ffmpeg_psnr_ssim(ref_path: str | Path, dist_path: str | Path) -> dict[str, float]:
    """ffmpeg's PSNR and SSIM on the Y plane, pooled like ``VideoQuality.compute``.

    Returns frames, psnr (mean per-frame PSNR, identical frames capped at ``PSNR_CAP``),
    psnr_pooled (PSNR of the mean MSE, ffmpeg's own summary) and ssim (mean per-frame SSIM).
    ffmpeg prints per-frame PSNR and MSE to 2 decimals, which bounds the agreement to ~0.01 dB;
    its SSIM uses 8x8 blocks on a 4-px grid, not a Gaussian window, so it differs slightly from ours.
    """
    with tempfile.TemporaryDirectory(prefix="semtalk-ffm-") as tmp:
        graph = (
            "[1:v]split[r1][r2];"
            "[0:v][r1]psnr=stats_file=psnr.log:shortest=1[m];"
            "[m][r2]ssim=stats_file=ssim.log:shortest=1"
        )
        _run([*_inputs(ref_path, dist_path), "-lavfi", graph, "-f", "null", "-"], cwd=tmp)
        psnr_rows = _stats(Path(tmp) / "psnr.log")
        ssim_rows = _stats(Path(tmp) / "ssim.log")
    n = len(psnr_rows)
    if n == 0 or len(ssim_rows) != n:
        raise SemtalkError("ffmpeg compared no frames (is one of the inputs empty?)")
    per_frame = [float(row["psnr_y"]) for row in psnr_rows]  # "inf" parses to math.inf
    mean_mse = sum(float(row["mse_y"]) for row in psnr_rows) / n
    return {
        "frames": n,
        "psnr": sum(min(v, PSNR_CAP) for v in per_frame) / n,
        "psnr_pooled": math.inf if mean_mse == 0 else 10 * math.log10(PEAK**2 / mean_mse),
        "ssim": sum(float(row["Y"]) for row in ssim_rows) / n,
    }
