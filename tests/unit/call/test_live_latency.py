"""The live call's latency by design: the live profile's FEC block fits the latency budget (computed from its
config, not measured), `semtalk run` keeps SyncSC's own block, and a receiver that renders slower than real time
skips to the newest due frame instead of falling further behind (a fake slow renderer on a fake clock: no timing
of this machine)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from semtalk.call import live_profile
from semtalk.call.live import LiveConfig, stream_config, structural_delay
from semtalk.call.loop import ReceiveSide, due_frames
from semtalk.modes.base import Played
from semtalk.records import StageTimer

FPS = 25.0


def test_the_live_profile_block_fits_the_latency_budget():
    config = LiveConfig(kb="unused")
    stream = stream_config(config)
    assert stream.frames_per_packet == 1 and stream.fec_k == 2  # the rate target does not regroup the frames
    assert structural_delay(config) == pytest.approx(3 / FPS)
    assert structural_delay(config) <= live_profile.STRUCTURAL_BUDGET_S < live_profile.LATENCY_TARGET_S


def test_a_lower_rate_target_regroups_frames_and_leaves_the_budget():
    """SyncSC's own defaults (what `semtalk run` uses): 10 frames per packet at 1.6 kbps with the motion field,
    5 without, k = 4: 1,640 or 840 ms."""
    from semtalk.call.run import RunConfig
    from semtalk.modes.syncsc.mode import SyncscMode

    run = SyncscMode.build(RunConfig(), None, b"", None).config
    assert (run.frames_per_packet, run.fec_k, run.flow_grid) == (10, 4, 6)
    run = SyncscMode.build(RunConfig(flow_grid=0), None, b"", None).config
    assert (run.frames_per_packet, run.fec_k) == (5, 4)
    slow = LiveConfig(kb="unused", video_kbps=1.6)  # asks for 1 frame per packet, the target makes it 5
    assert stream_config(slow).frames_per_packet == 5
    assert structural_delay(slow) > live_profile.STRUCTURAL_BUDGET_S
    assert structural_delay(dataclasses.replace(slow, fec_k=4, frames_per_packet=5)) == pytest.approx(21 / FPS)


def test_the_command_line_defaults_are_the_live_profile():
    from semtalk.cli import _parser

    args = _parser().parse_args(["send", "clip.mp4", "--to", "127.0.0.1:5004", "--kb", "kb.stkb"])
    assert (args.fec_k, args.frames_per_packet, args.video_kbps) == (live_profile.FEC_K,
                                                                     live_profile.FRAMES_PER_PACKET,
                                                                     live_profile.VIDEO_KBPS)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0


class SlowRenderer:
    """Each render takes ``cost`` seconds of the fake clock (2.5 frame periods: a receiver at 40 % speed)."""

    def __init__(self, clock: FakeClock, cost: float) -> None:
        self.clock, self.cost, self.rendered = clock, cost, []

    def __call__(self, coeffs: np.ndarray) -> np.ndarray:
        self.clock.now += self.cost
        self.rendered.append(int(coeffs[0]))
        return np.full((2, 2, 3), int(coeffs[0]) % 256, np.uint8)


class FakeReceiver:
    """Every frame is here; ``play`` renders each one through ``self.renderer``, as SyncSC's receiver does."""

    latency = 0.1

    def __init__(self, renderer) -> None:
        self.renderer = renderer
        self.next = 0

    def play(self, until: int) -> list[Played]:
        out = []
        for i in range(self.next, until):
            out.append(Played(i, self.renderer(np.array([i])), False))
        self.next = max(self.next, until)
        return out


def _call(skip: bool, frames: int = 100, skip_after: float = live_profile.SKIP_AFTER_S):
    clock = FakeClock()
    renderer = SlowRenderer(clock, cost=0.1)
    shown: list[tuple[int, bool, float]] = []  # (index, skipped, lateness past its play-out time when shown)
    delay = 0.2
    receiver = FakeReceiver(renderer)

    def sink(played: Played, skipped: bool = False) -> None:
        shown.append((played.index, skipped, clock.now - (delay + played.index / FPS)))

    side = ReceiveSide(receiver, None, StageTimer(), FPS, sink, skip=skip)
    while side.played < frames:
        until = min(frames, due_frames(clock.now, delay, FPS))
        side.play(until, due_frames(clock.now - skip_after, delay, FPS))
        clock.now += 0.02  # the loop's wait
    return side, renderer, shown


def test_a_receiver_that_falls_behind_skips_to_the_newest_due_frame():
    side, renderer, shown = _call(skip=True)
    assert [i for i, _, _ in shown] == list(range(100))  # every frame keeps its slot, in order
    skipped = [i for i, s, _ in shown if s]
    assert side.skipper.skipped == len(skipped) > 50  # a 40 %-speed renderer can show fewer than half
    assert sorted(renderer.rendered + skipped) == list(range(100))  # each frame rendered or skipped, once
    late = [t for _, s, t in shown if not s]
    assert max(late) < live_profile.SKIP_AFTER_S + 2 * 0.1 + 0.02  # bounded: the tolerance + two renders + a wait
    assert shown[0][1] is False  # the first frame is always rendered (a skipped one shows the last picture)


def test_without_skipping_the_same_receiver_falls_further_behind():
    side, renderer, shown = _call(skip=False)
    assert side.skipper is None and renderer.rendered == list(range(100))
    late = [t for _, _, t in shown]
    assert late[-1] > 5.0 > 2 * max(late[:10])  # the lag grows with the call: seconds by its end


def test_frames_within_the_tolerance_are_all_rendered():
    """A receiver fast enough (a render well inside a frame period) never skips."""
    clock = FakeClock()
    renderer = SlowRenderer(clock, cost=0.01)
    receiver = FakeReceiver(renderer)
    side = ReceiveSide(receiver, None, StageTimer(), FPS, lambda played, skipped=False: None, skip=True)
    while side.played < 50:
        side.play(min(50, due_frames(clock.now, 0.2, FPS)), due_frames(clock.now - 0.08, 0.2, FPS))
        clock.now += 0.02
    assert side.skipper.skipped == 0 and renderer.rendered == list(range(50))
