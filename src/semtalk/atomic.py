"""Outputs that appear complete or not at all.

A file is written under a hidden temporary name beside its final one and renamed into place (``os.replace``
is atomic within a folder), so a full disk, an error, Ctrl-C or SIGTERM never leaves a truncated file that
looks finished: a KB that will not parse, an mp4 without its index, a report that describes no run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType


def atomic_bytes(path: Path, data: bytes) -> None:
    """Write then rename, so no reader (another bench worker, a later ``--kb`` run) sees half a file; the
    temporary name carries the pid because workers may write the same file at once."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only still there when the write or the rename failed


class StagedFiles:
    """The outputs of one job in ``folder``, renamed into place together only when the job succeeds.

    ``path(name)`` is where to write ``name`` meanwhile (``.name.partial``); ``scratch`` is a folder for
    intermediate files, inside ``folder`` so that it shares its disk and is never left in /tmp. ``commit()``
    renames the files in the order they were staged, so the last one (the report) marks a complete job;
    leaving the block without a commit (any exception, KeyboardInterrupt included) removes them all.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._staged: dict[str, Path] = {}
        self._scratch = tempfile.TemporaryDirectory(prefix=".semtalk-tmp-", dir=folder)
        self.scratch = Path(self._scratch.name)

    def path(self, name: str) -> Path:
        """Where to write the output ``name`` until ``commit()``."""
        self._staged[name] = self.folder / f".{name}.partial"
        return self._staged[name]

    def commit(self) -> None:
        """Rename every staged file into place, the last one staged last. A previous job's marker goes first, so
        it never stands beside this job's files; if the renames are interrupted, the ones done are undone."""
        names = list(self._staged)
        if not names:
            return
        (self.folder / names[-1]).unlink(missing_ok=True)
        done: list[Path] = []
        try:
            for name in names:
                os.replace(self._staged[name], self.folder / name)
                done.append(self.folder / name)
        except BaseException:
            for path in done:
                path.unlink(missing_ok=True)
            raise
        self._staged.clear()

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for path in self._staged.values():
            path.unlink(missing_ok=True)
        self._scratch.cleanup()
