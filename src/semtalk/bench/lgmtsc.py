"""The LGM-TSC suite: LGM-TSC (seed paper 3, ``--mode lgmtsc``) against separate coding and its baselines.

``semtalk bench --suite lgmtsc`` measures what the paper's Figs. 8, 9 and 11 show:

- Fig. 9, text over the radio, downstream (``lgmtsc_text``, one cell per variant, channel and SNR): BBC News
  topic accuracy, BLEU and semantic similarity of held-out articles sent by the learned coder with and without the
  LM knowledge base, and by Huffman or 5-bit text over LDPC + QPSK, with each article's channel uses;
- Fig. 11, whole calls (``lgmtsc_call``, ``lgmtsc_txt2vid``): LGM-TSC against the Txt2Vid-like baseline of the
  Wav2Vid suite (``bench.txt2vid``) over AWGN and Rayleigh: video quality, mouth correlation, the received words'
  BLEU and semantic similarity against the clip's transcript, and channel uses;
- Fig. 8, what is sent (``lgmtsc_fig8``, ``bench.lgmtsc_cells``): the compression ratio of LGM-TSC's text against
  H.264 and AV1 (with AAC, Opus) of the same clips and semtalk's SyncSC and Wav2Vid calls.

Three phases: the calls and the text cells; the Txt2Vid cells (each runs the SyncSC call over the same radio that
gives it its words); Fig. 8, which reads the calls at ``fig8_snr``. SyncSC's call folder (``wav2vid.call_folder``)
does not name the channel, so each channel has its own work folder, the prepared clips hard-linked into it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from semtalk.bench.lgmtsc_text import COHERENCE, VARIANTS
from semtalk.bench.runner import BenchEnv, BenchOptions, Task
from semtalk.bench.wav2vid import CLIPS

TEXT_SNRS = tuple(float(s) for s in range(-4, 21, 2))
CALL_SNRS = (0.0, 4.0, 10.0, 20.0)
CHANNELS = ("awgn", "rayleigh")
CORPUS = "bbc_news"  # the text cells' "clip"
CLASSIFIER = "bbc_classifier.pkl"
KB_NAME = "lgmtsc.stkb"
PREPARED = ("kb.stkb", "crops.npz", "asr_words.json", KB_NAME)  # what a channel's work folder shares


@dataclass(frozen=True)
class LgmtscGrid:
    """The suite's axes. ``full()``: 100 articles, −4…20 dB in 2-dB steps, calls at 0, 4, 10, 20 dB on six clips;
    ``quick()``: 15 articles at 0, 4, 10 dB, one clip at 0 and 20 dB, no VMAF. ``lm``: the knowledge base's
    backend in the calls (the text cells use the n-gram). ``fig8_snr`` and the Rayleigh channel: the calls
    Fig. 8 reads (what a sender sends depends on the SNR only through the length class)."""

    clips: tuple[str, ...] = CLIPS
    channels: tuple[str, ...] = CHANNELS
    text_snrs: tuple[float, ...] = TEXT_SNRS
    call_snrs: tuple[float, ...] = CALL_SNRS
    articles: int = 100
    variants: tuple[str, ...] = tuple(v.name for v in VARIANTS)
    lm: str = "ngram"
    vmaf: bool = True
    fig8_snr: float = 20.0

    @classmethod
    def full(cls) -> LgmtscGrid:
        return cls()

    @classmethod
    def quick(cls) -> LgmtscGrid:
        return cls(clips=CLIPS[:1], text_snrs=(0.0, 4.0, 10.0), call_snrs=(0.0, 20.0), articles=15, vmaf=False)

    def text(self, seed: int = 0) -> list[Task]:
        """Fig. 9: every variant at every channel and SNR, and once noiselessly (channel ``none``)."""
        out = [Task.make("lgmtsc_text", CORPUS, seed, variant=v, channel="none", snr=None, articles=self.articles)
               for v in self.variants]
        return out + [Task.make("lgmtsc_text", CORPUS, seed, variant=v, channel=ch, snr=s, articles=self.articles)
                      for ch in self.channels for s in self.text_snrs for v in self.variants]

    def call(self, clip: str, seed: int, channel: str, snr: float, coder: str = "learned") -> Task:
        return Task.make("lgmtsc_call", clip, seed, channel=channel, snr=snr, text_coder=coder, lm=self.lm,
                         score_vmaf=self.vmaf)

    def calls(self, seed: int = 0) -> dict[str, list[Task]]:
        """Phase 1 per channel: LGM-TSC per clip and SNR; on Rayleigh also Fig. 8's Huffman LGM-TSC and Wav2Vid."""
        from semtalk.bench.wav2vid import Wav2vidGrid

        out: dict[str, list[Task]] = {}
        for ch in self.channels:
            out[ch] = [self.call(c, seed, ch, s) for c in self.clips for s in self.call_snrs]
            if ch == "rayleigh":
                out[ch] += [self.call(c, seed, ch, self.fig8_snr, "huffman") for c in self.clips]
                out[ch] += [Task.make("wav2vid_call", c, seed, carrier="opus", snr=self.fig8_snr, score_vmaf=False,
                                      **Wav2vidGrid().radio()) for c in self.clips]
        return out

    def txt2vid(self, seed: int = 0) -> dict[str, list[Task]]:
        """Phase 2 per channel: Txt2Vid per clip and SNR (words over SyncSC's radio, as in the Wav2Vid suite)."""
        from semtalk.bench.wav2vid import Wav2vidGrid

        return {ch: [Task.make("lgmtsc_txt2vid", c, seed, snr=s, score_vmaf=self.vmaf,
                               **Wav2vidGrid(channel=ch).syncsc_radio()) for c in self.clips for s in self.call_snrs]
                for ch in self.channels}

    def fig8(self, seed: int = 0) -> list[Task]:
        """Phase 3 (Rayleigh's work folder): Fig. 8 per clip."""
        return [Task.make("lgmtsc_fig8", c, seed, snr=self.fig8_snr, lm=self.lm) for c in self.clips]


# -- Fig. 9 --------------------------------------------------------------------------------------------------

def lgmtsc_text_method(task: Task, env: BenchEnv) -> dict:
    """One Fig. 9 point: the held-out articles by one variant over one channel at one SNR, scored."""
    from semtalk.bench import lgmtsc_text as lt

    p = task.params
    articles = lt.held_out_articles(p["articles"], task.seed)
    sent = [lt.article_sentences(a.text) for a in articles]
    v = lt.variant(p["variant"])
    scores = lt.score(lt.classifier(Path(env.work) / CLASSIFIER), articles, sent,
                      lt.send(sent, v, p["channel"], p["snr"], task.seed))
    details = scores.pop("per_article")
    return {"table": "text", "system": v.name, "coder": v.coder, "lm": v.lm, **scores,
            "textcoder": lt.weights_id() if v.coder == "learned" else None,
            "details": json.dumps(details, sort_keys=True)}


# -- the calls -----------------------------------------------------------------------------------------------

def kb_file(env: BenchEnv, clip: str) -> Path:
    return env.clip_dir(clip) / KB_NAME


def lgmtsc_prepare(task: Task, env: BenchEnv) -> dict:
    """The clip's LGM-TSC knowledge base (portrait: its first face; its voice profile), enrolled once."""
    from semtalk.atomic import atomic_bytes
    from semtalk.call.run import RunConfig
    from semtalk.modes.lgmtsc.mode import LgmtscMode

    path = kb_file(env, task.clip)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        kb = LgmtscMode.enroll(env.clip_path(task.clip), RunConfig(mode="lgmtsc", seed=task.seed))
        atomic_bytes(path, kb.to_bytes())
    return {"kb_bytes": path.stat().st_size}


def share_prepared(source: BenchEnv, target: BenchEnv, clip: str) -> None:
    """Hard-link (copy across file systems) a clip's prepared files into another channel's work folder."""
    import shutil

    folder = target.clip_dir(clip)
    folder.mkdir(parents=True, exist_ok=True)
    for name in PREPARED:
        src, dst = source.clip_dir(clip) / name, folder / name
        if src.is_file() and not dst.exists():
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)


def lgmtsc_config(env: BenchEnv, clip: str, params: dict, seed: int):
    """The ``RunConfig`` of an LGM-TSC cell's call: the clip's prepared KB, the call's radio, the video written
    (the mouth is measured on it)."""
    from semtalk.call.run import RunConfig

    transcript = env.clip_path(clip).with_suffix(".txt")
    return RunConfig(mode="lgmtsc", kb=str(kb_file(env, clip)), channel=params["channel"], snr=params["snr"],
                     coherence=COHERENCE, fec="none", text_coder=params["text_coder"], lm=params["lm"], seed=seed,
                     vmaf=bool(params.get("score_vmaf", False)), progress=False,
                     transcript=str(transcript) if transcript.is_file() else None)


def lgmtsc_folder(env: BenchEnv, clip: str, p: dict) -> Path:
    """Where an LGM-TSC call writes: a folder per channel, text coder, LM and SNR."""
    return env.clip_dir(clip) / "lgmtsc" / f"{p['channel']}_{p['text_coder']}_{p['lm']}_{p['snr']:g}dB"


def lgmtsc_run(env: BenchEnv, clip: str, params: dict, seed: int, fresh: bool = True) -> tuple[dict, Path]:
    """The LGM-TSC call's report and folder: run now (``fresh``), or read back when an earlier cell ran it."""
    from semtalk.call.run import run

    folder = lgmtsc_folder(env, clip, params)
    if not fresh and (folder / "report.json").is_file():
        return json.loads((folder / "report.json").read_text()), folder
    return run(env.clip_path(clip), folder, lgmtsc_config(env, clip, params, seed)), folder


def equal_packets(total: float, packets: int) -> list[float]:
    """``packets`` equal packets holding ``total`` bytes (where a report gives only the total)."""
    return [total / packets] * packets if packets > 0 and total > 0 else []


def text_scores(reference: str, received: str) -> dict:
    """The received words against the clip's transcript (its ASR for HDTF): BLEU and semantic similarity."""
    from semtalk.metrics.text import bleu, semantic_similarity

    return {"bleu": bleu(reference, received), "semantic_similarity": semantic_similarity(reference, received)}


def shown_mouth(env: BenchEnv, clip: str, video: Path) -> float | None:
    """Mouth correlation of a call's ``received.mp4`` with the original, on the prepared crops' held-out frames."""
    from semtalk.bench.txt2vid import mouth_correlation
    from semtalk.bench.wav2vid import held_out
    from semtalk.media.reader import read_video

    crops = held_out(env, clip)
    shown = list(read_video(video, fps=crops.fps))[crops.heldout_start:len(crops.frames)]
    return mouth_correlation(list(crops.heldout[:len(shown)]), shown) if shown else None


def lgmtsc_call_method(task: Task, env: BenchEnv) -> dict:
    """One LGM-TSC call: video quality, mouth, the words against the transcript, what it cost on the air."""
    from semtalk.bench.lgmtsc_text import weights_id
    from semtalk.bench.text_cells import clip_reference

    p = task.params
    report, folder = lgmtsc_run(env, task.clip, p, task.seed)
    v, s, g = report["video"], report.get("speech") or {}, report["lgmtsc"]
    return {"table": "call", "system": f"lgmtsc_{p['text_coder']}",
            **{k: v.get(k) for k in ("psnr", "ssim", "ms_ssim", "vmaf")},
            "mouth_correlation": shown_mouth(env, task.clip, folder / "received.mp4"),
            **text_scores(clip_reference(env, task.clip), s.get("received_text") or ""),
            "similarity_to_recognised": s.get("semantic_similarity"), "av_offset_ms": s.get("av_offset_ms"),
            **{k: g.get(k) for k in ("length_class", "sentences", "chars_in", "chars_out", "symbols",
                                     "symbols_unique", "text_bytes", "rtp_bytes", "channel_uses")},
            "seconds": report["duration_s"], "textcoder": weights_id() if p["text_coder"] == "learned" else None,
            "details": json.dumps({"received_text": s.get("received_text"),
                                   "recognised_text": s.get("recognised_text")}, sort_keys=True)}


def lgmtsc_txt2vid_method(task: Task, env: BenchEnv) -> dict:
    """The Txt2Vid-like baseline (``bench.txt2vid``) with the same text scores and its payload's channel uses
    (words and reference clip through CRC + LDPC 1/2 + QPSK)."""
    from semtalk.bench.lgmtsc_text import digital_radio
    from semtalk.bench.text_cells import clip_reference
    from semtalk.bench.txt2vid import reference_frames, txt2vid_method
    from semtalk.bench.wav2vid import held_out
    from semtalk.bench.wav2vid_cells import payload_symbols

    row = txt2vid_method(task, env)
    received = json.loads(row["details"]).get("received_text") or ""
    _, reference = reference_frames(held_out(env, task.clip))
    sizes = equal_packets(row["words_bytes"], row.get("words_sent") or 0) + [len(x) for x in reference.packets]
    return {**row, "table": "call", **text_scores(clip_reference(env, task.clip), received),
            "channel_uses": payload_symbols(digital_radio(task.params["channel"]), sizes)}


# -- the suite ---------------------------------------------------------------------------------------------

def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: LgmtscGrid | None = None,
              progress: bool = True) -> list[dict]:
    """Prepare the clips (the SyncSC suite's KB, crops and ASR; LGM-TSC's KB) and the classifier, run the three
    phases, write the report."""
    from semtalk.bench import lgmtsc_text
    from semtalk.bench.lgmtsc_report import write_all
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run

    grid = grid or (LgmtscGrid.quick() if options.quick else LgmtscGrid.full())
    envs = {ch: BenchEnv.of_suite(data, Path(out) / "work" / ch, grid.clips) for ch in grid.channels}
    main = envs.get("rayleigh") or next(iter(envs.values()))
    lgmtsc_text.classifier(Path(main.work) / CLASSIFIER)  # trained once here, before the workers need it
    cache = Path(out) / CACHE_NAME
    with open_executor(options.workers, options.scheduler) as executor:
        tasks = [Task.make(m, c, options.seed, **({"asr": True} if m == "syncsc_prepare" else {}))
                 for c in grid.clips for m in ("syncsc_prepare", "lgmtsc_prepare")]
        prepare_clips(tasks, main, executor, progress)
        for env in envs.values():
            for clip in grid.clips:
                share_prepared(main, env, clip)
        rows = run(grid.text(options.seed), main, executor, cache=cache, progress=progress, desc="lgmtsc text")
        for ch, tasks in grid.calls(options.seed).items():
            rows += run(tasks, envs[ch], executor, cache=cache, progress=progress, desc=f"lgmtsc calls {ch}")
        for ch, tasks in grid.txt2vid(options.seed).items():
            rows += run(tasks, envs[ch], executor, cache=cache, progress=progress, desc=f"txt2vid {ch}")
        if "rayleigh" in envs:
            rows += run(grid.fig8(options.seed), envs["rayleigh"], executor, cache=cache, progress=progress,
                        desc="fig. 8")
    write_all(rows, Path(out), describe(grid))
    return rows


def describe(grid: LgmtscGrid) -> str:
    """One paragraph of what the grid ran, for results.md."""
    return (f"Fig. 9: {grid.articles} held-out BBC News articles (first 3 sentences, spoken form), "
            f"{', '.join(grid.channels)} at {', '.join(f'{s:g}' for s in grid.text_snrs)} dB and noiseless; "
            f"fading blocks of {COHERENCE} symbols, perfect CSI. Calls (Figs. 8, 11): {', '.join(grid.clips)} at "
            f"{', '.join(f'{s:g}' for s in grid.call_snrs)} dB; LGM-TSC with the learned coder, LM {grid.lm}, "
            f"length class by ANFIS; Txt2Vid's words over SyncSC's QPSK + LDPC 1/2 + RS. Fig. 8 at "
            f"Rayleigh {grid.fig8_snr:g} dB. VMAF {'on' if grid.vmaf else 'off'}.")
