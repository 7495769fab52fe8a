"""RTP payload for face coefficients: N frames per packet, entropy coded (version 2) or Exp-Golomb (version 1).

Payload layout::

    byte 0   version (2 bits) | reserved (2) | frames − 1 (4)
    byte 1   KB tag: first byte of the knowledge-base hash
    version 1 (``fmt.coder`` None), bits:
             frame 0: face flag (1) + every code raw (``bits`` each)
             frame i>0: face flag (1) + every code as a signed Exp-Golomb delta from frame i−1
    version 2 (``fmt.coder`` a ``facecode.FaceCoder``), 32-bit words:
             the packet's precision level, face flags and codes, range coded (``streams.facecode``), and with
             ``fmt.field_grid`` the packet's rendering variant and motion field (``modes.syncsc.motion``)

Version 2 replaces version 1 for the SyncSC stream (about 20 % fewer bits lossless, and precision the rate
controller can trade); version 1 stays decodable and selectable (``--video-kbps 0``) because it needs no KB
models, so it is the before/after baseline and the fallback of a stream whose receiver lacks them. A format
says which one both ends speak; a packet of the other version is garbage.

Each packet decodes on its own (the deltas never cross packets), so a lost packet costs only its
frames. The RTP timestamp is that of the first frame (90 kHz), which gives the frame indices.
The receiver drops packets whose sequence number jumps (RFC 3550 A.1, ``packet.SequenceUnwrapper``);
how far ahead a frame index may be is the play-out buffer's to judge, which knows the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from semtalk.records import CodedFrame
from semtalk.streams.bits import BitReader, BitWriter
from semtalk.streams.facecode import LEVELS, FaceCoder
from semtalk.streams.packet import VIDEO_CLOCK_RATE, RtpPacket, SequenceUnwrapper, StreamFilter

PAYLOAD_VERSION = 1  # Exp-Golomb
CODED_VERSION = 2  # range coded (``streams.facecode``)
MAX_FRAMES = 16
HEADER_BYTES = 2


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
    coder: FaceCoder | None = field(default=None, compare=False)  # None: version 1
    target_kbps: float | None = None  # the sender's rate target (version 2); None: lossless
    field_grid: int = 0  # version 2: the motion field's lattice side (one field per packet); 0: none

    @property
    def ticks_per_frame(self) -> int:
        return round(VIDEO_CLOCK_RATE / self.fps)

    @property
    def version(self) -> int:
        return PAYLOAD_VERSION if self.coder is None else CODED_VERSION


def encode_payload(frames: list[CodedFrame], fmt: FaceStreamFormat, level: int = 0, field: bool = True) -> bytes:
    """One packet's payload; ``level`` is the version-2 precision (0 lossless; version 1 is always lossless).
    With ``fmt.field_grid`` the packet carries its frames' rendering variant and motion field (the first frame's:
    the sender gives every frame of a packet the same), the field unless ``field`` is False or the frames have
    none."""
    if not 1 <= len(frames) <= MAX_FRAMES:
        raise ValueError(f"a face packet carries 1..{MAX_FRAMES} frames, got {len(frames)}")
    head = bytes([(fmt.version << 6) | (len(frames) - 1), fmt.kb_tag])
    if fmt.coder is not None:
        codes = np.stack([np.asarray(f.codes, dtype=np.int64) for f in frames])
        if codes.min() < 0 or codes.max() > fmt.coder.top:
            raise ValueError(f"face codes must be in 0..{fmt.coder.top}")
        lattice = frames[0].field if field and fmt.field_grid else None
        return head + fmt.coder.encode(codes, np.array([f.face_found for f in frames]), level, fmt.field_grid,
                                       lattice, frames[0].variant if fmt.field_grid else 0)
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
    return head + w.to_bytes()


def decode_payload(payload: bytes, fmt: FaceStreamFormat, first_index: int) -> list[CodedFrame]:
    """Frames of one payload; ``ValueError`` with a clear message for anything malformed."""
    if len(payload) < HEADER_BYTES:
        raise ValueError("face payload shorter than its 2-byte header")
    if payload[0] >> 6 != fmt.version:
        raise ValueError(f"face payload version {payload[0] >> 6} is not {fmt.version}")
    if payload[1] != fmt.kb_tag:
        raise ValueError("face payload was coded for another knowledge base")
    n = (payload[0] & 0x0F) + 1
    if fmt.coder is not None:
        if payload[0] & 0x30:
            raise ValueError("face payload reserved bits are set")
        codes, found, _, field, variant = fmt.coder.decode(payload[HEADER_BYTES:], n, fmt.field_grid)
        return [CodedFrame(first_index + i, codes[i], bool(found[i]), field, variant) for i in range(n)]
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
    """Groups coded frames into RTP packets; ``push`` returns the packet (a one-item list) when one is full.

    Rate control (version 2 with ``fmt.target_kbps``): each packet takes the finest precision level whose
    payload keeps the stream's bits within the target over all frames so far (the packet is coded at a few
    levels, bisecting; every level is a few hundred microseconds). The budget of one packet is capped at twice
    its share, so savings from a still stretch are not spent at once. A motion field goes with the packet when it
    fits at some level (it is worth more SSIM than any coefficient precision: docs/face-rate.md); when even the
    coarsest level with it does not fit, the packet goes without it.
    """

    def __init__(self, fmt: FaceStreamFormat):
        self.fmt = fmt
        self._frames: list[CodedFrame] = []
        self._seq = fmt.first_seq
        self.payload_bits = 0
        self.packets = 0
        self.frames = 0
        self.level_sum = 0  # sum of the packets' precision levels (version 2)
        self.fields = 0  # packets that carried a motion field
        self.field_bits = 0  # what those fields cost (the packet's bits with the field less those without)

    def push(self, frame: CodedFrame) -> list[bytes]:
        self._frames.append(frame)
        return self.flush() if len(self._frames) >= self.fmt.frames_per_packet else []

    def flush(self) -> list[bytes]:
        if not self._frames:
            return []
        self.frames += len(self._frames)
        payload = self._payload()
        ts = (self.fmt.first_timestamp + self._frames[0].index * self.fmt.ticks_per_frame) & 0xFFFFFFFF
        pkt = RtpPacket(payload_type=self.fmt.payload_type, sequence_number=self._seq & 0xFFFF, timestamp=ts,
                        ssrc=self.fmt.ssrc, marker=self._frames[0].index == 0, payload=payload)
        self._seq += 1
        self.payload_bits += 8 * len(payload)
        self.packets += 1
        self._frames = []
        return [bytes(pkt)]

    def _payload(self) -> bytes:
        fmt = self.fmt
        field = fmt.field_grid > 0 and fmt.coder is not None and self._frames[0].field is not None
        if fmt.coder is None or fmt.target_kbps is None:
            payload = encode_payload(self._frames, fmt)
            level = 0
        else:
            share = fmt.target_kbps * 1000 / fmt.fps
            budget = min(share * self.frames - self.payload_bits, 2 * share * len(self._frames))
            level, payload = self._fit(budget, field)
            if field and 8 * len(payload) > budget:
                field = False
                level, payload = self._fit(budget, False)
            self.level_sum += level
        if field:
            self.fields += 1
            self.field_bits += 8 * (len(payload) - len(encode_payload(self._frames, fmt, level, field=False)))
        return payload

    def _fit(self, budget: float, field: bool) -> tuple[int, bytes]:
        """The finest level whose payload fits ``budget`` bits (the coarsest when none does), and that payload."""
        lo, hi = 0, LEVELS - 1  # the finest level that fits is in [lo, hi]; hi is the fallback
        coded = {hi: encode_payload(self._frames, self.fmt, hi, field)}
        while lo < hi:
            mid = (lo + hi) // 2
            coded[mid] = encode_payload(self._frames, self.fmt, mid, field)
            if 8 * len(coded[mid]) <= budget:
                hi = mid
            else:
                lo = mid + 1
        return hi, coded[hi]


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
