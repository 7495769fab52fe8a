"""The Wav2Vid suite: Wav2Vid (seed paper 2, ``--mode wav2vid``) against its baselines, on real clips.

``semtalk bench --suite wav2vid`` measures what the paper's Table II and Figs. 5–7 show:

- Table II, the data for the whole clip in bytes and channel symbols: H.264 + AAC at matched quality, semtalk's
  SyncSC call, a Txt2Vid-like baseline and Wav2Vid (``bench.wav2vid_cells``, the ``wav2vid_table`` cell);
- Figs. 5–7, quality against Rayleigh Es/N0: PESQ-WB, PSNR, MS-SSIM, SSIM, VMAF and re-ASR WER of the received
  audio, for Wav2Vid with Opus + LDPC + QAM, Wav2Vid with the learned ASC (analog, about the same audio channel
  uses), the Txt2Vid-like path (``bench.txt2vid``) and, for reference, SyncSC.

Cells (registered under ``bench_method``; every random draw comes from ``task.seed``):

- ``wav2vid_call``: one whole ``--mode wav2vid`` call over the radio at the cell's SNR with one audio carrier;
- ``wav2vid_syncsc``: the SyncSC call over the same radio at the same SNR; its received words and their TTS speech
  drive Txt2Vid, and its bits are Table II's SyncSC row;
- ``txt2vid``: those words' speech animating the same talking head from the clip's first frames after enrollment;
- ``wav2vid_table``: Table II for one clip.

The suite runs in two phases: the calls, then the cells that read their outputs (``txt2vid``, ``wav2vid_table``);
a cell that finds a call's folder empty runs that call itself, so a cached row never leaves a later cell stranded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from semtalk.bench.clips import crops_path, kb_path
from semtalk.bench.runner import BenchEnv, BenchOptions, Task

CLIPS = ("lrs2_00004.mp4", "lrs2_00016.mp4", "lrs2_00019.mp4",
         "hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4", "hdtf_RD_Radio34_000.mp4")
SNRS = tuple(float(s) for s in range(0, 21, 2))  # the paper's 0–20 dB in 2-dB steps (the budget: docs/wav2vid.md)
CARRIERS = ("opus", "asc")
PESQ_FLOOR = 1.0  # PESQ-WB of a silent output is undefined (None in the report): shown as the scale's bottom


@dataclass(frozen=True)
class Wav2vidGrid:
    """The suite's axes. ``full()`` is the documented default (≈ 60–90 min on 2 cores); ``quick()`` fits in
    ≤ 5 minutes. ``modulation`` is that of Wav2Vid's digital streams (the clips, and Opus): 8 kbps of Opus at
    16-QAM with LDPC 1/2 is 4000 symbols/s of payload, the ASC's analog rate. ``fec``: the packet FEC above the
    LDPC on Wav2Vid's clips and Opus packets: none, the paper's "codec + LDPC + QAM" (RS 1/2 would double the
    audio's channel uses). SyncSC (and so Txt2Vid's words) keeps its own call settings, ``syncsc_modulation`` and
    ``syncsc_fec``, as the radio suite runs it."""

    clips: tuple[str, ...] = CLIPS
    snrs: tuple[float, ...] = SNRS
    carriers: tuple[str, ...] = CARRIERS
    channel: str = "rayleigh"
    modulation: str = "16qam"
    syncsc_modulation: str = "qpsk"
    ldpc_rate: float = 0.5
    coherence: int = 100
    fec: str = "none"
    syncsc_fec: str = "rs"
    audio_kbps: float = 8.0
    txt2vid: bool = True
    table: bool = True
    vmaf: bool = True

    @classmethod
    def full(cls) -> Wav2vidGrid:
        return cls()

    @classmethod
    def quick(cls) -> Wav2vidGrid:
        return cls(clips=CLIPS[:1], snrs=(0.0, 10.0, 20.0), vmaf=False)

    @property
    def table_snr(self) -> float:
        """Table II reads the calls at the grid's best SNR (what a sender sends does not depend on it)."""
        return max(self.snrs)

    def radio(self) -> dict:
        """Wav2Vid's call settings every cell of it shares (its carrier and SNR added)."""
        return {"channel": self.channel, "modulation": self.modulation, "ldpc_rate": self.ldpc_rate,
                "coherence": self.coherence, "fec": self.fec, "audio_kbps": self.audio_kbps}

    def syncsc_radio(self) -> dict:
        """The SyncSC call's settings (its SNR added): the same radio, its own modulation."""
        return {"channel": self.channel, "modulation": self.syncsc_modulation, "ldpc_rate": self.ldpc_rate,
                "coherence": self.coherence, "fec": self.syncsc_fec}

    def calls(self, seed: int = 0) -> list[Task]:
        """Phase 1: the Wav2Vid calls (one per carrier) and the SyncSC call, per clip and SNR, longest first."""
        out: list[Task] = []
        for clip in self.clips:
            for snr in self.snrs:
                out += [Task.make("wav2vid_call", clip, seed, carrier=c, snr=snr, score_vmaf=self.vmaf,
                                  **self.radio()) for c in self.carriers]
                out.append(Task.make("wav2vid_syncsc", clip, seed, snr=snr, score_vmaf=self.vmaf,
                                     **self.syncsc_radio()))
        return out

    def derived(self, seed: int = 0) -> list[Task]:
        """Phase 2: Txt2Vid per clip and SNR, and Table II per clip (they read the phase-1 calls' outputs)."""
        out: list[Task] = []
        if self.txt2vid:
            out += [Task.make("txt2vid", clip, seed, snr=snr, score_vmaf=self.vmaf, **self.syncsc_radio())
                    for clip in self.clips for snr in self.snrs]
        if self.table:
            out += [Task.make("wav2vid_table", clip, seed, snr=self.table_snr, syncsc_modulation=self.syncsc_modulation,
                              syncsc_fec=self.syncsc_fec, **self.radio()) for clip in self.clips]
        return out

    def tasks(self, seed: int = 0) -> list[Task]:
        return self.calls(seed) + self.derived(seed)


# -- the calls ---------------------------------------------------------------------------------------------

def wav2vid_config(env: BenchEnv, clip: str, params: dict, seed: int, carrier: str = "opus"):
    """The ``RunConfig`` of a Wav2Vid cell's call (the clip's prepared KB, no video written)."""
    from semtalk.call.run import RunConfig

    return RunConfig(mode="wav2vid", kb=str(kb_path(env, clip)), channel=params["channel"], snr=params["snr"],
                     modulation=params["modulation"], ldpc_rate=params["ldpc_rate"], coherence=params["coherence"],
                     fec=params["fec"], audio_carrier=carrier, audio_kbps=params["audio_kbps"], seed=seed,
                     vmaf=bool(params.get("score_vmaf", False)), write_video=False, progress=False)


def syncsc_config(env: BenchEnv, clip: str, params: dict, seed: int):
    """The ``RunConfig`` of the SyncSC call over the same radio (with the clip's transcript when it has one)."""
    from semtalk.call.run import RunConfig

    transcript = env.clip_path(clip).with_suffix(".txt")
    return RunConfig(mode="syncsc", kb=str(kb_path(env, clip)), channel=params["channel"], snr=params["snr"],
                     modulation=params["modulation"], ldpc_rate=params["ldpc_rate"], coherence=params["coherence"],
                     fec=params["fec"], seed=seed, vmaf=bool(params.get("score_vmaf", False)), write_video=False,
                     progress=False, transcript=str(transcript) if transcript.is_file() else None)


def call_folder(env: BenchEnv, clip: str, config) -> Path:
    """Where a cell's call writes (one folder per mode, carrier, modulation, FEC and SNR)."""
    what = f"{config.audio_carrier}_" if config.mode == "wav2vid" else ""
    return env.clip_dir(clip) / config.mode / f"{what}{config.modulation}_{config.fec}_{config.snr:g}dB"


def call(env: BenchEnv, clip: str, config, fresh: bool = True) -> tuple[dict, Path]:
    """The call's report and folder: run now (``fresh``), or read from its folder when an earlier cell ran it."""
    from semtalk.call.run import run

    folder = call_folder(env, clip, config)
    report = folder / "report.json"
    if not fresh and report.is_file():
        return json.loads(report.read_text()), folder
    return run(env.clip_path(clip), folder, config), folder


def pesq_or_floor(pesq: float | None, silent: bool | None) -> tuple[float | None, bool]:
    """PESQ-WB as plotted: a silent output (the cliff: the report's None) is the scale's floor, marked."""
    if pesq is None and silent:
        return PESQ_FLOOR, True
    return pesq, False


def heard_wer(env: BenchEnv, clip: str, audio) -> tuple[float, str]:
    """WER of the ASR of ``audio`` (16 kHz) against the clip's transcript (LRS2, GRID) or its original audio's ASR
    (HDTF), and what was heard."""
    import numpy as np

    from semtalk.bench.text_cells import clip_reference, transcribe
    from semtalk.metrics.text import wer

    heard = " ".join(w.text for w in transcribe(audio)) if np.any(audio) else ""
    return wer(clip_reference(env, clip), heard), heard


def received_audio(folder: Path, samples: int):
    """The call's ``received.wav`` at 16 kHz, cut or padded with silence to ``samples``."""
    import numpy as np

    from semtalk.media.reader import read_audio

    path = folder / "received.wav"
    audio = read_audio(path, rate=16000) if path.is_file() else np.zeros(0, np.float32)
    return np.pad(audio[:samples], (0, max(0, samples - audio.size))).astype(np.float32)


def _phy_columns(report: dict) -> dict:
    phy = report.get("phy") or {}
    return {k: phy.get(k) for k in ("packet_loss", "ber_uncoded", "ber_coded", "bler", "channel_uses_per_s")}


def wav2vid_call_method(task: Task, env: BenchEnv) -> dict:
    """One Wav2Vid call: held-out video quality, the audio as received (PESQ-WB, STOI, re-ASR WER) and what it cost."""
    p = task.params
    report, folder = call(env, task.clip, wav2vid_config(env, task.clip, p, task.seed, p["carrier"]))
    v, w, a = report["video"], report["wav2vid"], report.get("audio") or {}
    seconds = report["duration_s"]
    audio = received_audio(folder, round(seconds * 16000))
    wer_value, heard = heard_wer(env, task.clip, audio)
    pesq, floored = pesq_or_floor(a.get("pesq_wb"), a.get("silent"))
    symbols = w.get("channel_symbols") or {}
    return {"table": "curve", "system": f"wav2vid_{p['carrier']}",
            **{k: v.get(k) for k in ("psnr", "ssim", "ms_ssim", "vmaf", "concealed_frames")},
            "pesq_wb": pesq, "pesq_floor": floored, "stoi": a.get("stoi"), "wer": wer_value,
            "mouth_correlation": w.get("mouth_correlation"),
            "av_offset_ms": (report.get("speech") or {}).get("av_offset_ms"),
            **{k: w.get(k) for k in ("clips_sent", "clips_received", "frames_sent_fraction", "data_bytes",
                                     "data_bytes_clips", "data_bytes_audio", "rtp_bytes")},
            "audio_kbps": a.get("kbps"),
            "channel_symbols": symbols.get("total"),
            "audio_symbols_per_s": symbols["audio"] / seconds if "audio" in symbols else None,
            "clip_symbols_per_s": symbols["clips"] / seconds if "clips" in symbols else None,
            "audio_packet_loss": a["packets_lost"] / a["packets_sent"] if a.get("packets_sent") else None,
            **_phy_columns(report), "seconds": seconds,
            "details": json.dumps({"clips": w.get("clips"), "heard": heard, "audio": a,
                                   "latency_ms": w.get("latency_ms")}, sort_keys=True, default=str)}


def wav2vid_syncsc_method(task: Task, env: BenchEnv) -> dict:
    """The SyncSC call over the same radio: video quality, its TTS speech (PESQ-WB, re-ASR WER) and its bits."""
    p = task.params
    report, folder = call(env, task.clip, syncsc_config(env, task.clip, p, task.seed))
    v, s = report["video"], report.get("speech") or {}
    seconds = report["duration_s"]
    audio = received_audio(folder, round(seconds * 16000))
    wer_value, heard = heard_wer(env, task.clip, audio)
    pesq, floored = pesq_or_floor(s.get("pesq_wb"), not audio.any())
    return {"table": "curve", "system": "syncsc",
            **{k: v.get(k) for k in ("psnr", "ssim", "ms_ssim", "vmaf", "concealed_frames", "stream_kbps")},
            "pesq_wb": pesq, "pesq_floor": floored, "stoi": s.get("stoi"), "wer": wer_value,
            "received_wer": s.get("received_wer"), "words_sent": s.get("words_sent"),
            "words_received": s.get("words_received"), "av_offset_ms": s.get("av_offset_ms"),
            "text_bps": s.get("text_bps"), "timing_bps": s.get("timing_bps"), "prosody_bps": s.get("prosody_bps"),
            "channel_symbols": (report.get("phy") or {}).get("channel_uses"), **_phy_columns(report),
            "seconds": seconds,
            "details": json.dumps({"heard": heard, "received_text": s.get("received_text")}, sort_keys=True)}


# -- the suite ---------------------------------------------------------------------------------------------

def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: Wav2vidGrid | None = None,
              progress: bool = True) -> list[dict]:
    """Prepare every clip (KB, crops, ASR: the SyncSC suite's ``prepare``), run both phases, write the report."""
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run
    from semtalk.bench.wav2vid_report import write_all

    grid = grid or (Wav2vidGrid.quick() if options.quick else Wav2vidGrid.full())
    env = BenchEnv.of_suite(data, Path(out) / "work", grid.clips)
    cache = Path(out) / CACHE_NAME
    with open_executor(options.workers, options.scheduler) as executor:
        prepare_clips([Task.make("syncsc_prepare", c, options.seed, asr=True) for c in grid.clips], env, executor,
                      progress)
        rows = run(grid.calls(options.seed), env, executor, cache=cache, progress=progress, desc="wav2vid calls")
        rows += run(grid.derived(options.seed), env, executor, cache=cache, progress=progress, desc="wav2vid tables")
    write_all(rows, Path(out), describe(grid))
    return rows


def describe(grid: Wav2vidGrid) -> str:
    """One paragraph of what the grid ran, for results.md."""
    return (f"Clips: {', '.join(grid.clips)}. Channel: {grid.channel} (block fading held {grid.coherence} symbols, "
            f"perfect CSI), Es/N0 {', '.join(f'{s:g}' for s in grid.snrs)} dB. Wav2Vid: clips and Opus "
            f"({grid.audio_kbps:g} kbps) at {grid.modulation} + 5G LDPC {grid.ldpc_rate:g}, packet FEC {grid.fec}; "
            f"ASC analog. SyncSC and Txt2Vid's words: {grid.syncsc_modulation} + LDPC {grid.ldpc_rate:g}, "
            f"packet FEC {grid.syncsc_fec}. Table II at {grid.table_snr:g} dB. VMAF {'on' if grid.vmaf else 'off'}.")


def held_out(env: BenchEnv, clip: str):
    """The clip's prepared face crops (``bench.crops.FaceCrops``)."""
    from semtalk.bench.crops import FaceCrops

    return FaceCrops.load(crops_path(env, clip))


def encode_clip(frames, codec: str | None = None, kbps: float | None = None, preset: str | None = None):
    """A Wav2Vid clip as its sender codes it (``Wav2vidConfig``'s codec, bitrate and preset unless given; a None
    preset is the mode's tuned one for the codec, as at the sender): the ``EncodedVideo`` and the frames its
    receiver decodes."""
    from semtalk.media.video_codec import decode_video, encode_video
    from semtalk.modes.wav2vid.config import Wav2vidConfig, clip_preset
    from semtalk.modes.wav2vid.ends import FPS

    codec = codec or Wav2vidConfig.clip_codec
    encoded = encode_video(list(frames), codec, kbps or Wav2vidConfig.clip_kbps, FPS,
                           preset=clip_preset(codec, preset))
    return encoded, decode_video(encoded)
