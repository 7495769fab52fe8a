"""A ``semtalk run`` option refused as the robustness issue asks: one line naming it, exit 2, before any work."""

from __future__ import annotations

from pathlib import Path

from semtalk.cli import main


def assert_refused(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    """``semtalk run`` on an empty file with ``args`` exits 2 with ``message`` on one line and makes no output."""
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")
    assert main(["run", str(clip), "--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "out").exists()
