"""Command line: a thin layer over the Python API (``main(argv)`` is what the tests call).

One module per verb (``run``, ``kb``, ``bench``, ``train``, ``demo``); each adds its subparser and sets
``handler`` on it, so there is no dispatch chain here. Heavy imports live inside the handlers, so
``semtalk --help`` stays fast. Errors are one line and exit status 2; Ctrl-C (130) and SIGTERM (143) unwind the
same way, so every ``finally`` and context manager removes its temporary files.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from semtalk import __version__
from semtalk.cli.summary import summary
from semtalk.errors import SemtalkError

__all__ = ["main", "summary"]


class _UsageError(Exception):
    """A bad command line, reported as one line (not argparse's usage block)."""


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line and exit status 2 (see :func:`main`)."""

    def error(self, message: str):  # type: ignore[override]
        raise _UsageError(f"{message} (see `{self.prog} --help`)")

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        """Unknown arguments are refused by the innermost verb's parser (`semtalk run --help`), not left to the
        top-level one, whose help does not list the verb's options."""
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt: one cleanup path serves both."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While a command runs, SIGTERM interrupts it as Ctrl-C does instead of killing the process outright (which
    would leave its temporary files behind). Signal handlers can only be set from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parser() -> Parser:
    from semtalk.cli import bench, demo, kb, live, run, train

    p = Parser(prog="semtalk", description="Semantic communication of talking-face calls: "
               "send head pose, expression and words; regenerate the face at the receiver.")
    p.add_argument("--version", action="version", version=f"semtalk {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for verb in (run, kb, demo, train, bench, live):
        verb.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (0, 2 for an error, 128 + the signal number when interrupted)."""
    try:
        with _sigterm_interrupts():
            args = _parser().parse_args(argv)
            return args.handler(args) or 0
    except (SemtalkError, OSError, _UsageError) as exc:  # OSError: a full disk, a folder that vanished, ...
        print(f"semtalk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("semtalk: interrupted; no partial outputs left", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
