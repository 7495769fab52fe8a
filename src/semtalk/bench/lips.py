"""Wav2Vid's audio-driven face on real clips: does the generated mouth follow the speaker's?

``python -m semtalk.bench.lips --data ../shared/data [--out results.json]``

Per HDTF and LRS2 clip (never trained on; the lip model saw only GRID): the KB from the first 2 s
(``build_kb_from_clip``), the crop of frame 50 as the only reference, and a generated frame for every
later frame, animated from the clip's own audio (``TalkingHead``). Landmarks are run on the generated
frames and on the original crops alike, and their mouth openings (``mesh.mouth_opening``) compared by
Pearson r over the frames after the enrollment: per clip, pooled over every frame of every clip (raw
openings), and pooled with each clip's curves z-scored (which leaves out how well each clip's mean and
spread were guessed). ``lip_r`` is the lip track against the original mouth before rendering; the AV
offset is ``dsp.sync.av_sync`` of the generated mouth with the audio (positive: audio after video), next
to that of the original mouth, since a clip may itself be out of sync.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

CLIPS = ["hdtf_RD_Radio34_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4", "hdtf_WDA_KatieHill_000.mp4",
         "lrs2_00004.mp4", "lrs2_00016.mp4", "lrs2_00019.mp4"]
FPS = 25.0
REFERENCE_FRAME = 50  # the first frame after the 2-s enrollment


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _z(x: np.ndarray) -> np.ndarray:
    return (x - np.nanmean(x)) / np.nanstd(x)


def evaluate_clip(path: Path, seed: int = 0) -> dict:
    """One clip: mouth openings of the original crops and of the generated frames, after the enrollment."""
    from semtalk.dsp.sync import av_sync
    from semtalk.enroll.build import KbConfig, build_kb_from_clip
    from semtalk.generators import lips
    from semtalk.generators.talking_head import TalkingHead, kb_mouth
    from semtalk.media.reader import read_audio, read_video
    from semtalk.semantics.face.encoder import FaceTracker
    from semtalk.semantics.face.landmarks import FaceLandmarker
    from semtalk.semantics.face.mesh import mouth_opening

    kb = build_kb_from_clip(path, config=KbConfig(voice=False), fps=FPS)
    tracker = FaceTracker(kb.crop, kb.ref_box)
    try:
        crops = [t.crop for t in tracker(read_video(path, fps=FPS))]
    finally:
        tracker.close()
    audio = read_audio(path, lips.RATE)

    def openings(frames: list[np.ndarray]) -> np.ndarray:
        marker = FaceLandmarker()
        try:
            pts = [marker(f) for f in frames]
        finally:
            marker.close()
        return np.array([np.nan if p is None else mouth_opening(p) for p in pts])

    t = time.perf_counter()
    lip = lips.track(audio, lips.RATE, FPS)
    track_s = time.perf_counter() - t
    head = TalkingHead(kb, seed=seed)
    head.set_reference([crops[REFERENCE_FRAME]])
    n = min(len(crops), len(lip))
    t = time.perf_counter()
    generated = [head.frame(k, float(lip[k])) for k in range(REFERENCE_FRAME, n)]
    render_s = time.perf_counter() - t
    head.close()
    original = openings(crops[:n])
    out = openings(generated)
    truth = original[REFERENCE_FRAME:]
    enrolled = original[:REFERENCE_FRAME]
    tail = audio[round(REFERENCE_FRAME / FPS * lips.RATE):]
    sync_out = av_sync(np.nan_to_num(out, nan=float(np.nanmean(out))), FPS, tail, lips.RATE)
    sync_in = av_sync(np.nan_to_num(truth, nan=float(np.nanmean(truth))), FPS, tail, lips.RATE)
    _, kb_open = kb_mouth(kb)
    return {"clip": path.stem, "frames": len(generated), "no_face_generated": int(np.isnan(out).sum()),
            "r": _pearson(out, truth), "lip_r": _pearson(lip[REFERENCE_FRAME:n], truth),
            "av_offset_ms": sync_out.lag_ms, "av_peak": sync_out.peak, "av_at_edge": sync_out.at_edge,
            "original_av_offset_ms": sync_in.lag_ms, "original_av_peak": sync_in.peak,
            "ms_per_frame": 1000 * render_s / max(1, len(generated)),
            "lip_track_x_realtime": track_s / (audio.size / lips.RATE),
            "mouth": {"generated_mean": float(np.nanmean(out)), "generated_std": float(np.nanstd(out)),
                      "original_mean": float(np.nanmean(truth)), "original_std": float(np.nanstd(truth)),
                      "enrollment_mean": float(np.nanmean(enrolled)), "enrollment_std": float(np.nanstd(enrolled)),
                      "kb_mean": float(kb_open.mean()), "kb_std": float(kb_open.std())},
            "curves": {"generated": out.tolist(), "original": truth.tolist()}}


def summarise(rows: list[dict]) -> dict:
    """Pooled r over every frame of every clip: raw openings, and per-clip z-scores."""
    gen = [np.array(r["curves"]["generated"]) for r in rows]
    orig = [np.array(r["curves"]["original"]) for r in rows]
    return {"pooled_r": _pearson(np.concatenate(gen), np.concatenate(orig)),
            "pooled_r_z": _pearson(np.concatenate([_z(g) for g in gen]), np.concatenate([_z(o) for o in orig])),
            "mean_clip_r": float(np.mean([r["r"] for r in rows])),
            "mean_lip_r": float(np.mean([r["lip_r"] for r in rows])),
            "mean_abs_av_offset_ms": float(np.mean([abs(r["av_offset_ms"]) for r in rows])),
            "frames": int(sum(r["frames"] for r in rows))}


def markdown(rows: list[dict], summary: dict) -> str:
    lines = ["| clip | frames | r (generated) | r (lip track) | AV offset ms (generated / original) | ms/frame |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['clip']} | {r['frames']} | {r['r']:.3f} | {r['lip_r']:.3f} | "
                     f"{r['av_offset_ms']:+.0f}{' (edge)' if r['av_at_edge'] else ''} / "
                     f"{r['original_av_offset_ms']:+.0f} | {r['ms_per_frame']:.0f} |")
    lines.append(f"| pooled | {summary['frames']} | {summary['pooled_r']:.3f} (z: {summary['pooled_r_z']:.3f}) | "
                 f"mean {summary['mean_lip_r']:.3f} | mean abs {summary['mean_abs_av_offset_ms']:.0f} | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m semtalk.bench.lips", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data", help="folder with faces_av/ (default ../shared/data)")
    parser.add_argument("--out", default=None, help="write rows and summary (with the mouth curves) as JSON here")
    parser.add_argument("--clips", nargs="*", default=CLIPS, help="clip file names in faces_av/")
    parser.add_argument("--seed", type=int, default=0, help="talking-head seed (blinks, head motion)")
    args = parser.parse_args(argv)
    folder = Path(args.data) / "faces_av"
    missing = [c for c in args.clips if not (folder / c).is_file()]
    if missing:
        parser.error(f"clips not found in {folder}: {', '.join(missing)}")
    rows = []
    for name in args.clips:
        rows.append(evaluate_clip(folder / name, args.seed))
        r = rows[-1]
        print(f"{r['clip']}: r {r['r']:.3f} (lip track {r['lip_r']:.3f}), AV offset {r['av_offset_ms']:+.0f} ms "
              f"(original {r['original_av_offset_ms']:+.0f}), {r['ms_per_frame']:.0f} ms/frame", flush=True)
    summary = summarise(rows)
    print(markdown(rows, summary), end="")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"summary": summary, "clips": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
