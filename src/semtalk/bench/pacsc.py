"""PacSC against Reed–Solomon under packet loss (SyncSC Fig. 8): coefficient error and held-out SSIM.

``semtalk bench --suite pacsc --data ../shared/data --out out/pacsc_bench [--cache DIR]`` writes
``results.json``, ``results.md`` and ``fig8.png``.

What is run: the real sender stream of each held-out clip (face codes from the face encoder, run once
per clip and cached), then for every condition the call loop (``call.simulate``) with SyncSC's face stream
code (face payload + RS/none, or PacSC rows) over the seeded ``SimulatedLink``, and the receiver's decoder
and ``FacePlayout``, the receiver starting from its KB reference frame. Only the renderer is left out of the
coefficient sweep. SSIM is end to end on every held-out clip, pooled over their frames: the played-out
coefficients are rendered with the clip's KB and compared with the sender's crops on every
``ssim_stride``-th held-out frame (frames after the 2 s enrollment); renders are cached by exact
coefficients, since the renderer is a pure function of them.

Bits: RS protects the delta + Exp-Golomb face payload, so at the same code rate it sends fewer bits
than PacSC, whose rows carry 8 bits per coded value. Both send the same number of packets per 20-frame
block (8 at rate 1/2, 16 at rate 1/4), so their packet losses are identical; RS over *raw* 8-bit codes
(5 frames × (1 + 16·8) bits + 2 header bytes = 83-byte payloads) would lose exactly what RS over the
delta payload loses, at PacSC's bit rate (its row payloads are 83 bytes too). The table gives both.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semtalk import registry
from semtalk.bench.runner import BenchOptions
from semtalk.call.simulate import simulate
from semtalk.learned.pacsc.data import ClipCodes, clip_paths, encode_clip
from semtalk.learned.pacsc.train import HELDOUT
from semtalk.link.simulated import ChannelConfig, SimulatedLink
from semtalk.modes.base import Captured, Outgoing, Played
from semtalk.records import CodedFrame, StageTimer
from semtalk.semantics.face.quantize import Quantizer
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat
from semtalk.streams.playout import FacePlayout

FPS = 25.0
LOSSES = [round(0.1 * i, 1) for i in range(10)]
SYSTEMS = [("none", 1.0), ("rs", 0.5), ("rs", 0.25), ("pacsc", 0.5), ("pacsc", 0.25), ("pacsc-mae", 0.5),
           ("pacsc-mae", 0.25)]
BURST = 3.0
RAW_PAYLOAD_BYTES = 2 + math.ceil(5 * (1 + 16 * 8) / 8)  # one 5-frame face packet with raw 8-bit codes
RTP_HEADER = 12


@dataclass(frozen=True)
class Condition:
    fec: str
    code_rate: float
    loss: float
    bursty: bool
    seed: int

    @property
    def burst(self) -> float:
        """Mean burst 3, or the shortest Gilbert–Elliott allows at high loss (L ≥ p / (1 − p))."""
        return max(BURST, self.loss / (1 - self.loss) + 1e-6) if self.bursty else 1.0


class _CodesSender:
    """SyncSC's face stream fed with codes extracted once per clip (the face encoder's output)."""

    def __init__(self, code, fmt: FaceStreamFormat):
        self.face = code.sender(FacePacketizer(fmt))

    def frame(self, index: int, codes: np.ndarray, time: float) -> tuple[Captured, list[Outgoing]]:
        return Captured(index, codes, np.nan), [Outgoing(0, self.face.push(CodedFrame(index, codes)), time)]

    def finish(self, audio, end: float) -> list[Outgoing]:
        return [Outgoing(0, self.face.flush(), end)]

    def report(self) -> dict:
        return {}


class _CoefficientReceiver:
    """SyncSC's face stream receiver without the renderer: the played coefficients are the output."""

    def __init__(self, code, fmt: FaceStreamFormat, quantizer: Quantizer, reference: np.ndarray):
        self.face = code.receiver(FaceDepacketizer(fmt), prior=reference)
        self.playout = FacePlayout(quantizer, quantizer.dequantize(reference))
        self.latency = (fmt.frames_per_packet * max(1, code.k) + 1) / FPS

    def receive(self, stream: int, datagram: bytes) -> None:
        for frame in self.face.push(datagram):
            self.playout.push(frame)

    def play(self, until: int) -> list[Played]:
        for frame in self.face.due(until):
            self.playout.push(frame)
        return [Played(f.index, f.coeffs, f.concealed) for f in self.playout.pop(until)]

    def finish(self, end: float) -> None:
        return None

    def report(self) -> dict:
        return {}


class _Collect:
    """The loop's output sink: keeps the played coefficients."""

    def __init__(self):
        self.played: list[np.ndarray] = []

    def frame(self, captured: Captured, played: Played) -> None:
        self.played.append(played.image)


def receive(codes: np.ndarray, quantizer: Quantizer, cond: Condition,
            reference: np.ndarray) -> tuple[np.ndarray, dict]:
    """Send ``codes`` (T, C) through the call loop with SyncSC's face stream code; coefficients played (T, C).

    ``reference``: the KB reference frame's codes, which the receiver falls back on as in the SyncSC mode.
    """
    fmt = FaceStreamFormat(n_coeffs=codes.shape[1], bits=quantizer.bits, kb_tag=0)
    code = registry.get("fec", cond.fec)(k=4, code_rate=cond.code_rate)
    channel = ChannelConfig(channel="gilbert_elliott" if cond.bursty else "bernoulli", loss=cond.loss,
                            burst=cond.burst, seed=cond.seed)
    link, sink = SimulatedLink(channel), _Collect()
    receiver = _CoefficientReceiver(code, fmt, quantizer, reference)
    simulate(iter(codes), lambda: None, _CodesSender(code, fmt), receiver, link, sink, StageTimer(), FPS)
    seconds = len(codes) / FPS
    stream = link.stream(0)
    info = {"packets": stream.packets, "lost": stream.lost, "channel_kbps": 8 * stream.bytes / seconds / 1000,
            "concealed": receiver.playout.concealed}
    return np.stack(sink.played), info


def code_error(played: np.ndarray, codes: np.ndarray, quantizer: Quantizer) -> float:
    """Mean absolute error in quantiser steps (speaker-independent: 1 = one 8-bit code)."""
    return float(np.abs((played - quantizer.dequantize(codes)) / quantizer.step()).mean())


def raw_rs_kbps(code_rate: float) -> float:
    """Channel rate of RS over raw 8-bit codes: n/k packets of 83-byte payloads per 5 frames."""
    return 8 * (RAW_PAYLOAD_BYTES + RTP_HEADER) / code_rate * FPS / 5 / 1000


def block_ms(fec: str, code_rate: float, repeats: int = 200) -> dict:
    """Median ms per 20-frame block to encode and to decode (half the rows lost), 1 thread."""
    import torch

    torch.set_num_threads(1)
    codec = registry.get("fec", fec)(code_rate=code_rate).codec
    rng = np.random.default_rng(0)
    x = rng.random((codec.cfg.frames, codec.cfg.n_coeffs)).astype(np.float32)
    rows, mask = codec.encode(x), rng.random(codec.cfg.rows) < 0.5
    enc, dec = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        codec.encode(x)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        codec.decode(rows, mask, x[-1])
        dec.append(time.perf_counter() - t)
    return {"encode_ms": 1000 * float(np.median(enc)), "decode_ms": 1000 * float(np.median(dec))}


@dataclass
class Heldout:
    """One held-out clip as the receiver knows it: codes, KB quantiser, reference and renderer."""

    clip: ClipCodes
    quantizer: Quantizer
    reference: np.ndarray
    renderer: object
    scored: list[int]
    renders: dict[bytes, np.ndarray] = field(default_factory=dict)

    def ssim(self, played: np.ndarray) -> list[float]:
        """SSIM of each scored frame's render against the sender's crop (renders cached by exact coefficients)."""
        from semtalk.metrics.video import ssim

        out = []
        for i in self.scored:
            key = np.asarray(played[i], dtype=np.float32).tobytes()
            if key not in self.renders:
                self.renders[key] = self.renderer(played[i])
            out.append(ssim(self.clip.crops[i], self.renders[key]))
        return out


def load_heldout(data: Path, cache: Path, ssim_stride: int) -> dict[str, Heldout]:
    from semtalk.generators.face_renderer import FaceRenderer
    from semtalk.kb.knowledge_base import read_kb

    paths = {p.stem: p for p in clip_paths(data)}
    missing = [h for h in HELDOUT if h not in paths]
    if missing:
        raise FileNotFoundError(f"held-out clips not found under {data}: {', '.join(missing)}")
    clips = {}
    for name in HELDOUT:
        kb_file = cache / "kb" / f"{name}.stkb"
        clip = encode_clip(paths[name], cache if kb_file.is_file() else None, keep_crops=True, kb_path=kb_file)
        kb = read_kb(kb_file)[0]
        clips[name] = Heldout(clip, kb.quantizer, kb.reference.codes, FaceRenderer(kb),
                              list(range(clip.enroll_frames, len(clip.codes), ssim_stride)))
    return clips


def run_bench(data: Path, out: Path, cache: Path, seeds: int = 5, ssim_stride: int = 2,
              ssim_seeds: int = 3) -> list[dict]:
    """The whole sweep; rows of (system, channel, p) with mean coefficient error and SSIM.

    SSIM pools every scored frame of every held-out clip (one short clip alone decided cells by a few
    frames); ``ssim_by_clip`` keeps each clip's mean.
    """
    clips = load_heldout(data, cache, ssim_stride)
    rows = []
    for fec, rate in SYSTEMS:
        for bursty in (False, True):
            for loss in LOSSES:
                errs, infos = [], []
                ssims: dict[str, list[float]] = {name: [] for name in clips}
                for seed in range(seeds):
                    cond = Condition(fec, rate, loss, bursty, seed)
                    for name, held in clips.items():
                        played, info = receive(held.clip.codes, held.quantizer, cond, held.reference)
                        errs.append(code_error(played, held.clip.codes, held.quantizer))
                        infos.append(info)
                        if seed < ssim_seeds:
                            ssims[name] += held.ssim(played)
                row = {"fec": fec, "code_rate": rate, "loss": loss, "channel": "gilbert_elliott" if bursty
                       else "bernoulli", "burst": Condition(fec, rate, loss, bursty, 0).burst,
                       "code_error": float(np.mean(errs)), "ssim": float(np.mean(np.concatenate(list(ssims.values())))),
                       "ssim_by_clip": {name: float(np.mean(v)) for name, v in ssims.items()},
                       "packet_loss": float(np.mean([i["lost"] / i["packets"] for i in infos])),
                       "channel_kbps": float(np.mean([i["channel_kbps"] for i in infos])),
                       "raw_rs_kbps": raw_rs_kbps(rate) if fec == "rs" else None}
                rows.append(row)
                print(f"{fec} {rate} {row['channel']} p={loss}: error {row['code_error']:.2f} steps, "
                      f"SSIM {row['ssim']:.4f} (" + ", ".join(f"{k} {v:.4f}" for k, v in row["ssim_by_clip"].items())
                      + ")", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"heldout": list(HELDOUT), "ssim_frames": {k: len(v.scored) for k, v in clips.items()}, "seeds": seeds,
            "ssim_seeds": min(ssim_seeds, seeds),
            "timing": {f"{f} {r}": block_ms(f, r) for f, r in SYSTEMS if f.startswith("pacsc")}}
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (out / "results.md").write_text(markdown(rows, meta))
    plot(rows, out / "fig8.png")
    return rows


def _label(fec: str, rate: float) -> str:
    names = {"rs": "RS", "pacsc": "PacSC", "pacsc-mae": "PacSC-MAE (paper)"}
    return "no FEC + concealment" if fec == "none" else f"{names[fec]} {rate:g}"


def markdown(rows: list[dict], meta: dict) -> str:
    frames = ", ".join(f"{k} {v}" for k, v in meta["ssim_frames"].items())
    lines = [f"Held-out clips {', '.join(meta['heldout'])}; SSIM pooled over their scored frames ({frames}), "
             f"{meta['ssim_seeds']} channel seeds; coefficient error: mean over {meta['seeds']} channel seeds.", ""]
    tables = [(channel, metric, fmt, lambda r, m=metric: r[m]) for channel in ("bernoulli", "gilbert_elliott")
              for metric, fmt in (("code_error", "{:.2f}"), ("ssim", "{:.4f}"))]
    tables += [(channel, f"ssim {clip}", "{:.4f}", lambda r, c=clip: r["ssim_by_clip"][c])
               for channel in ("bernoulli", "gilbert_elliott") for clip in meta["heldout"]]
    for channel, metric, fmt, value in tables:
        lines += [f"| {metric} ({channel}) | kbps | " + " | ".join(f"p={p}" for p in LOSSES) + " |",
                  "|---" * (len(LOSSES) + 2) + "|"]
        for fec, rate in SYSTEMS:
            sel = [r for r in rows if r["fec"] == fec and r["code_rate"] == rate and r["channel"] == channel]
            kbps = f"{sel[0]['channel_kbps']:.2f}" + (f" (raw {sel[0]['raw_rs_kbps']:.2f})" if fec == "rs" else "")
            lines.append(f"| {_label(fec, rate)} | {kbps} | " + " | ".join(fmt.format(value(r)) for r in sel) + " |")
        lines.append("")
    t = meta["timing"]
    lines.append("ms per 20-frame block (1 thread, median): " + ", ".join(
        f"{k}: encode {v['encode_ms']:.2f}, decode {v['decode_ms']:.2f}" for k, v in t.items()))
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    for col, channel in enumerate(("bernoulli", "gilbert_elliott")):
        for row, metric in enumerate(("code_error", "ssim")):
            ax = axes[row, col]
            for fec, rate in SYSTEMS:
                sel = [r for r in rows if r["fec"] == fec and r["code_rate"] == rate and r["channel"] == channel]
                style = "-" if fec == "pacsc" else "--" if fec == "rs" else "-." if fec == "pacsc-mae" else ":"
                ax.plot([r["loss"] for r in sel], [r[metric] for r in sel], style, marker="o", ms=3,
                        label=_label(fec, rate))
            ax.set_title(f"{'coefficient error (code steps)' if metric == 'code_error' else 'held-out SSIM'}"
                         f" — {'Bernoulli' if channel == 'bernoulli' else 'Gilbert–Elliott, burst 3'}")
            ax.grid(alpha=0.3)
            ax.set_xlabel("packet loss p")
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_suite(data: Path, out: Path, options: BenchOptions) -> list[dict]:
    """The ``pacsc`` bench suite: 5 channel seeds (SSIM over 3), every 2nd held-out frame; ``quick``: 1 seed, every
    8th frame. Extracted codes are cached in ``options.cache`` (default ``out/codes``)."""
    seeds, stride = (1, 8) if options.quick else (5, 2)
    return run_bench(data, out, options.cache or out / "codes", seeds, stride, min(3, seeds))
