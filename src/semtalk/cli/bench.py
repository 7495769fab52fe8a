"""``semtalk bench --suite NAME``: run a registered benchmark suite and print its results.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from semtalk import registry
from semtalk.cli.options import non_negative_int


def add_parser(sub) -> None:
    suites = registry.names("bench_suite")
    bench = sub.add_parser("bench", help="run a benchmark suite on real clips and write tables",
                           description="Reproduce the measured numbers: results.json and results.md in --out.")
    bench.add_argument("--suite", choices=suites, default="foundation",
                       help=f"one of {', '.join(suites)}: foundation (semtalk video alone), speech (the speech path "
                            "on LRS2/GRID), syncsc (the paper's comparisons), pacsc (the learned face FEC sweep), "
                            "radio (semtalk and codec + LDPC + QAM against SNR over AWGN and Rayleigh); default "
                            "foundation")
    bench.add_argument("--data", default="../shared/data", help="data folder with faces_av/ (default ../shared/data)")
    bench.add_argument("--out", default="out/bench", help="output folder (default out/bench)")
    bench.add_argument("--quick", action="store_true", help="a small grid: one clip, a few points (≤ 5 minutes)")
    bench.add_argument("--seed", type=non_negative_int, default=0, help="seed (default 0)")
    bench.add_argument("--cache", metavar="DIR", default=None,
                       help="where a suite keeps expensive intermediate results between runs (e.g. pacsc's face "
                            "codes); default: none")
    where = bench.add_mutually_exclusive_group()
    where.add_argument("--workers", type=non_negative_int, default=2,
                       help="local Dask worker processes of the suites that use them; 0 runs serially in this "
                            "process (default 2)")
    where.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:8786)")
    bench.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from semtalk.bench.runner import BenchOptions

    out = Path(args.out)
    options = BenchOptions(quick=args.quick, seed=args.seed, workers=args.workers, scheduler=args.scheduler,
                           cache=Path(args.cache) if args.cache else None)
    registry.get("bench_suite", args.suite)(Path(args.data), out, options)
    if (out / "report.html").is_file():
        print(f"{out / 'report.html'}\n")
    print((out / "results.md").read_text())
    return 0
