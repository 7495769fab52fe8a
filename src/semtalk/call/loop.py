"""The one call loop, in two halves that share nothing but the link: the send side and the receive side.

    send side:    frame k at (k + 1) / fps → sender → link.send          (+ the call's audio, for an AudioSender)
    receive side: link.deliver(now) → receiver.receive → receiver.play(until) → sink

``simulate`` (``call.simulate``) steps both halves in lockstep over a ``SimulatedLink`` with a ``SimulatedClock``;
the live call runs the send side in one process and the receive side in another, over a UDP link
(``transport.udp``) and a ``WallClock``. The sender and the receiver are the mode's, unchanged, so the live and
the simulated receiver share their depacketising, FEC and play-out code.

A link is anything with ``send(stream, packets, time)``, ``deliver(now)`` (an iterable of ``(stream, datagram)``)
and ``pending``; it may have a return direction ``back`` (same interface) for a mode with feedback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np

from semtalk.modes.base import AudioSender, Captured, FeedbackReceiver, FeedbackSender, Receiver, Sender
from semtalk.records import StageTimer


class Link(Protocol):
    def send(self, stream: int, packets: list[bytes], time: float) -> None: ...

    def deliver(self, now: float) -> Iterable[tuple[int, bytes]]: ...

    @property
    def pending(self) -> bool: ...


class Clock(Protocol):
    def wait(self, t: float) -> float:
        """Block until media time ``t`` (seconds from the call's start); the media time now (≥ ``t``)."""
        ...


class SimulatedClock:
    """Time passes only when the loop says so: a call runs as fast as the machine can compute it."""

    def wait(self, t: float) -> float:
        return t


class WallClock:
    """Media time = wall seconds since ``start`` (``time.monotonic`` by default): the live call's clock.

    ``wait`` sleeps until ``t`` and answers the real time, later than ``t`` when the work fell behind.
    """

    def __init__(self, start: float | None = None) -> None:
        self.start = time.monotonic() if start is None else start

    def now(self) -> float:
        return time.monotonic() - self.start

    def wait(self, t: float) -> float:
        ahead = t - self.now()
        if ahead > 0:
            time.sleep(ahead)
        return max(t, self.now())


def frame_time(index: int, fps: float) -> float:
    """Frame ``index`` is captured at ``(index + 1) / fps``: the end of its frame period."""
    return (index + 1) / fps


def due_frames(now: float, delay: float, fps: float) -> int:
    """How many frames are due by media time ``now`` with a play-out delay of ``delay`` seconds."""
    return max(0, math.floor((now - delay) * fps + 1e-9) + 1)


class SendSide:
    """The sender's half: capture, encode and put on the link; the call's audio for an ``AudioSender``."""

    def __init__(self, sender: Sender | AudioSender | FeedbackSender, link: Link, timer: StageTimer, fps: float,
                 live_audio: np.ndarray | None = None, audio_rate: int = 16000) -> None:
        self.sender, self.link, self.timer, self.fps = sender, link, timer, fps
        self.live_audio, self.audio_rate = live_audio, audio_rate
        self.count = 0

    def send(self, batches) -> None:
        t = time.perf_counter()
        for out in batches:
            self.link.send(out.stream, out.packets, out.time)
        self.timer.add("send", time.perf_counter() - t)

    def frame(self, index: int, rgb: np.ndarray, now: float) -> Captured:
        """Frame ``index``, captured at ``now``: encode and send it (and its span of the call's audio)."""
        captured, batches = self.sender.frame(index, rgb, now)
        self.send(batches)
        if self.live_audio is not None:
            start = round(index / self.fps * self.audio_rate)
            self.send(self.sender.audio(self.live_audio[start:round(now * self.audio_rate)], now))
        self.count = index + 1
        return captured

    def finish(self, audio: np.ndarray | None) -> float:
        """End of the input: the rest of the live audio, then the sender's flush; the call's end time."""
        end = self.count / self.fps
        rate = self.audio_rate
        if self.live_audio is not None and round(end * rate) < self.live_audio.size:
            self.send(self.sender.audio(self.live_audio[round(end * rate):], end))
        self.send(self.sender.finish(audio, end))
        return end


class SkippingRenderer:
    """Stands in for a receiver's ``renderer``: while ``skipping``, a frame is not rendered and the last picture
    stands in for it (a video player's frame drop); ``skipped`` counts those frames. Everything else (the
    play-out, FEC, concealment, the mouth track the speech follows) still runs for every frame: only the
    rendering, the receiver's dominant cost, is spared."""

    def __init__(self, render: Callable[..., np.ndarray]) -> None:
        self.render = render
        self.skipping = False
        self.skipped = 0
        self.last: np.ndarray | None = None

    def __call__(self, coeffs: np.ndarray, *variant: int) -> np.ndarray:
        """``variant``: the renderer's own (``FaceRenderer.variant_weights``), passed on when given."""
        if self.skipping and self.last is not None:
            self.skipped += 1
            return self.last
        self.last = self.render(coeffs, *variant)
        return self.last

    def __getattr__(self, name: str):
        return getattr(self.render, name)  # the renderer's other parts (its background plate)


class ReceiveSide:
    """The receiver's half: what has arrived goes to the receiver; due frames go to ``sink`` in order.

    With ``skip`` (the live call), a receiver whose rendering falls behind real time does not fall further
    behind: frames already late are played without being rendered (``SkippingRenderer`` stands in for the
    receiver's ``renderer``) and the newest due frame is rendered (``play``'s ``late``); ``sink`` gets
    ``skipped=True`` for those. ``simulate`` never skips: the file-time call renders every frame.
    """

    def __init__(self, receiver: Receiver | FeedbackReceiver, link: Link, timer: StageTimer, fps: float,
                 sink: Callable[..., None], skip: bool = False) -> None:
        self.receiver, self.link, self.timer, self.fps, self.sink = receiver, link, timer, fps, sink
        self.played = 0
        self.skipper: SkippingRenderer | None = None
        if skip and callable(getattr(receiver, "renderer", None)):
            self.skipper = receiver.renderer = SkippingRenderer(receiver.renderer)

    def deliver(self, now: float) -> int:
        """Hand the receiver what has arrived by ``now``; how many datagrams that was."""
        t = time.perf_counter()
        n = 0
        for stream, datagram in self.link.deliver(now):
            self.receiver.receive(stream, datagram)
            n += 1
        self.timer.add("receive", time.perf_counter() - t)
        return n

    def play(self, until: int, late: int = 0) -> None:
        """Play every frame below ``until`` not yet played; with a skipper, those below ``late`` (frames already
        past their time) are not rendered, except the newest due one (``until - 1``), which always is."""
        if until <= self.played:
            return  # nothing due: a receiver may work ahead of its frames (Wav2Vid decodes audio to a look-ahead)
        stop = min(late, until - 1)
        if self.skipper is not None and stop > self.played:
            self.skipper.skipping = True
            try:
                for played in self.receiver.play(stop):
                    self.played = played.index + 1
                    self.sink(played, skipped=True)
            finally:
                self.skipper.skipping = False
        for played in self.receiver.play(until):
            self.played = played.index + 1
            self.sink(played)
