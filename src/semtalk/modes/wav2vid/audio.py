"""The audio carriers of Wav2Vid: the whole call's audio, digitally (Opus + the radio's LDPC and QAM) or as the
learned ASC's analog symbols (joint source–channel coding, the paper's §III-B).

Both cut the audio into fixed spans, one packet each: the sender codes a span once it has all its samples; the
receiver turns the packet of each span, or its loss, back into exactly one span of samples, in order.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

RATE = 16_000


class SpanCoder(Protocol):
    span: int  # samples per packet

    def encode(self, span: np.ndarray) -> bytes | np.ndarray: ...


class SpanDecoder(Protocol):
    span: int
    delay_spans: int  # how many spans late ``decode`` returns its output

    def decode(self, data: bytes | np.ndarray | None) -> np.ndarray:
        """The next span of audio (empty while the decoder fills its delay); None: the packet was lost."""
        ...

    def flush(self) -> np.ndarray: ...


class OpusCoder:
    def __init__(self, kbps: float) -> None:
        from semtalk.media.audio_codec import OpusEncoder

        self._encoder = OpusEncoder(kbps, RATE)
        self.span = self._encoder.span

    def encode(self, span: np.ndarray) -> bytes:
        return self._encoder.encode(span)


class OpusSpanDecoder:
    delay_spans = 1

    def __init__(self) -> None:
        from semtalk.media.audio_codec import OpusDecoder

        self._decoder = OpusDecoder(RATE)
        self.span = self._decoder.span

    def decode(self, data: bytes | np.ndarray | None) -> np.ndarray:
        return self._decoder.decode(None if data is None else bytes(data))

    def flush(self) -> np.ndarray:
        return self._decoder.flush()


class AscCoder:
    """The shipped ASC model (``learned.asc``): one chunk of audio → its complex symbols."""

    def __init__(self) -> None:
        from semtalk.learned.asc.code import load_asc
        from semtalk.learned.asc.config import CHUNK_SAMPLES

        self._model = load_asc()
        self.span = CHUNK_SAMPLES

    def encode(self, span: np.ndarray) -> np.ndarray:
        return self._model.encode(span)


class AscSpanDecoder:
    delay_spans = 0

    def __init__(self) -> None:
        from semtalk.learned.asc.code import load_asc
        from semtalk.learned.asc.config import CHUNK_SAMPLES

        self._model = load_asc()
        self.span = CHUNK_SAMPLES

    def decode(self, data: bytes | np.ndarray | None) -> np.ndarray:
        if data is None:
            return np.zeros(self.span, np.float32)
        return self._model.decode(np.asarray(data), self.span)

    def flush(self) -> np.ndarray:
        return np.zeros(0, np.float32)


def coder(carrier: str, kbps: float) -> SpanCoder:
    return OpusCoder(kbps) if carrier == "opus" else AscCoder()


def decoder(carrier: str) -> SpanDecoder:
    return OpusSpanDecoder() if carrier == "opus" else AscSpanDecoder()
