"""RTP payload for face coefficients: N frames per packet, delta + Exp-Golomb coded.

Payload layout::

    byte 0   version (2 bits) = 1 | reserved (2) | frames − 1 (4)
    byte 1   KB tag: first byte of the knowledge-base hash
    bits     frame 0: face flag (1) + every code raw (``bits`` each)
             frame i>0: face flag (1) + every code as a signed Exp-Golomb delta from frame i−1

Each packet decodes on its own (the deltas never cross packets), so a lost packet costs only its
frames. The RTP timestamp is that of the first frame (90 kHz), which gives the frame indices.
The receiver drops packets whose sequence number jumps (RFC 3550 A.1, ``packet.SequenceUnwrapper``);
how far ahead a frame index may be is the play-out buffer's to judge, which knows the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semtalk.records import CodedFrame
from semtalk.streams.bits import BitReader, BitWriter
from semtalk.streams.packet import VIDEO_CLOCK_RATE, RtpPacket, SequenceUnwrapper, StreamFilter

PAYLOAD_VERSION = 1
MAX_FRAMES = 16


@dataclass(frozen=True)
class FaceStreamFormat:
    """What sender and receiver agree on at session start (the SDP of a semtalk call)."""

    n_coeffs: int
    bits: int
    kb_tag: int
    fps: float = 25.0
    frames_per_packet: int = 5
    payload_type: int = 96
    ssrc: int = 0x5E7A1C01
    first_seq: int = 0
    first_timestamp: int = 0

    @property
    def ticks_per_frame(self) -> int:
        return round(VIDEO_CLOCK_RATE / self.fps)


def encode_payload(frames: list[CodedFrame], fmt: FaceStreamFormat) -> bytes:
    if not 1 <= len(frames) <= MAX_FRAMES:
        raise ValueError(f"a face packet carries 1..{MAX_FRAMES} frames, got {len(frames)}")
    w = BitWriter()
    prev = None
    for f in frames:
        w.write(int(f.face_found), 1)
        codes = np.asarray(f.codes, dtype=np.int64)
        if prev is None:
            for c in codes:
                w.write(int(c), fmt.bits)
        else:
            for d in codes - prev:
                w.write_se(int(d))
        prev = codes
    return bytes([(PAYLOAD_VERSION << 6) | (len(frames) - 1), fmt.kb_tag]) + w.to_bytes()


def decode_payload(payload: bytes, fmt: FaceStreamFormat, first_index: int) -> list[CodedFrame]:
    """Frames of one payload; ``ValueError`` with a clear message for anything malformed."""
    if len(payload) < 2:
        raise ValueError("face payload shorter than its 2-byte header")
    if payload[0] >> 6 != PAYLOAD_VERSION:
        raise ValueError(f"face payload version {payload[0] >> 6} is not {PAYLOAD_VERSION}")
    if payload[1] != fmt.kb_tag:
        raise ValueError("face payload was coded for another knowledge base")
    n = (payload[0] & 0x0F) + 1
    r = BitReader(payload[2:])
    top = (1 << fmt.bits) - 1
    frames, prev = [], None
    for i in range(n):
        found = bool(r.read(1))
        if prev is None:
            codes = np.array([r.read(fmt.bits) for _ in range(fmt.n_coeffs)], dtype=np.int64)
        else:
            codes = prev + np.array([r.read_se() for _ in range(fmt.n_coeffs)], dtype=np.int64)
        if codes.min() < 0 or codes.max() > top:
            raise ValueError("face payload delta leaves the quantiser range")
        frames.append(CodedFrame(first_index + i, codes.astype(np.uint16), found))
        prev = codes
    return frames


class FacePacketizer:
    """Groups coded frames into RTP packets; ``push`` returns the packet (a one-item list) when one is full."""

    def __init__(self, fmt: FaceStreamFormat):
        self.fmt = fmt
        self._frames: list[CodedFrame] = []
        self._seq = fmt.first_seq
        self.payload_bits = 0
        self.packets = 0

    def push(self, frame: CodedFrame) -> list[bytes]:
        self._frames.append(frame)
        return self.flush() if len(self._frames) >= self.fmt.frames_per_packet else []

    def flush(self) -> list[bytes]:
        if not self._frames:
            return []
        payload = encode_payload(self._frames, self.fmt)
        ts = (self.fmt.first_timestamp + self._frames[0].index * self.fmt.ticks_per_frame) & 0xFFFFFFFF
        pkt = RtpPacket(payload_type=self.fmt.payload_type, sequence_number=self._seq & 0xFFFF, timestamp=ts,
                        ssrc=self.fmt.ssrc, marker=self._frames[0].index == 0, payload=payload)
        self._seq += 1
        self.payload_bits += 8 * len(payload)
        self.packets += 1
        self._frames = []
        return [bytes(pkt)]


class FaceDepacketizer(StreamFilter):
    """Bytes from the network → coded frames. Never raises: anything malformed, or a sequence number that
    jumps, is counted as garbage and dropped."""

    def __init__(self, fmt: FaceStreamFormat):
        super().__init__(fmt.ssrc, fmt.payload_type, fmt.kb_tag)
        self.fmt = fmt
        self._unwrap = SequenceUnwrapper(first=fmt.first_seq)

    def __call__(self, data: bytes) -> list[CodedFrame]:
        pkt = self.admit(data)
        if pkt is None:
            return []
        ticks = (pkt.timestamp - self.fmt.first_timestamp) & 0xFFFFFFFF
        index, rest = divmod(ticks, self.fmt.ticks_per_frame)
        try:
            if rest:
                raise ValueError("timestamp is not on a frame boundary")
            frames = decode_payload(pkt.payload, self.fmt, index)
        except ValueError:
            self.garbage += 1
            return []
        if self._unwrap(pkt.sequence_number) is None:
            self.garbage += 1
            return []
        return frames
