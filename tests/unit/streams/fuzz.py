"""A hostile channel for the property tests of every stream receiver (issue 25).

``delivered`` plays an honest but lossy network: any subset of the packets, some twice, in any order.
``forged`` makes packets that are not the sender's: random bytes, truncated or bit-flipped copies, copies
whose sequence number jumps (+2049, +32767, to 65530 and beyond the wraparound), and copies with a wrong
version, payload type, SSRC, KB tag, timestamp or payload. ``face_streams`` draws what an honest face sender
sends and ``is_sent`` tells a delivered frame from anything else. ``fuzz`` is the one setting every such test
runs under: derandomized and without an example database, so CI replays exactly the same packets each run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from semtalk.records import CodedFrame, FaceFrame
from semtalk.semantics.face.quantize import Quantizer
from semtalk.streams.face import FacePacketizer, FaceStreamFormat
from semtalk.streams.facecode import FaceCoder
from semtalk.streams.packet import RtpPacket
from tests.unit.streams.payload_frames import BITS, N_COEFFS, TAG, random_walk

JUMPS = (2049, 32767, 32768, 65535 - 2049)  # sequence jumps no honest stream makes (−2049 is the last)
Draw = Callable[[st.SearchStrategy], object]
Q = Quantizer(np.zeros(N_COEFFS), np.arange(1.0, N_COEFFS + 1), BITS)  # the face streams' quantiser


def fuzz(max_examples: int) -> settings:
    """Settings of a fuzz test: reproducible (derandomized, no database), no per-example deadline."""
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


@dataclass(frozen=True)
class FaceStream:
    """What an honest face sender sent: its format, frames and packets, and which frames each packet holds."""

    fmt: FaceStreamFormat
    frames: list[CodedFrame]
    packets: list[bytes]
    indices: dict[bytes, list[int]]


@st.composite
def face_streams(draw: Draw, min_frames: int = 1, max_frames: int = 60) -> FaceStream:
    """A face stream of any length, packet size, first sequence number (65530: it wraps) and first timestamp."""
    fpp = draw(st.integers(1, 5))
    coder = draw(st.sampled_from([None, FaceCoder.lossless(N_COEFFS, BITS)]))  # payload version 1 or 2
    fmt = FaceStreamFormat(n_coeffs=N_COEFFS, bits=BITS, kb_tag=TAG, frames_per_packet=fpp, coder=coder,
                           first_seq=draw(st.one_of(st.sampled_from([0, 65530]), st.integers(0, 0xFFFF))),
                           first_timestamp=draw(st.one_of(st.sampled_from([0, (1 << 32) - 3600 * 2]),
                                                          st.integers(0, 0xFFFFFFFF))))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    frames = random_walk(rng, draw(st.integers(min_frames, max_frames)))
    return face_stream(fmt, frames)


def face_stream(fmt: FaceStreamFormat, frames: list[CodedFrame]) -> FaceStream:
    """``frames`` packetised, keeping which frames each packet holds so a test can say what must arrive."""
    pk = FacePacketizer(fmt)
    packets = [p for f in frames for p in pk.push(f)] + pk.flush()
    fpp = fmt.frames_per_packet
    indices = {p: list(range(i * fpp, min((i + 1) * fpp, len(frames)))) for i, p in enumerate(packets)}
    return FaceStream(fmt, frames, packets, indices)


def is_sent(frame: CodedFrame | FaceFrame, stream: FaceStream) -> bool:
    """True when ``frame`` is, bit for bit, the frame the sender sent at its index."""
    if not 0 <= frame.index < len(stream.frames):
        return False
    sent = stream.frames[frame.index]
    if isinstance(frame, CodedFrame):
        return frame.face_found == sent.face_found and np.array_equal(frame.codes, sent.codes)
    return (not frame.concealed and frame.face_found == sent.face_found
            and np.array_equal(frame.coeffs, Q.dequantize(sent.codes)))


@st.composite
def delivered(draw: Draw, packets: list[bytes], reorder: bool = True) -> list[bytes]:
    """Any subset of ``packets``, some duplicated, in any order (or in sending order, duplicates adjacent)."""
    kept = [p for p in packets if draw(st.booleans())]
    twice = set(draw(st.sets(st.sampled_from(range(len(kept))), max_size=len(kept) // 4))) if kept else set()
    out = [q for i, p in enumerate(kept) for q in ([p, p] if i in twice else [p])]
    return list(draw(st.permutations(out))) if reorder else out


def rebuilt(packet: bytes, **fields: object) -> bytes:
    """``packet`` with some RTP header fields replaced (a forger's copy)."""
    p = RtpPacket.parse(packet)
    kept = {"payload_type": p.payload_type, "sequence_number": p.sequence_number, "timestamp": p.timestamp,
            "ssrc": p.ssrc, "marker": p.marker, "payload": p.payload}
    return bytes(RtpPacket(**{**kept, **fields}))


@st.composite
def forged(draw: Draw, packets: list[bytes]) -> bytes:
    """One packet that is not the sender's, made from one of ``packets`` (or from nothing)."""
    base = draw(st.sampled_from(packets))
    p = RtpPacket.parse(base)
    kind = draw(st.sampled_from(["bytes", "truncate", "flip", "jump", "jump", "wrap", "seq", "seq", "version",
                                 "payload_type", "ssrc", "kb_tag", "timestamp", "payload"]))  # jumps: twice as often
    if kind == "bytes":
        return draw(st.binary(max_size=48))
    if kind == "truncate":
        return base[: draw(st.integers(0, len(base) - 1))]
    if kind == "flip":
        flipped = bytearray(base)
        for bit in draw(st.lists(st.integers(0, 8 * len(base) - 1), min_size=1, max_size=8)):
            flipped[bit // 8] ^= 1 << bit % 8
        return bytes(flipped)
    if kind in ("jump", "wrap", "seq"):
        seq = {"jump": lambda: p.sequence_number + draw(st.sampled_from(JUMPS)),
               "wrap": lambda: 65530 + draw(st.integers(0, 11)),
               "seq": lambda: draw(st.integers(0, 0xFFFF))}[kind]()
        return rebuilt(base, sequence_number=seq & 0xFFFF)
    if kind == "version":
        version = draw(st.sampled_from([0, 1, 3]))
        return bytes([(base[0] & 0x3F) | version << 6]) + base[1:]
    if kind == "payload_type":
        return rebuilt(base, payload_type=draw(st.integers(0, 127).filter(lambda t: t != p.payload_type)))
    if kind == "ssrc":
        return rebuilt(base, ssrc=draw(st.integers(0, 0xFFFFFFFF).filter(lambda s: s != p.ssrc)))
    if kind == "kb_tag":
        tag = draw(st.integers(0, 255).filter(lambda t: len(p.payload) < 2 or t != p.payload[1]))
        return rebuilt(base, payload=p.payload[:1] + bytes([tag]) + p.payload[2:])
    if kind == "timestamp":
        return rebuilt(base, timestamp=draw(st.integers(0, 0xFFFFFFFF)))
    return rebuilt(base, payload=p.payload[:2] + draw(st.binary(max_size=len(p.payload) + 8)))


@st.composite
def with_forgeries(draw: Draw, honest: list[bytes], sources: list[bytes], max_forged: int = 4, head: int = 0,
                   tail: int = 0) -> tuple[list[bytes], int]:
    """``honest`` with up to ``max_forged`` forged packets (made from ``sources``) slipped in anywhere but before
    its first ``head`` or among its last ``tail``, and their number. Some come as a pair with consecutive
    sequence numbers, which confirms a jump (RFC 3550 A.1)."""
    stream, count = list(honest), 0
    for fake in draw(st.lists(forged(sources), min_size=1, max_size=max_forged)):
        try:
            pair = [fake, rebuilt(fake, sequence_number=RtpPacket.parse(fake).sequence_number + 1 & 0xFFFF)]
        except ValueError:
            pair = [fake]
        fakes = pair[: draw(st.integers(1, 2))]
        at = draw(st.integers(min(head, len(stream)), max(len(stream) - tail, min(head, len(stream)))))
        stream[at:at] = fakes
        count += len(fakes)
    return stream, count
