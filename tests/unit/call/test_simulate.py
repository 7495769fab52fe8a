"""The call loop with a fake sender and receiver over a real ``SimulatedLink``: what it hands each end, when."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.call.simulate import simulate
from semtalk.link.simulated import ChannelConfig, SimulatedLink
from semtalk.modes.base import Captured, Outgoing, Played, Speech
from semtalk.records import StageTimer

FPS = 25.0


class FakeSender:
    """Frame ``k`` goes as one datagram on stream 0; ``finish`` sends one datagram on stream 1."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes]] = []

    def frame(self, index: int, rgb: np.ndarray, time: float) -> tuple[Captured, list[Outgoing]]:
        assert time == pytest.approx((index + 1) / FPS)  # captured at (k + 1) / fps
        packet = b"frame %d" % index
        self.sent.append((0, packet))
        return Captured(index, rgb, 0.0), [Outgoing(0, [packet], time)]

    def finish(self, audio, end: float) -> list[Outgoing]:
        self.audio, self.end = audio, end
        self.sent.append((1, b"end"))
        return [Outgoing(1, [b"end"], end)]

    def report(self) -> dict:
        return {}


class FakeReceiver:
    """Plays whatever frames have arrived; a frame played before its datagram is marked concealed."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.received: list[tuple[int, bytes]] = []
        self.arrived: set[int] = set()
        self.played = 0
        self.finished: float | None = None

    def receive(self, stream: int, datagram: bytes) -> None:
        assert type(stream) is int and type(datagram) is bytes, (stream, datagram)
        self.received.append((stream, datagram))
        if stream == 0:
            self.arrived.add(int(datagram.split()[1]))

    def play(self, until: int) -> list[Played]:
        out = [Played(i, np.full((2, 2, 3), i, np.uint8), i not in self.arrived) for i in range(self.played, until)]
        self.played = max(self.played, until)
        return out

    def finish(self, end: float) -> Speech | None:
        self.finished = end
        return Speech(np.zeros(round(end * 16000), np.float32), 16000)

    def report(self) -> dict:
        return {}


class FakeOutputs:
    def __init__(self) -> None:
        self.frames: list[tuple[int, int, bool]] = []

    def frame(self, captured: Captured, played: Played) -> None:
        self.frames.append((captured.index, played.index, played.concealed))


def _call(n: int, latency: float, **channel) -> tuple[FakeSender, FakeReceiver, FakeOutputs, tuple]:
    sender, receiver, outputs = FakeSender(), FakeReceiver(latency), FakeOutputs()
    frames = (np.full((2, 2, 3), k, np.uint8) for k in range(n))
    audio = np.ones(160, np.float32)
    result = simulate(frames, lambda: audio, sender, receiver, SimulatedLink(ChannelConfig(**channel)), outputs,
                      StageTimer(), FPS)
    assert sender.audio is audio
    return sender, receiver, outputs, result


def test_every_frame_is_played_once_in_order_and_every_datagram_delivered():
    sender, receiver, outputs, (count, speech) = _call(30, latency=0.2, delay=0.05, jitter=0.01, seed=1)
    assert count == 30
    assert outputs.frames == [(i, i, False) for i in range(30)]  # in order, once, each after its packet came
    assert sorted(receiver.received) == sorted(sender.sent)  # datagrams only, nothing else, nothing lost
    assert sender.end == receiver.finished == pytest.approx(30 / FPS)
    assert speech is not None and speech.audio.size == round(30 / FPS * 16000)


def test_frames_due_before_their_datagram_arrives_are_played_without_it():
    _, receiver, outputs, _ = _call(20, latency=0.0, delay=0.1)
    assert [(c, p) for c, p, _ in outputs.frames] == [(i, i) for i in range(20)]
    assert all(concealed for _, _, concealed in outputs.frames)  # the link's delay is respected
    assert len(receiver.received) == 21  # they still arrive, after their play-out time


def test_total_loss_hands_the_receiver_nothing():
    sender, receiver, outputs, (count, _) = _call(25, latency=0.1, loss=1.0)
    assert count == 25 and len(sender.sent) == 26
    assert receiver.received == []
    assert outputs.frames == [(i, i, True) for i in range(25)]  # every frame is still played, concealed


class ResendingSender(FakeSender):
    """Answers a request for frame ``k`` (a datagram on return stream 0) by sending frame ``k`` again."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[int, bytes, float]] = []

    def feedback(self, stream: int, datagram: bytes, time: float) -> list[Outgoing]:
        self.requests.append((stream, datagram, time))
        return [Outgoing(0, [b"frame %d" % int(datagram)], time)]


class AskingReceiver(FakeReceiver):
    """Asks once, after the call's last frame (1 s), for every frame that has not arrived."""

    def __init__(self, latency: float) -> None:
        super().__init__(latency)
        self.asked: set[int] = set()

    def feedback(self, time: float) -> list[Outgoing]:
        if time > 1.0:
            missing = [i for i in range(25) if i not in self.arrived and i not in self.asked]
            self.asked.update(missing)
            return [Outgoing(0, [b"%d" % i], time) for i in missing]
        return []


def _feedback_call(**channel) -> tuple[ResendingSender, AskingReceiver, SimulatedLink]:
    sender, receiver, outputs = ResendingSender(), AskingReceiver(latency=0.1), FakeOutputs()
    link = SimulatedLink.call(ChannelConfig(**channel), feedback=True)
    simulate((np.zeros((2, 2, 3), np.uint8) for _ in range(25)), lambda: None, sender, receiver, link, outputs,
             StageTimer(), FPS)
    return sender, receiver, link


def test_requests_cross_the_return_link_and_resends_arrive_after_the_round_trip():
    sender, receiver, link = _feedback_call(loss=0.3, delay=0.04, seed=3)
    assert link.back is not None and link.back.config.seed != link.config.seed
    lost = 25 - len([d for s, d in receiver.received[:25] if s == 0])
    asked = sorted(receiver.asked)
    assert lost > 0 and len(asked) > 0
    # what the return link delivered reached the sender, one round-trip delay (and a frame step) later
    assert len(sender.requests) == link.back.stream(0).packets - link.back.stream(0).lost
    assert sender.requests and all(t >= 1.0 + 0.04 for _, _, t in sender.requests)
    assert link.stream(0).packets == 25 + len(sender.requests)  # each delivered request was answered once


def test_a_call_without_a_return_link_never_asks_for_feedback():
    link = SimulatedLink.call(ChannelConfig())
    assert link.back is None
    _, receiver, _, _ = _call(5, latency=0.1)
    assert receiver.finished is not None


class CountingReceiver(FakeReceiver):
    def __init__(self, latency: float) -> None:
        super().__init__(latency)
        self.asked: list[int] = []

    def play(self, until: int) -> list[Played]:
        self.asked.append(until)
        return super().play(until)


def test_the_receiver_is_asked_to_play_only_when_a_new_frame_is_due():
    """Wav2Vid's receiver decodes its audio up to a look-ahead past the frames it is asked for, so asking it to play
    before any frame is due (until = 0) made it conceal audio that had not arrived yet (PESQ 2.6 -> 1.3)."""
    sender, receiver, outputs = FakeSender(), CountingReceiver(latency=0.5), FakeOutputs()
    simulate((np.zeros((2, 2, 3), np.uint8) for _ in range(30)), lambda: None, sender, receiver,
             SimulatedLink(ChannelConfig()), outputs, StageTimer(), FPS)
    assert receiver.asked[0] >= 1
    assert all(b > a for a, b in zip(receiver.asked, receiver.asked[1:], strict=False))
    assert [c for c, _, _ in outputs.frames] == list(range(30))
