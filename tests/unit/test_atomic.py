"""Files appear complete or not at all: ``atomic_bytes`` and a job's ``StagedFiles``."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from semtalk.atomic import StagedFiles, atomic_bytes


def test_atomic_bytes_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "kb.stkb"
    path.write_bytes(b"old")
    atomic_bytes(path, b"new")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["kb.stkb"]


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_atomic_bytes_that_fails_keeps_the_old_file_and_no_half_written_one(tmp_path, monkeypatch, error):
    path = tmp_path / "kb.stkb"
    path.write_bytes(b"old")
    write = Path.write_bytes

    def half_then_fail(self: Path, data: bytes) -> int:
        write(self, data[:2])
        raise error

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(type(error)):
        atomic_bytes(path, b"new KB")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["kb.stkb"]


def test_staged_files_appear_on_commit_only(tmp_path):
    with StagedFiles(tmp_path) as staged:
        staged.path("received.mp4").write_bytes(b"video")
        (staged.scratch / "ref.y4m").write_bytes(b"frames")
        staged.path("report.json").write_text("{}")
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".semtalk-tmp-")) == [
            ".received.mp4.partial", ".report.json.partial"]
        assert staged.scratch.parent == tmp_path
        staged.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["received.mp4", "report.json"]


def test_staged_files_of_a_failed_job_are_removed_with_the_scratch_folder(tmp_path):
    with pytest.raises(KeyboardInterrupt), StagedFiles(tmp_path) as staged:
        staged.path("received.mp4").write_bytes(b"video")
        (staged.scratch / "ref.y4m").write_bytes(b"frames")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_commit_cut_short_leaves_neither_files_nor_the_old_marker(tmp_path, monkeypatch):
    """The previous run's report must not vouch for this run's videos, and half a commit is undone."""
    (tmp_path / "report.json").write_text('{"old": true}')
    replace = os.replace

    def interrupted(src, dst):
        if Path(dst).name == "report.json":
            raise KeyboardInterrupt
        replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt), StagedFiles(tmp_path) as staged:
        staged.path("received.mp4").write_bytes(b"video")
        staged.path("report.json").write_text("{}")
        staged.commit()
    assert list(tmp_path.iterdir()) == []
