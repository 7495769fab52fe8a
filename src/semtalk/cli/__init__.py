"""Command line: a thin layer over the Python API (``main(argv)`` is what the tests call)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from semtalk import __version__, registry
from semtalk.errors import SemtalkError


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="semtalk", description="Semantic communication of talking-face calls: "
                                "send head pose, expression and words; regenerate the face at the receiver.")
    p.add_argument("--version", action="version", version=f"semtalk {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a clip through sender → lossy channel → receiver",
                         description="Run a clip through the whole chain and write received.mp4, side_by_side.mp4 "
                                     "and report.json into --out.")
    run.add_argument("input", help="video file (mp4, mpg, avi, mkv, webm, ...)")
    run.add_argument("--out", required=True, help="output folder (created if missing)")
    _run_options(run)

    kb = sub.add_parser("kb", help="build or inspect a knowledge base").add_subparsers(dest="kb_command",
                                                                                      required=True, metavar="ACTION")
    build = kb.add_parser("build", help="build a KB from a clip's enrollment segment",
                          description="Build the knowledge base (reference frames, expression basis, quantiser "
                                      "ranges, mouth atlas, background) from the first seconds of a clip.")
    build.add_argument("input", help="video file")
    build.add_argument("--out", required=True, help="KB file to write (e.g. speaker.stkb)")
    build.add_argument("--enroll-seconds", type=float, default=2.0, help="enrollment length in seconds (default 2)")
    build.add_argument("--keyframes", type=int, default=10, help="keyframes in the semantic base (default 10, ≥ 1)")
    build.add_argument("--expr", type=int, default=6, help="expression coefficients (default 6)")
    build.add_argument("--voice-seconds", type=float, default=4.0,
                       help="audio used for the voice profile, in seconds (default 4)")
    build.add_argument("--no-voice", action="store_true", help="face only: no voice profile")
    build.add_argument("--lm-text", metavar="FILE", default=None,
                       help="text corpus (one sentence a line) for the KB's domain language model "
                            "(ASR prompt and correction, TextPC)")
    info = kb.add_parser("info", help="print what a KB file holds and its size",
                         description="Print a KB's hash, byte size per part and contents as JSON.")
    info.add_argument("kb_file", help="KB file")

    demo = sub.add_parser("demo", help="make the built-in sample clip and run it (what `make demo` runs)",
                          description="Animate a public-domain portrait bundled with scikit-image into a talking-head "
                                      "clip, then run it through the chain. Real clips give the real numbers.")
    demo.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    demo.add_argument("--loss", type=float, default=0.1, help="packet loss probability (default 0.1)")

    train = sub.add_parser("train", help="train a learned component on CPU").add_subparsers(
        dest="train_command", required=True, metavar="MODEL")
    pacsc = train.add_parser("pacsc", help="train PacSC, the learned packet FEC of the face stream",
                             description="Extract face codes from the clips in --data (cached in --cache), hold "
                                         "out the evaluation clips, train the rate-1/2 and rate-1/4 codes and save "
                                         "both in one weights file: the systematic code (--fec pacsc, seconds) or "
                                         "the paper's transformer (--fec pacsc-mae, minutes).")
    pacsc.add_argument("--data", required=True, help="folder of talking-face clips (or one with faces_av/)")
    pacsc.add_argument("--variant", choices=["systematic", "mae"], default="systematic",
                       help="systematic: codes + parity with a fitted prior (default); mae: the paper's transformer")
    pacsc.add_argument("--epochs", type=int, default=80,
                       help="mae only: epochs of 50 batches of 64 blocks (default 80)")
    pacsc.add_argument("--out", default=None,
                       help="weights file (default out/pacsc/pacsc_linear.npz, or out/pacsc/pacsc.pt for mae)")
    pacsc.add_argument("--cache", default="out/pacsc/codes", help="where extracted codes are cached")
    pacsc.add_argument("--threads", type=int, default=1,
                       help="torch CPU threads (default 1: the model is small; more pay only on an idle machine)")
    pacsc.add_argument("--seed", type=_positive_int, default=0, help="seed (default 0)")

    bench = sub.add_parser("bench", help="run a benchmark suite on real clips and write tables",
                           description="Reproduce the measured numbers: results.json and results.md in --out.")
    bench.add_argument("--suite", choices=["foundation", "speech", "syncsc"], default="foundation",
                       help="foundation (semtalk video alone), speech (the speech path on LRS2/GRID) or syncsc "
                            "(the paper's comparisons); default foundation")
    bench.add_argument("--data", default="../shared/data", help="data folder with faces_av/ (default ../shared/data)")
    bench.add_argument("--out", default="out/bench", help="output folder (default out/bench)")
    bench.add_argument("--quick", action="store_true", help="one clip, three loss points")
    bench.add_argument("--seed", type=_positive_int, default=0, help="seed (default 0)")
    where = bench.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=2,
                       help="syncsc: local Dask worker processes; 0 runs serially in this process (default 2)")
    where.add_argument("--scheduler", help="syncsc: address of an existing Dask scheduler (tcp://host:8786)")
    return p


def _run_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("mode, channel and FEC")
    g.add_argument("--mode", choices=registry.names("mode"), default="syncsc",
                   help="the system to run (default syncsc)")
    g.add_argument("--channel", choices=registry.names("channel"), default="bernoulli",
                   help="packet channel (default bernoulli; gilbert_elliott takes --burst)")
    g.add_argument("--loss", type=float, default=0.0, help="packet loss probability p in [0, 1] (default 0)")
    g.add_argument("--burst", type=float, default=1.0,
                   help="mean loss burst length L in packets, with --channel gilbert_elliott (default 1)")
    g.add_argument("--delay", type=float, default=0.0, help="one-way delay in seconds (default 0)")
    g.add_argument("--jitter", type=float, default=0.0, help="delay jitter (std, seconds; default 0)")
    g.add_argument("--fec", choices=registry.names("fec"), default="rs", help="packet FEC (default rs)")
    g.add_argument("--code-rate", type=float, default=0.5, help="FEC code rate k/n, e.g. 0.5 or 0.25 (default 0.5)")
    g.add_argument("--fec-k", type=int, default=4, help="source packets per FEC block (default 4)")
    g.add_argument("--frames-per-packet", type=int, default=5, help="video frames per RTP packet (default 5)")
    g = p.add_argument_group("semantics and knowledge base")
    g.add_argument("--enroll-seconds", type=float, default=2.0, help="KB enrollment segment length (default 2)")
    g.add_argument("--kb", help="use this KB file instead of building one from the clip")
    g.add_argument("--receiver-kb", help="the receiver's KB file (must match the stream's, else refused)")
    g.add_argument("--expr", dest="n_expr", type=int, default=6, help="expression coefficients (default 6)")
    g.add_argument("--keyframes", type=int, default=10, help="keyframes in the semantic base (default 10)")
    g = p.add_argument_group("speech")
    g.add_argument("--no-speech", dest="speech", action="store_false",
                   help="video only: mux the original audio, send no words")
    g.add_argument("--transcript", help="reference transcript (text file) to score the sender's ASR against")
    g.add_argument("--text-window", type=int, default=12,
                   help="words interleaved across FEC blocks per sending window, 1..16 (default 12)")
    g.add_argument("--no-prosody", dest="prosody", action="store_false",
                   help="send words and timing only, no F0/energy")
    g.add_argument("--voice-adapt", action="store_true",
                   help="convert the TTS voice toward the KB voice profile (off by default: it costs intelligibility)")
    g.add_argument("--voice-seconds", type=float, default=4.0,
                   help="enrollment audio for the KB voice profile, in seconds (default 4)")
    g.add_argument("--lm-text", metavar="FILE",
                   help="domain text (one sentence a line) for the KB's language model: prompts the sender's ASR, "
                        "corrects the words it misheard and helps TextPC guess lost words")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=_positive_int, default=0, help="seed of the channel and the KB clustering")
    g.add_argument("--max-seconds", type=float, help="only process the first seconds of the input")
    g.add_argument("--no-vmaf", dest="vmaf", action="store_false", help="skip VMAF (saves a few seconds)")
    g.add_argument("--quiet", dest="progress", action="store_false", help="no progress bar")


def _run_config(args: argparse.Namespace):
    from semtalk.call.run import RunConfig
    from semtalk.records import config_from

    return config_from(RunConfig, args)


def summary(report: dict, out: Path) -> str:
    """The few numbers a person looks at first."""
    v, n = report["video"], report["network"]
    if v["heldout_frames"] is None:
        quality = "  quality  not scored: every frame of the clip went into the KB (none held out)"
    else:
        quality = (f"  quality  held-out frames {v['heldout_frames']}: SSIM {_num(v['ssim'], '.3f')}, PSNR "
                   f"{_num(v['psnr'], 'g')} dB, MS-SSIM {_num(v['ms_ssim'], 'g')}, VMAF {_num(v['vmaf'], '.1f')}")
    silent = report.get("audio", {}).get("mode") == "none"
    no_audio = ["  speech   none: the input has no audio track"] if silent else []
    return "\n".join([
        f"semtalk: {report['input']} → {out}",
        f"  stream   {v['stream_kbps']:.2f} kbps coefficients ({v['bits_per_frame']:.1f} bits/frame), "
        f"{v['rtp_kbps']:.2f} kbps with RTP headers, {v['channel_kbps']:.2f} kbps on the channel; "
        f"KB {v['kb_bytes'] / 1024:.0f} KiB once",
        f"  network  {n['packets_lost']}/{n['packets_sent']} packets lost ({n['loss_rate']:.1%}), "
        f"{n['packets_recovered']} recovered by {n['fec']} FEC, {v['concealed_frames']} frames concealed",
        quality,
        f"  speed    {sum(v['ms_per_frame'].values()):.1f} ms/frame in all "
        f"(render {v['ms_per_frame'].get('render', 0):.1f})",
        *_speech_summary(report.get("speech")),
        *no_audio,
    ])


def _num(value, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _speech_summary(s: dict | None) -> list[str]:
    """The speech line of :func:`summary`, when the call regenerated speech."""
    if not s or s.get("mode") != "semantic":
        return []
    return [f"  speech   {s['words_sent']} words at {s['text_bps'] + s['timing_bps']:.0f} bps text + timing "
            f"(+{s['prosody_bps']:.0f} prosody), {s['concealed_words']} concealed; re-ASR WER "
            f"{_num(s['resynth_wer'], '.2f')}, AV offset {_num(s['av_offset_ms'], '+.0f')} ms "
            f"(original {_num(s['av_offset_ms_original'], '+.0f')})"]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SemtalkError as exc:
        print(f"semtalk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("semtalk: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from semtalk.call.run import run

        out = Path(args.out)
        report = run(args.input, out, _run_config(args))
        print(summary(report, out))
    elif args.command == "kb" and args.kb_command == "build":
        from semtalk.enroll.build import KbConfig, build_kb_file

        if args.keyframes < 1:
            raise SemtalkError(f"--keyframes must be ≥ 1, got {args.keyframes}")
        cfg = KbConfig(enroll_seconds=args.enroll_seconds, n_expr=args.expr, keyframes=args.keyframes,
                       voice=not args.no_voice, voice_seconds=args.voice_seconds, lm_text=args.lm_text)
        print(json.dumps(build_kb_file(args.input, args.out, config=cfg), indent=2))
    elif args.command == "kb" and args.kb_command == "info":
        from semtalk.kb.info import describe
        from semtalk.kb.knowledge_base import read_kb

        print(json.dumps(describe(*read_kb(args.kb_file)), indent=2))
    elif args.command == "bench":
        if args.suite == "syncsc":
            from semtalk.bench.syncsc import run_suite as run_syncsc

            run_syncsc(Path(args.data), Path(args.out), quick=args.quick, seed=args.seed, workers=args.workers,
                       scheduler=args.scheduler)
            print(f"{Path(args.out) / 'report.html'}\n")
        elif args.suite == "speech":
            from semtalk.bench.speech import run_suite as run_speech

            run_speech(Path(args.data), Path(args.out), quick=args.quick, seed=args.seed)
        else:
            from semtalk.bench.foundation import run_suite

            run_suite(Path(args.data), Path(args.out), quick=args.quick, seed=args.seed)
        print((Path(args.out) / "results.md").read_text())
    elif args.command == "train" and args.train_command == "pacsc":
        import torch

        from semtalk.learned.pacsc.train import TrainConfig, fit_and_save, train_and_save

        if args.epochs < 1:
            raise SemtalkError(f"--epochs must be ≥ 1, got {args.epochs}")
        if not Path(args.data).is_dir():
            raise SemtalkError(f"--data folder not found: {args.data}")
        torch.set_num_threads(max(1, args.threads))

        def log(line: str) -> None:
            print(line, flush=True)

        if args.variant == "systematic":
            fit_and_save(Path(args.data), Path(args.out or "out/pacsc/pacsc_linear.npz"), Path(args.cache),
                         seed=args.seed, log=log)
        else:
            train_and_save(Path(args.data), Path(args.out or "out/pacsc/pacsc.pt"), Path(args.cache),
                           TrainConfig(epochs=args.epochs, seed=args.seed), log=log)
    elif args.command == "demo":
        from semtalk.demo.run import run_demo

        out = Path(args.out)
        report = run_demo(out, loss=args.loss)
        print(summary(report, out))
        print("  note     this is a synthetic sample animated from one portrait; run real clips "
              "(`semtalk run CLIP --out DIR`) for real numbers")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
