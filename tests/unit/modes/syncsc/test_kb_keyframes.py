"""How many keyframes the KB of a SyncSC run holds: 16 when the stream carries a motion field (its sender picks
among them per packet), the KB builder's 10 otherwise, and always what ``--keyframes`` says."""

from __future__ import annotations

import pytest

from semtalk.call.run import RunConfig
from semtalk.enroll import build
from semtalk.modes.syncsc.mode import FIELD_KEYFRAMES, SyncscConfig, SyncscMode


def test_the_stream_with_a_field_asks_for_more_keyframes():
    assert SyncscConfig().kb_keyframes() == FIELD_KEYFRAMES > build.KbConfig.keyframes
    assert SyncscConfig(flow_grid=0).kb_keyframes() is None
    assert SyncscConfig(video_kbps=0).kb_keyframes() is None  # the version-1 stream carries no field


def test_the_kb_builder_fills_in_its_own_number_and_keeps_a_given_one():
    assert build.run_kb_config(RunConfig()).keyframes == build.KbConfig.keyframes
    assert build.run_kb_config(RunConfig(keyframes=7)).keyframes == 7


@pytest.mark.parametrize(("settings", "keyframes"), [
    ({}, FIELD_KEYFRAMES),
    ({"flow_grid": 0}, build.KbConfig.keyframes),
    ({"video_kbps": 0.0}, build.KbConfig.keyframes),
    ({"keyframes": 5}, 5),
    ({"keyframes": 5, "flow_grid": 0}, 5),
])
def test_syncsc_enrolls_with_the_number_its_stream_asks_for(monkeypatch, settings, keyframes):
    asked = []
    monkeypatch.setattr(build, "enroll_clip", lambda path, config: asked.append(build.run_kb_config(config)))
    SyncscMode.enroll("clip.mp4", RunConfig(**settings))
    assert [c.keyframes for c in asked] == [keyframes]
