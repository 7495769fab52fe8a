"""The one call loop: any mode's sender → a link → its receiver → outputs, in simulated time.

Frame ``k`` is captured at ``(k + 1) / fps``; what the sender emits goes on the link at once; the receiver
gets whatever has arrived and plays every frame whose time plus its play-out delay has come. A mode with a
return path (``Mode.feedback``) gets a second link, ``link.back``: what the receiver sends back crosses it with
its own delay and losses and reaches the sender, whose answers (resends) go out on the forward link. The live
call keeps the sender and receiver and replaces the links and the clock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable

import numpy as np

from semtalk.call.outputs import Outputs
from semtalk.link.simulated import SimulatedLink
from semtalk.modes.base import AudioSender, FeedbackReceiver, FeedbackSender, Receiver, Sender, Speech
from semtalk.records import StageTimer

# After the input ends, a call with a return path runs on (in frame steps) until neither link carries anything,
# at most this long: a resend that is lost again and again must not keep the call alive for ever.
DRAIN_S = 5.0


def simulate(frames: Iterable[np.ndarray], audio, sender: Sender | AudioSender | FeedbackSender,
             receiver: Receiver | FeedbackReceiver, link: SimulatedLink, outputs: Outputs, timer: StageTimer,
             fps: float, live_audio: np.ndarray | None = None, audio_rate: int = 16000) -> tuple[int, Speech | None]:
    """Run the call over ``frames`` (RGB); ``audio()`` gives the call's audio once the frames are done
    (None without a track). With ``live_audio`` (the call's audio at ``audio_rate``) the sender is an
    ``AudioSender`` and gets each frame's span of it as that frame is captured. With a return link (``link.back``)
    the ends are a ``FeedbackSender`` and a ``FeedbackReceiver``. Returns the frame count and the receiver's
    speech."""
    originals: deque = deque()
    back = link.back

    def deliver(now: float) -> None:
        t = time.perf_counter()
        for stream, datagram in link.deliver(now):
            receiver.receive(stream, datagram)
        timer.add("receive", time.perf_counter() - t)
        if back is None:
            return
        t = time.perf_counter()
        for out in receiver.feedback(now):
            back.send(out.stream, out.packets, out.time)
        answers = [a for stream, datagram in back.deliver(now) for a in sender.feedback(stream, datagram, now)]
        timer.add("feedback", time.perf_counter() - t)
        send(answers)

    def send(batches) -> None:
        t = time.perf_counter()
        for out in batches:
            link.send(out.stream, out.packets, out.time)
        timer.add("send", time.perf_counter() - t)

    def play(until: int) -> None:
        for played in receiver.play(until):
            captured = originals.popleft()
            assert captured.index == played.index, "play-out and capture out of step"
            outputs.frame(captured, played)

    count = 0
    for index, rgb in enumerate(frames):
        now = (index + 1) / fps
        captured, batches = sender.frame(index, rgb, now)
        originals.append(captured)
        send(batches)
        if live_audio is not None:
            span = live_audio[round(index / fps * audio_rate):round(now * audio_rate)]
            send(sender.audio(span, now))
        deliver(now)
        play(min(index + 1, math.floor((now - receiver.latency) * fps + 1e-9) + 1))
        count += 1
    end = count / fps
    if live_audio is not None and round(end * audio_rate) < live_audio.size:
        send(sender.audio(live_audio[round(end * audio_rate):], end))
    send(sender.finish(audio(), end))
    if back is not None:
        now = end
        while (link.pending or back.pending) and now < end + DRAIN_S:
            now += 1 / fps
            deliver(now)
    deliver(math.inf)
    play(count)
    return count, receiver.finish(end)
