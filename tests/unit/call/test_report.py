"""``report.json`` of a call, built from fake ends: the duration is what was decoded, not what the file declared."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from semtalk.call.report import call_report
from semtalk.call.run import RunConfig
from semtalk.metrics.video import VideoQuality
from semtalk.records import StageTimer
from tests.unit.kb.kb_fixtures import make_kb


@pytest.fixture(scope="module")
def mode() -> SimpleNamespace:
    kb = make_kb(seed=0).kb
    return SimpleNamespace(fps=25.0, kb=kb, kb_bytes=kb.to_bytes(), code=SimpleNamespace(code_rate=0.5, k=4),
                           speaks=True)


def _report(mode: SimpleNamespace, frames: int, declared: float) -> dict:
    """The report of a call that decoded ``frames`` frames of a file whose header declares ``declared`` seconds."""
    sender = SimpleNamespace(report=lambda: {"frames": frames, "payload_bits": 8000, "source_packets": 12,
                                             "no_face_frames": 0, "clipped_frames": 0})
    receiver = SimpleNamespace(latency=0.1, report=lambda: {
        "concealed_frames": 0, "packets_recovered": 0, "late_frames": 0, "garbage_packets": 0, "wrong_kb_packets": 0})
    link = SimpleNamespace(stream=lambda i: SimpleNamespace(bytes=1500, packets=24, lost=0), radio=lambda *a: None)
    outputs = SimpleNamespace(quality=VideoQuality(), heldout=[0, -1])
    return call_report("clip.mp4", RunConfig(), mode, sender, receiver, link, outputs, StageTimer(), None,
                       declared, True, wall=1.0)


def test_duration_is_what_was_decoded(mode: SimpleNamespace) -> None:
    truncated = _report(mode, frames=60, declared=8.0)  # 2.4 s decodable of a file that says 8 s
    assert truncated["duration_s"] == 2.4 and truncated["probed_duration_s"] == 8.0
    assert truncated["video"]["stream_kbps"] == round(8000 / 2.4 / 1000, 3)
    whole = _report(mode, frames=200, declared=8.0)
    assert whole["duration_s"] == whole["probed_duration_s"] == 8.0
