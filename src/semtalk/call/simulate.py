"""The one call loop: any mode's sender → a link → its receiver → outputs, in simulated time.

Frame ``k`` is captured at ``(k + 1) / fps``; what the sender emits goes on the link at once; the receiver
gets whatever has arrived and plays every frame whose time plus its play-out delay has come. A mode with a
return path (``Mode.feedback``) gets a second link, ``link.back``: what the receiver sends back crosses it with
its own delay and losses and reaches the sender, whose answers (resends) go out on the forward link. The two
halves are ``call.loop.SendSide`` and ``call.loop.ReceiveSide``; the live call (``call.live``) runs the same
halves in two processes over UDP with a wall clock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

import numpy as np

from semtalk.call.loop import Clock, Link, ReceiveSide, SendSide, SimulatedClock, due_frames, frame_time
from semtalk.call.outputs import Outputs
from semtalk.memory import release
from semtalk.modes.base import AudioSender, FeedbackReceiver, FeedbackSender, Played, Receiver, Sender, Speech
from semtalk.records import StageTimer

# After the input ends, a call with a return path runs on (in frame steps) until neither link carries anything,
# at most this long: a resend that is lost again and again must not keep the call alive for ever.
DRAIN_S = 5.0


def simulate(frames: Iterable[np.ndarray], audio, sender: Sender | AudioSender | FeedbackSender,
             receiver: Receiver | FeedbackReceiver, link: Link, outputs: Outputs, timer: StageTimer,
             fps: float, live_audio: np.ndarray | None = None, audio_rate: int = 16000,
             clock: Clock | None = None) -> tuple[int, Speech | None]:
    """Run the call over ``frames`` (RGB); ``audio()`` gives the call's audio once the frames are done
    (None without a track). With ``live_audio`` (the call's audio at ``audio_rate``) the sender is an
    ``AudioSender`` and gets each frame's span of it as that frame is captured. With a return link (``link.back``)
    the ends are a ``FeedbackSender`` and a ``FeedbackReceiver``. ``clock``: simulated time by default. Returns the
    frame count and the receiver's speech."""
    clock = SimulatedClock() if clock is None else clock
    originals: deque = deque()

    def sink(played: Played) -> None:
        captured = originals.popleft()
        assert captured.index == played.index, "play-out and capture out of step"
        outputs.frame(captured, played)

    send_side = SendSide(sender, link, timer, fps, live_audio, audio_rate)
    receive_side = ReceiveSide(receiver, link, timer, fps, sink)
    back = getattr(link, "back", None)

    def deliver(now: float) -> None:
        receive_side.deliver(now)
        if back is None:
            return
        t = time.perf_counter()
        for out in receiver.feedback(now):
            back.send(out.stream, out.packets, out.time)
        answers = [a for stream, datagram in back.deliver(now) for a in sender.feedback(stream, datagram, now)]
        timer.add("feedback", time.perf_counter() - t)
        send_side.send(answers)

    count = 0
    for index, rgb in enumerate(frames):
        now = clock.wait(frame_time(index, fps))
        originals.append(send_side.frame(index, rgb, now))
        deliver(now)
        receive_side.play(min(index + 1, due_frames(now, receiver.latency, fps)))
        count += 1
    end = send_side.finish(audio())
    if back is not None:
        now = end
        while (link.pending or back.pending) and now < end + DRAIN_S:
            now += 1 / fps
            deliver(clock.wait(now))
    deliver(float("inf"))
    receive_side.play(count)
    release()  # the call's frames are out: the speech track is made on what is still live, not on the peak
    return count, receiver.finish(end)
