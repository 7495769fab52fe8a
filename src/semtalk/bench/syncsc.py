"""The SyncSC suite: which cells to run (the grid) and the method functions that fill them.

``semtalk bench --suite syncsc`` reproduces SyncSC's comparisons on real clips: Table I (video
rate–quality against x264/x265/SVT-AV1/libaom-AV1), Fig. 8 (quality vs packet loss, codec + RS
vs semtalk), Tables II–III (speech against Opus/AAC), Fig. 9 (text bitrate and text over loss),
Table IV (AV sync) and Table V (complexity). Every method is a function ``(task, env) -> dict``
registered under ``"bench_method"``; the harness (``bench.runner``) only knows those names. This
module holds the grid, the per-clip preparation, the semtalk call cell and the suite; the other
cells live in ``bench.codec_cells``, ``bench.loss_cells`` and ``bench.text_cells``.

Conventions applied to every method (docs/benchmark.md):
- all video is scored on the same 256×256 face crops and held-out frames (``bench.crops``);
- an undecodable codec GOP freezes on the last good frame (``codecs.decode_video(keep=...)``); semtalk
  conceals lost coefficient frames (hold/interpolate) — in both cases the receiver shows *a* frame
  for every tick, and that frame is scored (loss cells: every ``stride``-th held-out frame);
- seeds: every channel draws from ``task.seed``, so the same command gives the same numbers.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

from semtalk.atomic import atomic_bytes
from semtalk.bench.clips import crops_path, kb_path, save_thumb, thumb_index
from semtalk.bench.runner import BenchEnv, BenchOptions, Task

CLIPS = ["hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4", "hdtf_RD_Radio34_000.mp4",
         "lrs2_00004.mp4", "lrs2_00016.mp4", "lrs2_00019.mp4",
         "grid_bbaf2n.mpg", "grid_brbk7n.mpg", "grid_lbax4n.mpg", "grid_lbbc2a.mpg", "grid_id2_vcd_swwp2s.mpg"]
VIDEO_CODECS = ["x264", "x265", "svtav1", "aom"]
FPS = 25.0
BURST = 3.0  # mean burst length (packets) of the bursty channel: the PacSC sweep's (bench.pacsc.BURST)
LOSSES = tuple(round(0.1 * i, 1) for i in range(9))  # p = 0, 0.1, …, 0.8
SEMTALK_FECS = (("none", 1.0), ("rs", 0.5), ("rs", 0.25), ("pacsc", 0.5), ("pacsc", 0.25))
TEXT_CODINGS = ("utf8", "5bit", "huffman", "brotli")


@dataclass(frozen=True)
class Grid:
    """The suite's axes. ``full()`` is the documented default; ``quick()`` fits in ≤ 5 minutes."""

    clips: tuple[str, ...] = tuple(CLIPS)
    codecs: tuple[str, ...] = tuple(VIDEO_CODECS)
    rates_kbps: tuple[float, ...] = (4.0, 6.4, 10.0, 20.0, 40.0, 80.0)
    loss_clips: tuple[str, ...] = tuple(CLIPS[:3])  # Fig. 8 on the HDTF clips (budget; docs/benchmark.md)
    losses: tuple[float, ...] = LOSSES
    bursts: tuple[float, ...] = (1.0, BURST)
    loss_codecs: tuple[str, ...] = ("x264", "x265")
    loss_kbps: float = 20.0
    code_rates: tuple[float, ...] = (0.5, 0.25)
    semtalk_fecs: tuple[tuple[str, float], ...] = SEMTALK_FECS
    stride: int = 2  # loss cells score every stride-th held-out frame
    speech_codecs: tuple[tuple[str, float], ...] = (("opus", 6.0), ("opus", 8.0), ("opus", 12.0),
                                                    ("aac", 16.0), ("aac", 18.0))
    text_losses: tuple[float, ...] = LOSSES
    speech: bool = True
    vmaf: bool = True
    complexity: bool = True
    # Face stream rate–distortion (issue 24): semtalk at these --video-kbps targets, no speech, on the HDTF clips
    # among ``clips`` (the prepared ones); 3 clips × 5 targets ≈ 15 calls of 8 s clips.
    face_rates_kbps: tuple[float, ...] = (0.8, 1.2, 1.6, 2.4, 3.2)
    face_rate_clips: tuple[str, ...] = tuple(CLIPS[:3])
    # The KB refresh's trade-off (issue 24, item 4): --refresh-kbps budgets on the same clips, the face stream at
    # its default 1.6 kbps; 3 clips × 4 budgets ≈ 12 calls.
    refresh_budgets_kbps: tuple[float, ...] = (4.0, 8.0, 16.0, 32.0)

    @classmethod
    def full(cls) -> Grid:
        return cls()

    @classmethod
    def quick(cls) -> Grid:
        return cls(clips=tuple(CLIPS[:1]), rates_kbps=(6.4, 20.0, 80.0), loss_clips=tuple(CLIPS[:1]),
                   losses=(0.0, 0.3, 0.6), bursts=(1.0,), loss_codecs=("x264",), code_rates=(0.5,),
                   semtalk_fecs=(("rs", 0.5), ("pacsc", 0.5)), speech_codecs=(("opus", 8.0), ("aac", 16.0)),
                   text_losses=(0.0, 0.3, 0.6), face_rates_kbps=(0.8, 1.6), face_rate_clips=tuple(CLIPS[:1]),
                   refresh_budgets_kbps=(16.0,))

    def tasks(self, seed: int = 0, available: set[str] | None = None) -> list[Task]:
        """Every cell, longest first (the semtalk calls) so the workers finish together."""
        have = available if available is not None else set(_registered())
        out = [Task.make("semtalk", clip, seed, table="rate_quality", loss=0.0, burst=1.0, fec="rs", code_rate=0.5,
                         speech=self.speech, score_vmaf=self.vmaf) for clip in self.clips]
        for clip in self.clips:
            if "codec_video" in have:
                out += [Task.make("codec_video", clip, seed, table="rate_quality", codec=c, target_kbps=r, loss=0.0,
                                  burst=1.0, code_rate=1.0, score_vmaf=self.vmaf)
                        for c in self.codecs for r in self.rates_kbps]
            if "codec_speech" in have and self.speech:
                out += [Task.make("codec_speech", clip, seed, table="speech", codec=c, target_kbps=r)
                        for c, r in self.speech_codecs]
        out += self._loss_tasks(seed, have)
        out += [Task.make("semtalk", clip, seed, table="face_rate", loss=0.0, burst=1.0, fec="rs", code_rate=0.5,
                          speech=False, score_vmaf=self.vmaf, video_kbps=r)
                for clip in self.face_rate_clips if clip in self.clips for r in self.face_rates_kbps]
        out += [Task.make("semtalk", clip, seed, table="face_refresh", loss=0.0, burst=1.0, fec="rs", code_rate=0.5,
                          speech=False, score_vmaf=self.vmaf, refresh_kbps=r)
                for clip in self.face_rate_clips if clip in self.clips for r in self.refresh_budgets_kbps]
        for clip in self.clips:
            if "text_rate" in have:
                out += [Task.make("text_rate", clip, seed, table="text", coding=c) for c in TEXT_CODINGS]
            if "text_loss" in have:
                out += [Task.make("text_loss", clip, seed, table="text", loss=p, burst=b, code_rate=0.5, conceal=k)
                        for p, b in self._channels(self.text_losses) for k in (False, True)]
        if self.complexity:
            out.append(Task.make("complexity", self.clips[0], seed, table="complexity", max_seconds=4.0))
        return out

    def _channels(self, losses: tuple[float, ...]) -> list[tuple[float, float]]:
        """(p, burst) pairs; p = 0 once (no loss is the same channel whatever the burst)."""
        return [(p, b) for b in self.bursts for p in losses if p > 0.0 or b == self.bursts[0]]

    def _loss_tasks(self, seed: int, have: set[str]) -> list[Task]:
        fecs = [(f, r) for f, r in self.semtalk_fecs if f != "pacsc" or "pacsc" in have]
        out: list[Task] = []
        for clip in self.loss_clips:
            for p, b in self._channels(self.losses):
                if "semtalk_loss" in have:
                    out += [Task.make("semtalk_loss", clip, seed, table="loss", loss=p, burst=b, fec=f, code_rate=r,
                                      stride=self.stride) for f, r in fecs]
                if "codec_loss" in have:
                    out += [Task.make("codec_video", clip, seed, table="loss", codec=c, target_kbps=self.loss_kbps,
                                      loss=p, burst=b, fec="rs", code_rate=cr, stride=self.stride)
                            for c in self.loss_codecs for cr in self.code_rates]
        return out


# What a method needs from modules other helpers are still writing; a cell whose needs are missing is
# left out of the grid (and the report says "no rows") rather than failing at run time. "codec_loss"
# and "pacsc" are not methods but cells of "codec_video" and "semtalk_loss" with extra needs.
NEEDS = {"codec_video": [("semtalk.bench.codecs", "rate_match")],
         "codec_loss": [("semtalk.bench.codecs", "protect_and_lose")],
         "codec_speech": [("semtalk.bench.codecs", "encode_audio")],
         "semtalk_loss": [("semtalk.bench.pacsc", "receive")],
         "pacsc": [("semtalk.bench.pacsc", "receive"), ("semtalk.learned.pacsc.code", "PacscCodec")],
         "text_rate": [("semtalk.bench.text", "text_bitrates")],
         "text_loss": [("semtalk.bench.text", "simulate_text")]}


def _registered() -> list[str]:
    """Bench methods that can run now (plus the "codec_loss" and "pacsc" cells when their modules exist)."""
    import importlib

    from semtalk import registry

    def importable(module: str, attr: str) -> bool:
        try:
            return hasattr(importlib.import_module(module), attr)
        except ImportError:
            return False

    table = registry.REGISTRY["bench_method"]
    return [name for name in [*table, "codec_loss", "pacsc"]
            if (name not in table or importable(*table[name].split(":")))
            and all(importable(m, a) for m, a in NEEDS.get(name, []))]


# -- shared per-clip preparation ---------------------------------------------------------------------

def prepare(task: Task, env: BenchEnv) -> dict:
    """Build a clip's KB once (seeded like ``semtalk run`` would), its face crops and codes and (``asr``) its
    ASR words, for every later cell. The KB builder's defaults (10 keyframes): every suite's cells share this KB,
    and the loss sweeps carry the version-1 stream, for which SyncSC asks no more (``SyncscConfig.kb_keyframes``;
    a default ``semtalk run`` of SyncSC builds 16)."""
    from semtalk.bench.crops import face_crops
    from semtalk.call.run import RunConfig, crop_config, kb_config
    from semtalk.enroll.build import build_kb_from_clip

    clip, kb = env.clip_path(task.clip), kb_path(env, task.clip)
    kb.parent.mkdir(parents=True, exist_ok=True)
    if not kb.is_file():
        cfg = RunConfig(seed=task.seed)
        atomic_bytes(kb, build_kb_from_clip(clip, crop_config(cfg), kb_config(cfg)).to_bytes())
    if not crops_path(env, task.clip).is_file():
        crops = face_crops(clip, kb)
        tmp = crops_path(env, task.clip).with_suffix(".tmp.npz")
        crops.save(tmp)
        os.replace(tmp, crops_path(env, task.clip))
        save_thumb(crops.heldout[thumb_index(len(crops.heldout))], env.clip_dir(task.clip) / "thumbs" / "original.png")
    if task.params.get("asr"):
        from semtalk.bench.text_cells import clip_words

        clip_words(env, task.clip)
    return {"ref_bytes": kb.stat().st_size}


# -- semtalk -------------------------------------------------------------------------------------------

def semtalk_method(task: Task, env: BenchEnv) -> dict:
    """One semtalk call on the clip with the prepared KB; video always, speech when the cell asks."""
    import semtalk
    from semtalk.call.run import RunConfig

    p = task.params
    clean = p["loss"] == 0.0
    rate = f"_v{p['video_kbps']}" if p.get("video_kbps") is not None else ""
    rate += f"_r{p['refresh_kbps']}" if p.get("refresh_kbps") else ""
    out = env.clip_dir(task.clip) / "semtalk" / f"{p['fec']}{p['code_rate']}_p{p['loss']}_b{p['burst']}{rate}"
    clip = env.clip_path(task.clip)
    transcript = clip.with_suffix(".txt")
    known = {f.name for f in fields(RunConfig)}
    options = {"kb": str(kb_path(env, task.clip)), "loss": p["loss"], "burst": p["burst"], "fec": p["fec"],
               "channel": "gilbert_elliott" if p["burst"] > 1.0 else "bernoulli",
               "code_rate": p["code_rate"], "seed": task.seed, "vmaf": p["score_vmaf"], "write_video": clean,
               "progress": False, "speech": p["speech"],
               "transcript": str(transcript) if transcript.is_file() and p["speech"] else None,
               "video_kbps": p.get("video_kbps"), "refresh_kbps": p.get("refresh_kbps") or 0.0}
    report = semtalk.run_clip(clip, out, **{k: v for k, v in options.items() if k in known})
    row = semtalk_row(report)
    if p.get("video_kbps") is not None:
        row["target_kbps"] = p["video_kbps"]
    if p.get("refresh_kbps"):  # the budget; ``kbps`` is the whole stream's, coefficients and refreshes
        row["target_kbps"] = p["refresh_kbps"]
        row["refresh_kbps"] = report["video"]["refresh_kbps"]
        row["refreshes"] = report["refresh"]["sent"]
    if clean and (out / "received.mp4").is_file():
        row["thumb"] = _video_thumb(out / "received.mp4", env, task.clip, "semtalk")
    return row


def semtalk_row(report: dict) -> dict:
    """Flatten a ``run_clip`` report into schema columns; a key the report lacks becomes null."""
    v, n, s = report.get("video", {}), report.get("network", {}), report.get("speech") or {}
    frames, side = v.get("frames") or 0, report.get("config", {}).get("crop_size", 256)
    kbps, ref = v.get("stream_kbps"), v.get("kb_bytes")
    bits = None if kbps is None else kbps * 1000 * frames / v.get("fps", 25.0)
    held = v.get("heldout_frames")
    ms = v.get("ms_per_frame") or {}
    return {
        "codec": "semtalk", "kbps": kbps, "kbps_rtp": v.get("rtp_kbps"), "channel_kbps": v.get("channel_kbps"),
        "floor": False, "frames": frames, "heldout_start": held[0] if held else None,
        "bpp": None if bits is None or not frames else bits / (frames * side * side),
        "bpp_with_ref": None if bits is None or ref is None or not frames else (bits + 8 * ref) / (frames * side**2),
        "ref_bytes": ref, "psnr": v.get("psnr"), "ssim": v.get("ssim"), "ms_ssim": v.get("ms_ssim"),
        "vmaf": v.get("vmaf"), "packet_loss": n.get("loss_rate"), "concealed_frames": v.get("concealed_frames"),
        "ms_per_frame": round(sum(ms.values()), 3) if ms else None, "rtf": v.get("realtime_factor"),
        **{k: s.get(k) for k in SPEECH_KEYS},
        "speech_kbps": None if s.get("text_bps") is None else
        sum(s.get(k) or 0.0 for k in ("text_bps", "timing_bps", "prosody_bps")) / 1000,
        "details": json.dumps({"ms_per_frame": ms, "network": n,
                               **{k: s.get(k) for k in SPEECH_DETAILS if k in s}}, sort_keys=True, default=str),
    }


SPEECH_KEYS = ("text_bps", "timing_bps", "prosody_bps", "asr_wer", "received_wer", "bleu", "semantic_similarity",
               "concealed_words", "resynth_wer", "mcd_db", "pesq_wb", "stoi", "speaker_similarity", "av_offset_ms",
               "av_offset_ms_original")
SPEECH_DETAILS = ("seconds", "words_sent", "words_received", "packets", "rtf", "voice_adapted",
                  "speaker_similarity_unadapted", "speaker_heldout", "lip_shift_ms")


def _video_thumb(path: Path, env: BenchEnv, clip: str, name: str) -> str:
    from semtalk.bench.crops import FaceCrops
    from semtalk.media.reader import read_video

    crops = FaceCrops.load(crops_path(env, clip))
    index = crops.heldout_start + thumb_index(len(crops.heldout))
    for i, frame in enumerate(read_video(path)):
        if i == index:
            return save_thumb(frame, env.clip_dir(clip) / "thumbs" / f"{name}.png")
    return ""


# -- complexity (Table V) ----------------------------------------------------------------------------

_PROBE = """
import json, resource, sys, semtalk
r = semtalk.run_clip(sys.argv[1], sys.argv[2], kb=sys.argv[3], max_seconds=float(sys.argv[4]), vmaf=False,
                     write_video=False, progress=False, **json.loads(sys.argv[5]))
print(json.dumps({"ms": r["video"]["ms_per_frame"], "rtf": r["video"]["realtime_factor"],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def complexity_method(task: Task, env: BenchEnv) -> dict:
    """ms per module and peak memory of one semtalk call, in a fresh process so its peak RSS is its own."""
    import subprocess
    import sys

    from semtalk.call.run import RunConfig

    out = env.clip_dir(task.clip) / "complexity"
    extra = {"speech": False} if "speech" in {f.name for f in fields(RunConfig)} else {}
    args = [sys.executable, "-c", _PROBE, str(env.clip_path(task.clip)), str(out), str(kb_path(env, task.clip)),
            str(task.params["max_seconds"]), json.dumps(extra)]
    proc = subprocess.run(args, capture_output=True, text=True, check=True, timeout=600)
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"codec": "semtalk", "ms_per_frame": round(sum(probe["ms"].values()), 3), "rtf": probe["rtf"],
            "peak_rss_mb": round(probe["rss_mb"], 1), "ref_bytes": kb_path(env, task.clip).stat().st_size,
            "details": json.dumps({"ms_per_frame": probe["ms"]}, sort_keys=True)}


# -- the suite -------------------------------------------------------------------------------------

def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: Grid | None = None,
              progress: bool = True) -> list[dict]:
    """Prepare every clip, run the grid on the executor, write results, tables, figures and report.html."""
    from semtalk.bench import report
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run

    seed, workers, scheduler = options.seed, options.workers, options.scheduler
    grid = grid or (Grid.quick() if options.quick else Grid.full())
    clips = list(dict.fromkeys(grid.clips + grid.loss_clips))
    env = BenchEnv.of_suite(data, Path(out) / "work", clips)
    with open_executor(workers, scheduler) as executor:
        prepare_clips([Task.make("syncsc_prepare", c, seed, asr=True) for c in clips], env, executor, progress)
        rows = run(grid.tasks(seed), env, executor, cache=Path(out) / CACHE_NAME, progress=progress, desc="syncsc")
    report.write_all(rows, Path(out))
    return rows

