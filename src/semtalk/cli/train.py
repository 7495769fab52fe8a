"""``semtalk train pacsc | asc | lips | textcoder | anfis | seb``: train a learned component on CPU."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from semtalk.cli.options import non_negative_int
from semtalk.errors import SemtalkError


def add_parser(sub) -> None:
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
    pacsc.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    pacsc.set_defaults(handler=handle_pacsc)
    asc = train.add_parser("asc", help="train ASC, Wav2Vid's learned analog audio coder",
                           description="Synthesise piper speech (cached in --cache), read the speech/ files and GRID "
                                       "clips' audio in --data, hold out a LibriSpeech utterance and some sentences, "
                                       "train through Rayleigh/AWGN at 0–20 dB until --steps or --minutes, evaluate "
                                       "and save the weights (float16).")
    asc.add_argument("--data", required=True, help="folder with speech/ and faces_av/ (only grid_* clips are used)")
    asc.add_argument("--out", default="out/asc/asc.pt", help="weights file (default out/asc/asc.pt)")
    asc.add_argument("--cache", default="out/asc", help="where the synthesised speech is cached (default out/asc)")
    asc.add_argument("--minutes", type=float, default=25.0,
                     help="training time budget in minutes, at most 30 (default 25)")
    asc.add_argument("--steps", type=int, default=None,
                     help="train exactly this many steps (within the budget; default: as many as fit)")
    asc.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    asc.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    asc.set_defaults(handler=handle_asc)
    text = train.add_parser("textcoder", help="train LGM-TSC's learned text coder (text → analog symbols → text)",
                            description="Learn a byte-level BPE from the BBC News training split and gensim's "
                                        "English corpora (shipped Python packages; nothing is downloaded), train "
                                        "the transformer coder through AWGN/Rayleigh at -2…20 dB until --steps or "
                                        "--minutes, evaluate on held-out BBC sentences and save the weights "
                                        "(float16) with the tokenizer beside them.")
    text.add_argument("--out", default="out/textcoder/textcoder.pt",
                      help="weights file; the tokenizer goes beside it (default out/textcoder/textcoder.pt)")
    text.add_argument("--minutes", type=float, default=25.0,
                      help="training time budget in minutes, at most 30 (default 25)")
    text.add_argument("--steps", type=int, default=None,
                      help="train exactly this many steps (within the budget; default: as many as fit)")
    text.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    text.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    text.set_defaults(handler=handle_textcoder)
    lips = train.add_parser("lips", help="train the lip track of Wav2Vid's talking head (audio → mouth opening)",
                            description="Landmark the grid_*.mpg clips in --data (or --data/faces_av), read their "
                                        "audio and fit the two ridge read-outs of semtalk.generators.lips (closed "
                                        "form: deterministic, no seed; about 10 s on 2 cores). Only GRID is read.")
    lips.add_argument("--data", required=True, help="folder with the GRID clips (or one with faces_av/)")
    lips.add_argument("--out", default="out/lips/lips.npz", help="weights file (default out/lips/lips.npz)")
    lips.set_defaults(handler=handle_lips)
    anfis = train.add_parser("anfis", help="fit LGM-TSC's ANFIS length controller (SNR → full, medium or short text)",
                             description="Shorten training sentences to each length class with the language model, "
                                         "send them through the learned text coder over AWGN at each SNR (a fixed "
                                         "energy per message), score the semantic similarity to the full sentence "
                                         "and fit the controller by hybrid learning (least squares + gradient).")
    anfis.add_argument("--sentences", type=_positive_int, default=200,
                       help="training sentences to score (default 200)")
    anfis.add_argument("--snrs", type=_snr_list, default=list(range(-4, 21, 2)),
                       help="SNRs in dB, comma-separated, e.g. --snrs=-4,0,8 (default -4,-2,...,20)")
    anfis.add_argument("--lm", default="ngram", help="registered language model that shortens the text (default ngram)")
    anfis.add_argument("--epochs", type=_positive_int, default=200, help="hybrid-learning epochs (default 200)")
    anfis.add_argument("--out", default="out/anfis/anfis.json", help="parameter file (default out/anfis/anfis.json)")
    anfis.add_argument("--minutes", type=float, default=20.0,
                       help="time budget for scoring sentences; the fit uses those done (default 20)")
    anfis.add_argument("--seed", type=non_negative_int, default=0, help="channel noise seed (default 0)")
    anfis.set_defaults(handler=handle_anfis)
    seb = train.add_parser("seb", help="train Seb, the learned image-set codec of the KB's pictures",
                           description="Train Seb (docs/seb.md) on the enrollment segments (first 2 s) of the clips "
                                       "in --data/faces_av, but the held-out ones, and scikit-image's photographs; "
                                       "--init fine-tunes shipped or saved weights at another --lam.")
    seb.add_argument("--data", required=True, help="folder with faces_av/")
    seb.add_argument("--out", default="out/seb/seb.pt", help="weights file (default out/seb/seb.pt)")
    seb.add_argument("--lam", type=float, default=0.013, help="rate–distortion weight λ (default 0.013)")
    seb.add_argument("--init", default=None, help="start from this weights file (fine-tuning)")
    seb.add_argument("--minutes", type=float, default=20.0, help="time budget in minutes (default 20, at most 60)")
    seb.add_argument("--steps", type=int, default=None, help="a fixed step count (with --seed: reproducible)")
    seb.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    seb.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    seb.set_defaults(handler=handle_seb)


def handle_pacsc(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise SemtalkError(f"--epochs must be ≥ 1, got {args.epochs}")
    if not Path(args.data).is_dir():
        raise SemtalkError(f"--data folder not found: {args.data}")
    import torch

    from semtalk.learned.pacsc.train import TrainConfig, fit_and_save, train_and_save

    torch.set_num_threads(max(1, args.threads))

    def log(line: str) -> None:
        print(line, flush=True)

    if args.variant == "systematic":
        fit_and_save(Path(args.data), Path(args.out or "out/pacsc/pacsc_linear.npz"), Path(args.cache),
                     seed=args.seed, log=log)
    else:
        train_and_save(Path(args.data), Path(args.out or "out/pacsc/pacsc.pt"), Path(args.cache),
                       TrainConfig(epochs=args.epochs, seed=args.seed), log=log)
    return 0


def handle_asc(args: argparse.Namespace) -> int:
    from semtalk.learned.asc.train import MAX_MINUTES, TrainConfig, train_and_save

    if not 0 < args.minutes <= MAX_MINUTES:
        raise SemtalkError(f"--minutes must be in (0, {MAX_MINUTES:g}], got {args.minutes}")
    if args.steps is not None and args.steps < 1:
        raise SemtalkError(f"--steps must be ≥ 1, got {args.steps}")
    if not Path(args.data).is_dir():
        raise SemtalkError(f"--data folder not found: {args.data}")
    import torch

    torch.set_num_threads(max(1, args.threads))
    try:
        train_and_save(Path(args.data), Path(args.out), Path(args.cache),
                       TrainConfig(minutes=args.minutes, steps=args.steps, seed=args.seed),
                       log=lambda line: print(line, flush=True))
    except FileNotFoundError as exc:
        raise SemtalkError(str(exc)) from exc
    return 0


def handle_textcoder(args: argparse.Namespace) -> int:
    from semtalk.learned.textcoder.train import MAX_MINUTES, TrainConfig, train_and_save

    if not 0 < args.minutes <= MAX_MINUTES:
        raise SemtalkError(f"--minutes must be in (0, {MAX_MINUTES:g}], got {args.minutes}")
    if args.steps is not None and args.steps < 1:
        raise SemtalkError(f"--steps must be ≥ 1, got {args.steps}")
    import torch

    torch.set_num_threads(max(1, args.threads))
    train_and_save(Path(args.out), TrainConfig(minutes=args.minutes, steps=args.steps, seed=args.seed),
                   log=lambda line: print(line, flush=True))
    return 0


def handle_lips(args: argparse.Namespace) -> int:
    from semtalk.generators.lips import train

    if not Path(args.data).is_dir():
        raise SemtalkError(f"--data folder not found: {args.data}")
    try:
        train(Path(args.data), Path(args.out), log=lambda line: print(line, flush=True))
    except FileNotFoundError as exc:
        raise SemtalkError(str(exc)) from exc
    return 0


def _positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {value}")
    return value


def _snr_list(text: str) -> list[float]:
    """SNRs written as ``-4,0,4.5``."""
    try:
        snrs = [float(part) for part in text.split(",")]
    except ValueError:
        snrs = []
    if not snrs or not all(math.isfinite(s) for s in snrs):
        raise argparse.ArgumentTypeError(f"not a comma-separated list of SNRs in dB: {text!r}")
    return snrs


def handle_anfis(args: argparse.Namespace) -> int:
    from semtalk.learned.anfis.train import train_and_save

    if not args.minutes > 0:
        raise SemtalkError(f"--minutes must be > 0, got {args.minutes}")
    try:
        train_and_save(Path(args.out), sentences=args.sentences, snrs=args.snrs, lm=args.lm, seed=args.seed,
                       minutes=args.minutes, epochs=args.epochs, log=lambda line: print(line, flush=True))
    except ValueError as exc:  # an unknown --lm (the registry lists the names), no sentences: one line
        raise SemtalkError(str(exc)) from exc
    return 0


def handle_seb(args: argparse.Namespace) -> int:
    from semtalk.learned.seb.train import MAX_MINUTES, TrainConfig, train_and_save

    if not 0 < args.minutes <= MAX_MINUTES:
        raise SemtalkError(f"--minutes must be in (0, {MAX_MINUTES:g}], got {args.minutes}")
    if args.steps is not None and args.steps < 1:
        raise SemtalkError(f"--steps must be ≥ 1, got {args.steps}")
    if not args.lam > 0 or not math.isfinite(args.lam):
        raise SemtalkError(f"--lam must be a positive number, got {args.lam}")
    if not (Path(args.data) / "faces_av").is_dir():
        raise SemtalkError(f"--data must hold faces_av/: {args.data}")
    if args.init is not None and not Path(args.init).is_file():
        raise SemtalkError(f"--init weights not found: {args.init}")
    import torch

    torch.set_num_threads(max(1, args.threads))
    fine_tune = args.init is not None
    cfg = TrainConfig(lam=args.lam, minutes=args.minutes, steps=args.steps, seed=args.seed,
                      lr=3e-4 if fine_tune else 1e-3, warmup=10 if fine_tune else 50)
    train_and_save(Path(args.data), Path(args.out), cfg, Path(args.init) if fine_tune else None,
                   log=lambda line: print(line, flush=True))
    return 0
