"""Foundation benchmark: rate, held-out quality and speed on real clips, and a packet-loss sweep.

``semtalk bench --suite foundation --data ../shared/data --out out/bench`` writes ``results.json``
(one row per clip × condition) and ``results.md`` (the tables quoted in the README).
"""

from __future__ import annotations

import json
from pathlib import Path

from semtalk.bench.runner import BenchOptions
from semtalk.call.run import RunConfig, run
from semtalk.errors import SemtalkError

HDTF = ["hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4", "hdtf_RD_Radio34_000.mp4"]
LOSSES = [0.0, 0.1, 0.3, 0.5, 0.7]
FECS = [("rs", 0.5), ("none", 1.0)]


def run_suite(data: Path, out: Path, options: BenchOptions) -> list[dict]:
    """Every clip at p = 0 with VMAF and videos, then the loss sweep reusing each clip's KB."""
    quick, seed = options.quick, options.seed
    clips = [data / "faces_av" / name for name in HDTF]
    missing = [c for c in clips if not c.is_file()]
    if missing:
        raise SemtalkError(f"benchmark clips not found: {', '.join(map(str, missing))} (pass --data ../shared/data)")
    if quick:
        clips = clips[:1]
    rows = []
    for clip in clips:
        base = out / clip.stem
        report = run(clip, base / "p0", RunConfig(seed=seed, progress=True))
        rows.append(_row(clip, "rs", 0.5, 0.0, report))
        kb = str(base / "p0" / "kb.stkb")
        for fec, rate in FECS:
            for loss in LOSSES[:3] if quick else LOSSES:
                if fec == "rs" and loss == 0.0:
                    continue
                cfg = RunConfig(loss=loss, fec=fec, code_rate=rate, kb=kb, seed=seed, vmaf=False,
                                write_video=False, progress=False, speech=False)
                rows.append(_row(clip, fec, rate, loss, run(clip, base / f"{fec}_p{loss}", cfg)))
                print(f"  {clip.stem} fec={fec} p={loss}: SSIM {rows[-1]['ssim']}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    (out / "results.md").write_text(markdown(rows))
    return rows


def _row(clip: Path, fec: str, rate: float, loss: float, report: dict) -> dict:
    v, n = report["video"], report["network"]
    return {"clip": clip.stem, "fec": fec, "code_rate": rate, "loss": loss, "seed": report["config"]["seed"],
            "stream_kbps": v["stream_kbps"], "rtp_kbps": v["rtp_kbps"], "channel_kbps": v["channel_kbps"],
            "bits_per_frame": v["bits_per_frame"], "kb_bytes": v["kb_bytes"], "heldout": v["heldout_frames"],
            "psnr": v["psnr"], "ssim": v["ssim"], "ms_ssim": v["ms_ssim"], "vmaf": v["vmaf"],
            "packet_loss": n["loss_rate"], "concealed_frames": v["concealed_frames"],
            "ms_per_frame": v["ms_per_frame"]}


def markdown(rows: list[dict]) -> str:
    """The README tables: p = 0 quality per clip, SSIM per loss rate, ms per frame per stage."""
    clean = [r for r in rows if r["loss"] == 0.0 and r["fec"] == "rs"]
    lines = ["| clip | stream kbps | with RTP | KB KiB | PSNR dB | SSIM | MS-SSIM | VMAF |",
             "|---|---|---|---|---|---|---|---|"]
    for r in clean:
        lines.append(f"| {r['clip']} | {r['stream_kbps']:.2f} | {r['rtp_kbps']:.2f} | {r['kb_bytes'] / 1024:.0f} | "
                     f"{r['psnr']:.2f} | {r['ssim']:.3f} | {r['ms_ssim']:.3f} | {r['vmaf']:.1f} |")
    losses = sorted({r["loss"] for r in rows})
    lines += ["", "| held-out SSIM (mean of clips) | " + " | ".join(f"p={p}" for p in losses) + " |",
              "|---" * (len(losses) + 1) + "|"]
    for fec, rate in FECS:
        cells = []
        for p in losses:
            vals = [r["ssim"] for r in rows if r["fec"] == fec and r["loss"] == p]
            cells.append(f"{sum(vals) / len(vals):.3f}" if vals else "–")
        label = f"RS {rate}" if fec == "rs" else "no FEC"
        lines.append(f"| {label} + concealment | " + " | ".join(cells) + " |")
    stages = sorted({s for r in clean for s in r["ms_per_frame"]})
    lines += ["", "| ms per frame | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|"]
    for r in clean:
        lines.append(f"| {r['clip']} | " + " | ".join(f"{r['ms_per_frame'].get(s, 0):.1f}" for s in stages) + " |")
    return "\n".join(lines) + "\n"
