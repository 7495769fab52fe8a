"""The M3E suite: M3E-VSC (seed paper 4, ``--mode m3e``) against its paper's baselines over AWGN and Rayleigh.

``semtalk bench --suite m3e`` measures what the paper's Figs. 4, 5, 6 and 8 show:

- Fig. 5, text (``m3e_text``, ``bench.m3e_text``): held-out news sentences, one packet each, by the learned text
  coder alone and with the receiver's check and retransmissions, and by Huffman, 5-bit and Brotli over CRC + LDPC
  1/2 + QPSK: eq.-9 similarity, the fraction of sentences at or above ξ_min, resends, feedback bits, channel uses;
- Figs. 4, 6, 8, whole calls (``m3e_call``): ``semtalk run --mode m3e`` at each SNR: bits per GOP (keyframes,
  text and resends), frame quality (PSNR, SSIM on the held-out frames), timbre (speaker similarity of the speech
  the receiver regenerates), retransmissions and their cost;
- Fig. 4's and 6's video baseline (``m3e_h265``): x265 at ``h265_kbps`` with a GOP of ``gop`` frames, over CRC +
  LDPC 3/4 + QPSK or 16-QAM, a lost frame sent again up to ``retransmit`` times (the ARQ a video call would use):
  bits per GOP including the resends, and quality (a frame still lost freezes its GOP);
- Fig. 6's picture baseline (``jpeg_radio``, ``bench.radio_cells``): one held-out crop a second as JPEG + LDPC
  3/4 + 16-QAM at ``jpeg_cbr``;
- what fills the frames between keyframes (``m3e_fill``, ``bench.m3e_fill``; issue 22, item 5): per clip the
  call's keyframes on a clean channel, the frames between them held, cross-faded, flow-interpolated (eq. 10) or
  rendered by SyncSC's face renderer from the sender's coefficients: PSNR / SSIM and the extra kbps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.bench.lgmtsc import kb_file
from semtalk.bench.lgmtsc_text import COHERENCE
from semtalk.bench.runner import BenchEnv, BenchOptions, Task

CLIPS = ("hdtf_RD_Radio34_000.mp4", "hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4")
CHANNELS = ("awgn", "rayleigh")
TEXT_VARIANTS = ("learned", "learned_check", "learned_matched", "learned_matched_check", "huffman", "5bit", "brotli",
                 "huffman_16qam34", "5bit_16qam34", "brotli_16qam34")


@dataclass(frozen=True)
class M3eGrid:
    """The suite's axes; ``quick()``: one clip, 20 sentences, three text SNRs and two call SNRs."""

    clips: tuple[str, ...] = CLIPS
    channels: tuple[str, ...] = CHANNELS
    text_snrs: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0)
    call_snrs: tuple[float, ...] = (0.0, 4.0, 8.0, 12.0, 20.0)
    sentences: int = 100
    xi_min: float = 0.6
    retransmit: int = 3
    h265_kbps: float = 100.0
    gop: int = 8
    jpeg_cbr: float = 0.1

    @classmethod
    def full(cls) -> M3eGrid:
        return cls()

    @classmethod
    def quick(cls) -> M3eGrid:
        return cls(clips=CLIPS[:1], text_snrs=(0.0, 4.0, 8.0), call_snrs=(4.0, 12.0), sentences=20)

    def text(self, seed: int = 0) -> list[Task]:
        return [Task.make("m3e_text", "bbc_news", seed, variant=v, channel=ch, snr=s, sentences=self.sentences,
                          xi_min=self.xi_min, retransmit=self.retransmit if v.endswith("_check") else 0)
                for ch in self.channels for s in self.text_snrs for v in TEXT_VARIANTS]

    def fills(self, seed: int = 0) -> list[Task]:
        """Item 5: each fill per clip, with the M3E call's default τ, keyframe codec and bpp."""
        from semtalk.bench.m3e_fill import FILLS
        from semtalk.modes.m3e.config import M3eConfig

        c = M3eConfig()
        return [Task.make("m3e_fill", clip, seed, fill=f, tau=c.keyframe_threshold, codec=c.keyframe_codec,
                          bpp=c.keyframe_bpp) for clip in self.clips for f in FILLS]

    def calls(self, seed: int = 0) -> list[Task]:
        out = []
        for c in self.clips:
            for ch in self.channels:
                for s in self.call_snrs:
                    out.append(Task.make("m3e_call", c, seed, channel=ch, snr=s, xi_min=self.xi_min,
                                         retransmit=self.retransmit))
                    out += [Task.make("m3e_h265", c, seed, channel=ch, snr=s, modulation=m, ldpc_rate=0.75,
                                      kbps=self.h265_kbps, gop=self.gop, retransmit=self.retransmit)
                            for m in ("qpsk", "16qam")]
                    out.append(Task.make("jpeg_radio", c, seed, channel=ch, snr=s, modulation="16qam",
                                         ldpc_rate=0.75, coherence=COHERENCE, cbr=self.jpeg_cbr))
        return out


def m3e_text_method(task: Task, env: BenchEnv) -> dict:
    """One Fig. 5 point: the sentences by one variant over one channel at one SNR."""
    from semtalk.bench import m3e_text as mt

    p = task.params
    sentences = mt.news_sentences(p["sentences"], task.seed)
    if p["variant"].startswith("learned"):
        outcomes = mt.send_learned(sentences, p["channel"], p["snr"], task.seed, p["xi_min"], p["retransmit"],
                                   matched="matched" in p["variant"])
    else:
        coder, _, radio = p["variant"].partition("_")  # "_16qam34": the paper's LDPC 3/4 + 16-QAM
        outcomes = mt.send_digital(sentences, coder, p["channel"], p["snr"], task.seed, p["retransmit"],
                                   **({"modulation": "16qam", "ldpc_rate": 0.75} if radio else {}))
    return {"table": "text", "system": p["variant"], **mt.score(outcomes, p["xi_min"]),
            "details": json.dumps([{"sent": o.sent, "final": o.final, "xi": round(o.xi_final, 3), "copies": o.copies}
                                   for o in outcomes[:10]])}


def m3e_call_method(task: Task, env: BenchEnv) -> dict:
    """One M3E call over the cell's channel with the clip's prepared KB (LGM-TSC's: portrait and voice)."""
    from semtalk.call.run import RunConfig, run

    p = task.params
    folder = env.clip_dir(task.clip) / "m3e" / f"{p['channel']}_{p['snr']:g}dB"
    config = RunConfig(mode="m3e", kb=str(kb_file(env, task.clip)), channel=p["channel"], snr=p["snr"],
                       coherence=COHERENCE, fec="none", seed=task.seed, xi_min=p["xi_min"],
                       retransmit=p["retransmit"], vmaf=False, progress=False)
    report = run(env.clip_path(task.clip), folder, config)
    v, s, m, phy = report["video"], report.get("speech") or {}, report["m3e"], report.get("phy") or {}
    return {"table": "call", "system": "m3e", "psnr": v["psnr"], "ssim": v["ssim"],
            **{k: m[k] for k in ("keyframes", "gop_frames_mean", "bits_per_gop", "retransmissions", "feedback_bits",
                                 "added_delay_ms_mean", "similarity_mean", "true_similarity_mean",
                                 "true_above_xi_first", "true_above_xi_final", "interpolated_frames", "held_frames")},
            "speaker_similarity": s.get("speaker_similarity"), "semantic_similarity": s.get("semantic_similarity"),
            "channel_uses": (phy.get("channel_uses") or 0) + (m.get("text_channel_uses") or 0),
            "packet_loss": phy.get("packet_loss"), "seconds": report["duration_s"],
            "details": json.dumps({"received_text": s.get("received_text")})}


def m3e_h265_method(task: Task, env: BenchEnv) -> dict:
    """x265 with a GOP of ``gop`` frames over LDPC + QAM, lost frames resent: bits per GOP and quality."""
    from semtalk.bench.codec_cells import rate_point
    from semtalk.bench.codecs import decode_video, send_frames, video_metrics
    from semtalk.bench.radio import held_out
    from semtalk.phy.radio import DigitalRadio, RadioConfig

    p = task.params
    crops = held_out(env, task.clip)
    point = rate_point(env, task.clip, crops, "x265", p["kbps"], gop=p["gop"])
    enc = point.encoded
    radio = DigitalRadio(RadioConfig(modulation=p["modulation"], ldpc_rate=p["ldpc_rate"], channel=p["channel"],
                                     coherence=COHERENCE))
    rng = np.random.default_rng(task.seed)
    keep = np.zeros(enc.n_frames, bool)
    bits = uses = resent = 0
    for attempt in range(p["retransmit"] + 1):
        todo = np.flatnonzero(~keep)
        if not todo.size:
            break
        d = send_frames([enc.packets[i] for i in todo], radio, p["snr"], rng, len(todo) / enc.fps)
        keep[todo] = d.keep
        bits += 8 * sum(len(enc.packets[i]) for i in todo)
        uses += round(d.channel_uses_per_s * d.seconds)
        resent += todo.size if attempt else 0
    shown = decode_video(enc, keep=keep)[crops.heldout_start:]
    q = video_metrics(list(crops.heldout), shown, vmaf=False, fps=crops.fps)
    gops = enc.n_frames / p["gop"]
    return {"table": "h265", "system": f"h265_{p['modulation']}", "psnr": q["psnr"], "ssim": q["ssim"],
            "bits_per_gop": bits / gops, "channel_uses": uses, "kbps": point.kbps, "resent_frames": int(resent),
            "frames_lost": int((~keep).sum()), "seconds": enc.n_frames / enc.fps}


def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: M3eGrid | None = None,
              progress: bool = True) -> list[dict]:
    """Prepare the clips (SyncSC's crops, LGM-TSC's KB), run the text cells and the calls, write the report."""
    from semtalk.bench.m3e_report import write_all
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run

    grid = grid or (M3eGrid.quick() if options.quick else M3eGrid.full())
    env = BenchEnv.of_suite(data, Path(out) / "work", grid.clips)
    cache = Path(out) / CACHE_NAME
    with open_executor(options.workers, options.scheduler) as executor:
        tasks = [Task.make(m, c, options.seed) for c in grid.clips for m in ("syncsc_prepare", "lgmtsc_prepare")]
        prepare_clips(tasks, env, executor, progress)
        rows = run(grid.text(options.seed), env, executor, cache=cache, progress=progress, desc="m3e text")
        rows += run(grid.calls(options.seed), env, executor, cache=cache, progress=progress, desc="m3e calls")
        rows += run(grid.fills(options.seed), env, executor, cache=cache, progress=progress, desc="m3e fills")
    write_all(rows, Path(out), describe(grid))
    return rows


def describe(grid: M3eGrid) -> str:
    return (f"Fig. 5: {grid.sentences} held-out BBC News sentences (spoken form), {', '.join(grid.channels)} at "
            f"{', '.join(f'{s:g}' for s in grid.text_snrs)} dB, ξ_min {grid.xi_min:g}, at most {grid.retransmit} "
            f"resends. Calls (Figs. 4, 6, 8): {', '.join(grid.clips)} at {', '.join(f'{s:g}' for s in grid.call_snrs)}"
            f" dB; M3E over QPSK + LDPC 1/2 (keyframes) and the learned coder's analog symbols (text); H.265 at "
            f"{grid.h265_kbps:g} kbps, GOP {grid.gop}, LDPC 3/4 + QPSK / 16-QAM, ARQ ×{grid.retransmit}; JPEG + "
            f"16-QAM at CBR {grid.jpeg_cbr:g}. Fading blocks of {COHERENCE} symbols, perfect CSI. Fills between "
            "keyframes: the same clips, the call's keyframes (default τ, codec, bpp) on a clean channel.")
