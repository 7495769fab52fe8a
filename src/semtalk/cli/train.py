"""``semtalk train pacsc``: train a learned component on CPU."""

from __future__ import annotations

import argparse
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
