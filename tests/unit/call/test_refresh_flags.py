"""SyncSC's KB refresh flags (issue 24, item 4): checked before any work, one line naming the flag; they reach the
mode's refresh settings, and a zero budget turns the refresh off."""

from __future__ import annotations

import pytest

from semtalk.call.run import RunConfig
from semtalk.modes.syncsc.config import RefreshConfig
from semtalk.modes.syncsc.mode import SyncscMode
from tests.unit.cli_refusal import assert_refused


@pytest.mark.parametrize("args, message", [
    (["--refresh-kbps", "-1"], "--refresh-kbps must be in [0, 10000] (0: no refresh), got -1"),
    (["--refresh-kbps", "nan"], "--refresh-kbps must be a finite number, got nan"),
    (["--refresh-ssim", "0"], "--refresh-ssim must be in (0, 1], got 0"),
    (["--refresh-ssim", "1.5"], "--refresh-ssim must be in (0, 1], got 1.5"),
    (["--refresh-codec", "gif"], "--refresh-codec must be one of avif, webp, jpeg2000, jpeg, got 'gif'"),
    (["--refresh-codec", "seb"], "--refresh-codec must be one of avif, webp, jpeg2000, jpeg, got 'seb'"),
    (["--refresh-quality", "0"], "--refresh-quality must be in 1..100, got 0"),
    (["--refresh-kbps", "8", "--mode", "wav2vid"], "--refresh-kbps is a setting of --mode syncsc"),
    (["--refresh-quality", "30", "--mode", "m3e"], "--refresh-quality is a setting of --mode syncsc"),
])
def test_nonsense_refresh_settings_are_refused_with_one_line(tmp_path, capsys, args, message):
    assert_refused(tmp_path, capsys, args, message)


def test_the_flags_reach_the_mode_and_zero_turns_the_refresh_off():
    build = SyncscMode.build
    assert build(RunConfig(), kb=None, kb_bytes=b"", receiver_kb=None).config.refresh() is None
    mode = build(RunConfig(refresh_kbps=12.0, refresh_ssim=0.7, refresh_codec="webp", refresh_quality=33), kb=None,
                 kb_bytes=b"", receiver_kb=None)
    assert mode.config.refresh() == RefreshConfig(kbps=12.0, ssim=0.7, codec="webp", quality=33)
