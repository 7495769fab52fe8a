"""``semtalk demo``: make the built-in sample clip and run it (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from semtalk.cli.summary import summary


def add_parser(sub) -> None:
    demo = sub.add_parser("demo", help="make the built-in sample clip and run it (what `make demo` runs)",
                          description="Animate a public-domain portrait bundled with scikit-image into a talking-head "
                                      "clip, then run it through the chain. Real clips give the real numbers.")
    demo.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    demo.add_argument("--loss", type=float, default=0.1, help="packet loss probability (default 0.1)")
    demo.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from semtalk.demo.run import run_demo

    out = Path(args.out)
    report = run_demo(out, loss=args.loss)
    print(summary(report, out))
    print("  note     this is a synthetic sample animated from one portrait; run real clips "
          "(`semtalk run CLIP --out DIR`) for real numbers")
    return 0
