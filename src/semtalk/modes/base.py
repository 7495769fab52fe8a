"""What every mode is: a ``Sender`` (media → datagrams per stream) and a ``Receiver`` (datagrams → frames
and speech), each built from the knowledge base and the mode's own frozen config.

The call loop (``semtalk.call.simulate``) knows only these interfaces and the records below; the simulated
link and, later, the live transport carry ``Outgoing`` batches between the two ends. Neither end reads a
clock: the loop hands them simulated (or wall) time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from semtalk.kb.knowledge_base import KnowledgeBase
from semtalk.records import StageTimer


@dataclass(frozen=True)
class Outgoing:
    """One batch of datagrams of one stream (numbered from 0 in the mode), put on the link at ``time``."""

    stream: int
    packets: list[bytes]
    time: float


@dataclass(frozen=True)
class Captured:
    """What the sender saw of one frame, kept by the call for outputs and metrics only (never sent).

    ``crop``: the original picture the receiver's output is compared with; ``mouth``: the sender-side mouth
    opening (NaN without a face), the reference of the AV-sync measure.
    """

    index: int
    crop: np.ndarray
    mouth: float


@dataclass(frozen=True)
class Played:
    """One output frame at the receiver: the picture, and whether it was concealed."""

    index: int
    image: np.ndarray
    concealed: bool


@dataclass(frozen=True)
class Speech:
    """The receiver's speech for the whole call (``rate`` Hz, the call's exact length)."""

    audio: np.ndarray
    rate: int


class Sender(Protocol):
    def frame(self, index: int, rgb: np.ndarray, time: float) -> tuple[Captured, list[Outgoing]]:
        """Encode video frame ``index`` captured at ``time``; what to send now."""
        ...

    def finish(self, audio: np.ndarray | None, end: float) -> list[Outgoing]:
        """End of the input: flush the streams; ``audio`` is the call's audio (None without a track)."""
        ...

    def report(self) -> dict: ...


class AudioSender(Sender, Protocol):
    """A sender that transmits the audio itself, as it is captured (Wav2Vid), rather than what it meant."""

    def audio(self, chunk: np.ndarray, time: float) -> list[Outgoing]:
        """The next ``chunk`` of the call's audio, captured by ``time``; what to send now."""
        ...


class FeedbackSender(Sender, Protocol):
    """A sender with a return path (M3E's retransmission requests): the receiver's datagrams come back to it."""

    def feedback(self, stream: int, datagram: bytes, time: float) -> list[Outgoing]:
        """A datagram of the receiver's return ``stream`` arrived at ``time``; what to (re)send now."""
        ...


class Receiver(Protocol):
    latency: float  # play-out delay in seconds: frame k is shown at (k + 1) / fps + latency

    def receive(self, stream: int, datagram: bytes) -> None: ...

    def play(self, until: int) -> list[Played]:
        """Every frame with index below ``until`` not yet played, in order."""
        ...

    def finish(self, end: float) -> Speech | None:
        """After the last frame: the speech, if the mode regenerates it."""
        ...

    def report(self) -> dict: ...


class FeedbackReceiver(Receiver, Protocol):
    def feedback(self, time: float) -> list[Outgoing]:
        """What to send back to the sender by ``time`` (its ``stream`` numbers are the return path's own)."""
        ...


class Mode(Protocol):
    """A ``mode`` registry entry: builds both ends of one call.

    ``live_audio``: the sender is an ``AudioSender``; ``analog_streams``: streams sent as analog symbols;
    ``feedback``: the ends are a ``FeedbackSender`` and a ``FeedbackReceiver``, joined by a return link;
    ``enroll``: the knowledge base the mode builds from the input (a clip's enrollment, or one portrait);
    ``sections()``: the mode's own report sections, merged into report.json.
    """

    fps: float
    speaks: bool
    live_audio: bool
    analog_streams: frozenset[int]
    feedback: bool

    @staticmethod
    def enroll(input_path, run_config) -> KnowledgeBase: ...

    def sender(self, timer: StageTimer) -> Sender: ...

    def receiver(self, timer: StageTimer) -> Receiver: ...

    def sections(self, sender, receiver, link, outputs, original: np.ndarray | None, speech: Speech | None,
                 score: bool) -> dict: ...
