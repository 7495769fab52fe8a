"""Classic speech codecs through PyAV (Opus, AAC): the baselines of SyncSC Tables II–III and the Wav2Vid audio carrier.

The decoded signal must line up sample for sample with the input, or PESQ/STOI/MCD would score the
codec's delay rather than its distortion. Both codecs prepend priming samples (Opus: pre-skip,
AAC: 1024 samples of encoder delay); muxing the packets into their usual container (Ogg, mp4)
records that delay and PyAV's demuxer/decoder skips it on the way back. The result is then
resampled to the input rate (the Opus decoder always outputs 48 kHz) and trimmed or padded with
silence to the input's exact length. Bitrate is counted on codec packets, without container overhead.

Opus: libopus, VoIP application, constant bitrate (so the kbps asked is the kbps sent), 20 ms frames.
AAC: FFmpeg's native encoder (LC profile); it cannot go below its own floor per channel and rate,
which the measured ``kbps`` then shows.

Lost packets (``decode_audio(keep=...)``): the decoder never sees them, as a receiver would not, and each
one's span is filled with silence. FFmpeg's decoders offer no way to ask for packet-loss concealment (an
empty packet means end of stream), so silence is the audio counterpart of the video FREEZE convention: a
lower bound that owes nothing to a decoder's concealment.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semtalk.errors import SemtalkError
from semtalk.media.reader import require_av

AUDIO_CODECS = ("opus", "aac")
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


@dataclass(frozen=True)
class CodedAudio:
    """Decoded audio, time-aligned with the input and of its exact length, and the rate it cost."""

    codec: str
    target_kbps: float
    kbps: float
    samples: np.ndarray  # float32 mono at the input rate
    rate: int


@dataclass(frozen=True)
class AudioPackets:
    """An encoded clip as a call sends it, one codec packet per frame, and the container the encoder wrote
    (it records the codec delay, which decoding needs to line the output up with the input)."""

    codec: str
    target_kbps: float
    rate: int  # of the input, and of the decoded output
    n_samples: int  # of the input, and of the decoded output
    packets: tuple[bytes, ...]
    container: bytes

    @property
    def kbps(self) -> float:
        """Bitrate of the codec packets (no container overhead)."""
        return sum(len(p) for p in self.packets) * 8 / (self.n_samples / self.rate) / 1000


def encode_audio(audio: np.ndarray, rate: int, codec: str, kbps: float) -> CodedAudio:
    """Encode and decode mono float32 ``audio`` at ``rate`` Hz with ``codec`` ('opus' or 'aac') at ``kbps``."""
    coded = encode_audio_packets(audio, rate, codec, kbps)
    return CodedAudio(codec, float(kbps), coded.kbps, decode_audio(coded), rate)


def encode_audio_packets(audio: np.ndarray, rate: int, codec: str, kbps: float) -> AudioPackets:
    """Encode mono float32 ``audio`` at ``rate`` Hz with ``codec`` ('opus' or 'aac') at ``kbps`` into packets."""
    av = require_av()
    if codec not in AUDIO_CODECS:
        raise ValueError(f"unknown audio codec {codec!r}; choose one of {', '.join(AUDIO_CODECS)}")
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected non-empty mono audio, got shape {x.shape}")
    if not kbps > 0:
        raise ValueError(f"bitrate must be positive, got {kbps} kbps")
    # Opus takes only some rates; other inputs are resampled to the next one up.
    codec_rate = rate if codec == "aac" else min((r for r in _OPUS_RATES if r >= rate), default=48000)
    buffer = io.BytesIO()
    packets: list[bytes] = []
    with av.open(buffer, mode="w", format="ogg" if codec == "opus" else "mp4") as out:
        stream = out.add_stream("libopus" if codec == "opus" else "aac", rate=codec_rate, layout="mono")
        stream.bit_rate = round(kbps * 1000)
        if codec == "opus":
            stream.options = {"application": "voip", "vbr": "off", "frame_duration": "20"}
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name,
            layout="mono",
            rate=codec_rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        for chunk in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(chunk):
                packets.append(bytes(packet))
                out.mux(packet)
    return AudioPackets(codec, float(kbps), rate, x.size, tuple(packets), buffer.getvalue())


def decode_audio(coded: AudioPackets, keep: Sequence[bool] | None = None) -> np.ndarray:
    """Float32 mono at the input rate and of the input's exact length; ``keep[i]`` False: packet i was lost.

    Only the packets kept reach the decoder; a lost packet's span (what it decodes to without loss) is silent.
    """
    kept = np.ones(len(coded.packets), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if kept.shape != (len(coded.packets),):
        raise ValueError(f"keep mask has shape {kept.shape}, expected ({len(coded.packets)},)")
    pieces, decoded_rate = _decode_packets(coded, kept)
    if not kept.all():
        spans = [p.size for p in _decode_packets(coded, np.ones_like(kept))[0]]
        pieces = [_fit(p, n) if k else np.zeros(n, np.float32) for p, n, k in zip(pieces, spans, kept, strict=True)]
    y = _resample(np.concatenate(pieces), decoded_rate, coded.rate)
    return np.pad(y[: coded.n_samples], (0, max(0, coded.n_samples - y.size))).astype(np.float32)


def _decode_packets(coded: AudioPackets, kept: np.ndarray) -> tuple[list[np.ndarray], int]:
    """What each packet decodes to (empty if not kept) at the decoder's rate, and that rate; the container's
    flush at the end belongs to the last packet."""
    av = require_av()
    pieces: list[list[np.ndarray]] = [[] for _ in coded.packets]
    decoded_rate = coded.rate
    with av.open(io.BytesIO(coded.container), mode="r") as inp:
        i = -1
        for packet in inp.demux(inp.streams.audio[0]):
            i += bool(packet.size)  # the empty packet at the end flushes the decoder
            if packet.size and not kept[i]:
                continue
            for frame in packet.decode():
                decoded_rate = frame.sample_rate
                pieces[i].append(frame.to_ndarray()[0].astype(np.float32))
    if i + 1 != len(coded.packets):
        raise SemtalkError(f"container holds {i + 1} packets, expected {len(coded.packets)}")
    return [np.concatenate(p) if p else np.zeros(0, np.float32) for p in pieces], decoded_rate


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` made ``n`` samples long, aligned at its end: the decoder drops the codec delay (Opus' pre-skip) from
    the first packet it decodes, so when the first packet is lost the next one comes out short at its start."""
    return x[-n:] if x.size >= n else np.pad(x, (n - x.size, 0))


def _resample(x: np.ndarray, rate: int, out_rate: int) -> np.ndarray:
    """The whole signal in one go: swresample gives the same samples however its input is chunked, so this is
    what resampling each decoded frame gives, and silence needs no frames of its own."""
    av = require_av()
    frame = av.AudioFrame.from_ndarray(x[None, :], format="fltp", layout="mono")
    frame.sample_rate, frame.pts = rate, 0
    back = av.AudioResampler(format="flt", layout="mono", rate=out_rate)
    out = [f.to_ndarray().ravel() for f in [*back.resample(frame), *back.resample(None)]]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


OPUS_SPAN_MS = 20
OPUS_LOOKAHEAD = 312  # libopus pre-skip in samples at 48 kHz


class OpusEncoder:
    """Streaming Opus for a call: 16 kHz mono float32 in, one CBR packet per 20 ms out (libopus, VoIP)."""

    def __init__(self, kbps: float, rate: int = 16000) -> None:
        from fractions import Fraction

        av = require_av()
        if rate not in _OPUS_RATES:
            raise ValueError(f"Opus takes {', '.join(map(str, _OPUS_RATES))} Hz, got {rate}")
        if not 6 <= kbps <= 510:
            raise ValueError(f"Opus bitrate must be in [6, 510] kbps, got {kbps}")
        self.rate, self.span = rate, rate * OPUS_SPAN_MS // 1000
        self._cc = av.CodecContext.create("libopus", "w")
        self._cc.sample_rate, self._cc.layout, self._cc.format = rate, "mono", "s16"
        self._cc.bit_rate = round(kbps * 1000)
        self._cc.time_base = Fraction(1, rate)
        self._cc.options = {"application": "voip", "vbr": "off", "frame_duration": str(OPUS_SPAN_MS)}
        self._cc.open()
        self._pts = 0

    def encode(self, span: np.ndarray) -> bytes:
        """The packet of exactly one span (``self.span`` samples)."""
        av = require_av()
        x = np.asarray(span, dtype=np.float32)
        if x.shape != (self.span,):
            raise ValueError(f"an Opus span is {self.span} samples, got shape {x.shape}")
        frame = av.AudioFrame.from_ndarray(np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)[None], format="s16",
                                           layout="mono")
        frame.sample_rate, frame.pts = self.rate, self._pts
        self._pts += self.span
        packets = [bytes(p) for p in self._cc.encode(frame)]
        if len(packets) != 1:
            raise SemtalkError(f"libopus gave {len(packets)} packets for one {OPUS_SPAN_MS} ms span")
        return packets[0]


class OpusDecoder:
    """Streaming decoder matching ``OpusEncoder``, lined up sample for sample with the encoder's input.

    ``decode(packet or None)`` for every span in order (None: the packet was lost, its span is silence, the
    convention of ``decode_audio``) returns the next span of output once it is complete: the codec's look-ahead
    (libopus pre-skip, 312 samples at 48 kHz) and the 48 → 16 kHz resampler's hold make the output one span late,
    and ``flush()`` gives the last one.
    """

    def __init__(self, rate: int = 16000) -> None:
        av = require_av()
        self.rate, self.span = rate, rate * OPUS_SPAN_MS // 1000
        self._cc = av.CodecContext.create("libopus", "r")
        self._cc.open()
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        self._buffer = np.zeros(0, np.float32)
        self._skip = OPUS_LOOKAHEAD * rate // 48000 - 1  # measured: the resampler's own delay is one sample

    def decode(self, packet: bytes | None) -> np.ndarray:
        av = require_av()
        pieces = [self._buffer]
        if packet is None:
            pieces.append(np.zeros(self.span, np.float32))
        else:
            for frame in self._cc.decode(av.Packet(packet)):
                pieces += [p.to_ndarray().ravel().astype(np.float32) for p in self._resampler.resample(frame)]
        self._buffer = np.concatenate(pieces)
        if self._skip:
            drop = min(self._skip, self._buffer.size)
            self._buffer, self._skip = self._buffer[drop:], self._skip - drop
        return self._take()

    def flush(self) -> np.ndarray:
        """The last span (its final few ms, which the next packet would have completed, are silent)."""
        self._buffer = np.concatenate([self._buffer, np.zeros(self.span, np.float32)])
        return self._take()

    def _take(self) -> np.ndarray:
        if self._buffer.size < self.span:
            return np.zeros(0, np.float32)
        out, self._buffer = self._buffer[: self.span], self._buffer[self.span:]
        return out
