"""``semtalk kb build|info``: build a knowledge base from a clip, or print what a KB file holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from semtalk import registry
from semtalk.errors import SemtalkError


def add_parser(sub) -> None:
    kb = sub.add_parser("kb", help="build or inspect a knowledge base").add_subparsers(
        dest="kb_command", required=True, metavar="ACTION")
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
    build.add_argument("--image-codec", choices=registry.names("image_codec"), default="webp",
                       help="codec of the KB's pictures; seb: the learned set codec (docs/seb.md) (default webp)")
    build.add_argument("--image-quality", type=int, default=None,
                       help="that codec's quality 1..100 (default: webp 90, seb 72, avif 60, jpeg2000 60, jpeg 85)")
    build.add_argument("--lm-text", metavar="FILE", default=None,
                       help="text corpus (one sentence a line) for the KB's domain language model "
                            "(ASR prompt and correction, TextPC)")
    build.set_defaults(handler=handle_build)
    info = kb.add_parser("info", help="print what a KB file holds and its size",
                         description="Print a KB's hash, byte size per part and contents as JSON.")
    info.add_argument("kb_file", help="KB file")
    info.set_defaults(handler=handle_info)


def handle_build(args: argparse.Namespace) -> int:
    from semtalk.call.run import check_kb_config, check_output_dir
    from semtalk.enroll.build import KbConfig, build_kb_file

    cfg = KbConfig(enroll_seconds=args.enroll_seconds, n_expr=args.expr, keyframes=args.keyframes,
                   voice=not args.no_voice, voice_seconds=args.voice_seconds, lm_text=args.lm_text,
                   image_codec=args.image_codec, image_quality=args.image_quality)
    check_kb_config(cfg)
    out = Path(args.out)
    if out.is_dir():
        raise SemtalkError(f"--out {out} is a folder: give the KB file to write, e.g. {out / 'speaker.stkb'}")
    check_output_dir(out.parent)
    print(json.dumps(build_kb_file(args.input, out, config=cfg), indent=2))
    return 0


def handle_info(args: argparse.Namespace) -> int:
    from semtalk.kb.info import describe
    from semtalk.kb.knowledge_base import read_kb

    print(json.dumps(describe(*read_kb(args.kb_file)), indent=2))
    return 0
