"""PacSC as a packet code of the face stream: each row of the learned code E is one RTP packet.

PacSC replaces both the face packetiser and the packet FEC (SyncSC §III-B): the sender codes a block
of ``F = 20`` frames into ``M`` rows (8 at code rate 1/2, 16 at 1/4) and sends each row as an RTP
packet; the receiver decodes whatever rows arrived (lost rows zeroed and masked) into the block's
frames, which then go through the usual play-out and concealment. There is no repair stream, so the
link's FEC stage is a pass-through. Two codes share this stream:

- ``pacsc`` (default): systematic — rows 0 … 3 are the 8-bit codes, the rest real-valued parity,
  decoded with a learned prior (``pacsc_linear``); exact whenever the codes arrive.
- ``pacsc-mae``: the paper's masked-autoencoder transformer (``pacsc_model``); every row is learned.

Payload of a row packet::

    byte 0   version (2 bits) = 2 | systematic (1) | frames in the block − 1 (5)
    byte 1   KB tag: first byte of the knowledge-base hash
    byte 2   row index within the block
    bytes    D_p values, 8 bits each: codes, or levels uniform over the code's range

All rows of a block carry the RTP timestamp of its first frame. A block is decoded as soon as every
frame is in (all rows; for the systematic code, all code rows), or when its first frame is due for
play-out (``due``), whichever comes first. The per-frame face flag is not sent: decoded frames count as
faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import ClassVar, Protocol

import numpy as np

from semtalk.fec.base import Depacketizer, Packetizer
from semtalk.fec.reed_solomon import ReedSolomonFec
from semtalk.learned.pacsc.config import LEVELS, PacscConfig, rate_config
from semtalk.learned.weights import shipped
from semtalk.records import CodedFrame
from semtalk.streams.face import FaceStreamFormat
from semtalk.streams.packet import RtpPacket, StreamFilter

PAYLOAD_VERSION = 2
HEADER_BYTES = 3
WEIGHTS = "pacsc.pt"
FACE_FRAMES_PER_PACKET = 5  # the face payload's default, so a 20-frame block spans k = 4 of its packets
REFERENCE_ROWS = 4  # the KB reference frame counts as this many received code rows toward the speaker's mean


class Codec(Protocol):
    """What the packetiser and depacketiser need of a block code (``PacscCodec``, ``LinearCodec``)."""

    cfg: PacscConfig
    systematic: bool

    def encode(self, frames: np.ndarray) -> np.ndarray: ...

    def decode(self, rows: np.ndarray, received: np.ndarray, previous: np.ndarray | None = None,
               lag: int = 1, seen: tuple[np.ndarray, int] | None = None,
               ahead: tuple[np.ndarray, int] | None = None) -> np.ndarray: ...


@lru_cache(maxsize=4)
def load_model(code_rate: float):
    """The trained ``PacscModel`` for ``code_rate`` (float32, eval mode), built once."""
    from semtalk.learned.pacsc.model import PacscModel

    cfg = rate_config(code_rate)
    entry = shipped(WEIGHTS)["models"][str(cfg.code_rate)]
    if PacscConfig(**entry["config"]) != cfg:
        raise ValueError(f"shipped PacSC weights do not match the configuration of rate {code_rate}")
    model = PacscModel(cfg)
    model.load_state_dict({k: v.float() for k, v in entry["state"].items()})
    return model.eval()


class PacscCodec:
    """Block coding with exact bytes: ``encode`` frames → rows, ``decode`` received rows → frames."""

    systematic = False

    def __init__(self, code_rate: float, model=None):
        self.cfg = rate_config(code_rate)
        self._model = model

    @property
    def model(self):
        if self._model is None:
            self._model = load_model(self.cfg.code_rate)
        return self._model

    def encode(self, frames: np.ndarray) -> np.ndarray:
        """(F, C) values in [0, 1] → (M, D_p) uint8 rows (eqs. 10–13, then 8-bit quantisation)."""
        import torch

        x = torch.as_tensor(np.asarray(frames, dtype=np.float32)).reshape(1, self.cfg.frames, self.cfg.n_coeffs)
        with torch.no_grad():
            e = self.model.encode(x)[0].numpy()
        return np.clip(np.rint((e + 1) / 2 * LEVELS), 0, LEVELS).astype(np.uint8)

    def decode(self, rows: np.ndarray, received: np.ndarray, previous: np.ndarray | None = None,
               lag: int = 1, seen: tuple[np.ndarray, int] | None = None,
               ahead: tuple[np.ndarray, int] | None = None) -> np.ndarray:
        """(M, D_p) uint8 rows (lost ones ignored) and their (M,) mask → (F, C) values in [0, 1].

        Blocks are decoded on their own, as in the paper: the receiver's history is not used.
        """
        import torch

        mask = torch.as_tensor(np.asarray(received, dtype=np.float32))[None]
        e = torch.as_tensor(np.asarray(rows, dtype=np.float32) / LEVELS * 2 - 1)[None] * mask[..., None]
        with torch.no_grad():
            x = self.model.decode(e, mask)[0].numpy()
        return np.clip(x, 0.0, 1.0)


class PacscPacketizer:
    """Coded frames in; every ``F`` frames, the block's ``M`` row packets out (a list, maybe empty)."""

    def __init__(self, fmt: FaceStreamFormat, codec: Codec):
        if fmt.n_coeffs != codec.cfg.n_coeffs or fmt.bits != 8:
            raise ValueError(f"PacSC codes {codec.cfg.n_coeffs} coefficients of 8 bits per frame, the stream has "
                             f"{fmt.n_coeffs} of {fmt.bits} bits")
        self.fmt, self.codec = fmt, codec
        self._frames: list[CodedFrame] = []
        self._seq = fmt.first_seq
        self.payload_bits = 0
        self.packets = 0

    def push(self, frame: CodedFrame) -> list[bytes]:
        self._frames.append(frame)
        return self.flush() if len(self._frames) >= self.codec.cfg.frames else []

    def flush(self) -> list[bytes]:
        """Code the frames so far; a short last block is padded by repeating its last frame."""
        if not self._frames:
            return []
        cfg, fmt = self.codec.cfg, self.fmt
        frames, self._frames = self._frames, []
        codes = np.stack([f.codes for f in frames] + [frames[-1].codes] * (cfg.frames - len(frames)))
        rows = self.codec.encode(codes.astype(np.float32) / ((1 << fmt.bits) - 1))
        ts = (fmt.first_timestamp + frames[0].index * fmt.ticks_per_frame) & 0xFFFFFFFF
        out = []
        for r, row in enumerate(rows):
            head = (PAYLOAD_VERSION << 6) | (self.codec.systematic << 5) | (len(frames) - 1)
            payload = bytes([head, fmt.kb_tag, r]) + row.tobytes()
            pkt = RtpPacket(payload_type=fmt.payload_type, sequence_number=self._seq & 0xFFFF, timestamp=ts,
                            ssrc=fmt.ssrc, marker=frames[0].index == 0 and r == 0, payload=payload)
            out.append(bytes(pkt))
            self._seq += 1
            self.payload_bits += 8 * len(payload)
        self.packets += len(out)
        return out


@dataclass
class _Pending:
    frames: int
    rows: dict[int, bytes] = field(default_factory=dict)
    played: int = 0  # frames already handed out (their values are final)
    cache: tuple | None = None  # (what the last decode rested on, its frames)


class PacscDepacketizer(StreamFilter):
    """Row packets in any order → coded frames. Never raises: malformed packets are counted and dropped.

    A block whose code rows are all in comes out at once, exactly. One with lost rows comes out frame by
    frame as play-out reaches it (``due``), each frame decoded from everything in by then: rows of this
    block that came late, and the first code row of a later block, which arrives while this one plays.
    """

    def __init__(self, fmt: FaceStreamFormat, codec: Codec, reference: np.ndarray | None = None):
        super().__init__(fmt.ssrc, fmt.payload_type, fmt.kb_tag)
        self.fmt, self.codec = fmt, codec
        self._needed = range(codec.cfg.systematic_rows if codec.systematic else codec.cfg.rows)
        self._last: tuple[int, np.ndarray] | None = None  # index and values of the last decoded frame
        self._seen_sum: np.ndarray | None = None  # sum of the frames of every systematic row received
        self._seen_rows = 0
        if reference is not None:
            # The KB's reference codes (the enrollment frame nearest the speaker's mean face): what the
            # receiver knows before any row arrives, so it anchors the first blocks and seeds the mean.
            ref = np.asarray(reference, dtype=np.float64) / ((1 << fmt.bits) - 1)
            self._last = (-1, ref)
            self._seen_sum, self._seen_rows = ref * codec.cfg.frames_per_row * REFERENCE_ROWS, REFERENCE_ROWS
        self._pending: dict[int, _Pending] = {}  # first frame index -> rows so far
        self._done: set[int] = set()  # blocks decoded before they were due (all rows in)
        self._due = 0  # frames below this index are played: blocks before it are decoded or given up
        self.late = 0
        self.blocks = 0
        self.recovered = 0  # the code has no repair packets: lost rows are decoded around, not restored

    def push(self, data: bytes) -> list[CodedFrame]:
        """Take one packet; return the block's frames not yet handed out if it completed the block."""
        pkt = self.admit(data)
        if pkt is None:
            return []
        p, cfg = pkt.payload, self.codec.cfg
        index, rest = divmod((pkt.timestamp - self.fmt.first_timestamp) & 0xFFFFFFFF, self.fmt.ticks_per_frame)
        frames = (p[0] & 0x1F) + 1 if p else 0
        if (len(p) != HEADER_BYTES + cfg.d_p or p[0] >> 6 != PAYLOAD_VERSION or rest or p[2] >= cfg.rows
                or frames > cfg.frames or bool(p[0] >> 5 & 1) != self.codec.systematic):
            self.garbage += 1
            return []
        if index in self._done or (index < self._due and index not in self._pending):
            self.late += 1
            return []
        block = self._pending.setdefault(index, _Pending(frames))
        if block.frames != frames:
            self.garbage += 1
            return []
        block.rows.setdefault(p[2], p[HEADER_BYTES:])
        return self._emit(index, frames) if all(r in block.rows for r in self._needed) else []

    def due(self, until: float) -> list[CodedFrame]:
        """Decode, from the rows in so far, every pending frame whose index is below ``until``."""
        out = []
        for index in sorted(i for i in self._pending if i < until):
            out += self._emit(index, until - index)
        self._due = max(self._due, until)
        self._done = {i for i in self._done if i >= self._due}  # bounded: only blocks not yet due
        return out

    def _ahead(self, index: int) -> tuple[np.ndarray, int] | None:
        """The first exact frame received after block ``index`` and its distance from the block's last frame."""
        if not self.codec.systematic:
            return None
        cfg = self.codec.cfg
        starts = [(i + r * cfg.frames_per_row, b.rows[r]) for i, b in self._pending.items() if i > index
                  for r in range(cfg.systematic_rows) if r in b.rows and r * cfg.frames_per_row < b.frames]
        if not starts:
            return None
        first, row = min(starts, key=lambda s: s[0])
        end = index + self._pending[index].frames - 1
        return np.frombuffer(row, dtype=np.uint8)[:cfg.n_coeffs] / LEVELS, first - end

    def _emit(self, index: int, count: float) -> list[CodedFrame]:
        """Frames ``played … count − 1`` of block ``index`` (all of them once the block is complete)."""
        block = self._pending[index]
        complete = all(r in block.rows for r in self._needed)
        stop = block.frames if complete or count >= block.frames else math.ceil(count)
        if stop <= block.played:
            return []
        ahead = None if complete else self._ahead(index)
        key = (tuple(sorted(block.rows)), None if ahead is None else ahead[1])
        if block.cache is None or block.cache[0] != key:
            block.cache = (key, self._decode(index, block, ahead))
        values = block.cache[1]
        codes = np.rint(values * LEVELS).astype(np.uint16)
        out = [CodedFrame(index + i, codes[i]) for i in range(block.played, stop)]
        block.played = stop
        if stop == block.frames:
            self._finish(index, block, values)
        return out

    def _decode(self, index: int, block: _Pending, ahead: tuple[np.ndarray, int] | None) -> np.ndarray:
        cfg = self.codec.cfg
        rows = np.zeros((cfg.rows, cfg.d_p), dtype=np.uint8)
        received = np.zeros(cfg.rows, dtype=bool)
        for r, data in block.rows.items():
            rows[r] = np.frombuffer(data, dtype=np.uint8)
            received[r] = True
        # The last frame decoded before this block, however old (the code weighs it by its lag), and the
        # mean of every exact frame so far: this speaker's own mean face, which a weak block shrinks to.
        last = self._last if self._last is not None and self._last[0] < index else None
        seen = None if self._seen_sum is None else (self._seen_sum / (self._seen_rows * cfg.frames_per_row),
                                                    self._seen_rows)
        return self.codec.decode(rows, received, None if last is None else last[1],
                                 1 if last is None else index - last[0], seen, ahead)

    def _finish(self, index: int, block: _Pending, values: np.ndarray) -> None:
        cfg = self.codec.cfg
        del self._pending[index]
        self._done.add(index)
        if self.codec.systematic:
            for r in range(cfg.systematic_rows):
                if r in block.rows:
                    part = values[r * cfg.frames_per_row:(r + 1) * cfg.frames_per_row].sum(0)
                    self._seen_sum = part if self._seen_sum is None else self._seen_sum + part
                    self._seen_rows += 1
        self._last = (index + block.frames - 1, values[block.frames - 1])
        self.blocks += 1


@dataclass(frozen=True)
class PacscFec:
    """The ``fec`` registry entry: PacSC at ``code_rate`` 1/2 or 1/4 over 20-frame blocks.

    A ``StreamCode`` that replaces the face packetiser: the rows are the packets, there is no repair
    stream. ``k = 4`` (the block spans four 5-frame face packets, which sets the play-out delay as for
    RS) and ``n = M`` packets are sent. The words of the call keep Reed–Solomon at the same rate.
    """

    k: int = 4
    code_rate: float = 0.5
    n: int = field(init=False)
    systematic: ClassVar[bool] = True

    def __post_init__(self) -> None:
        cfg = rate_config(self.code_rate)
        if self.k != cfg.frames // FACE_FRAMES_PER_PACKET:
            raise ValueError(f"PacSC blocks are {cfg.frames} frames: k must be "
                             f"{cfg.frames // FACE_FRAMES_PER_PACKET}, got {self.k}")
        object.__setattr__(self, "code_rate", cfg.code_rate)
        object.__setattr__(self, "n", cfg.rows)

    @cached_property
    def codec(self) -> Codec:
        """This entry's block code, loaded once and shared by both halves."""
        from semtalk.learned.pacsc.linear import LinearCodec

        return LinearCodec(self.code_rate) if self.systematic else PacscCodec(self.code_rate)

    def check_stream(self, frames_per_packet: int) -> None:
        if frames_per_packet != FACE_FRAMES_PER_PACKET:
            raise ValueError(f"PacSC is trained for 20-frame blocks of {FACE_FRAMES_PER_PACKET}-frame packets, "
                             f"got {frames_per_packet} frames per packet")

    def sender(self, packetizer: Packetizer) -> PacscPacketizer:
        return PacscPacketizer(packetizer.fmt, self.codec)

    def receiver(self, depacketizer: Depacketizer, prior: np.ndarray | None = None) -> PacscDepacketizer:
        """``prior``: the KB reference frame's codes, which the receiver starts from."""
        return PacscDepacketizer(depacketizer.fmt, self.codec, prior)

    def packet_code(self) -> ReedSolomonFec:
        return ReedSolomonFec(k=self.k, code_rate=self.code_rate)


class PacscMaeFec(PacscFec):
    """The ``pacsc-mae`` registry entry: the paper's code, every row learned (``model``)."""

    systematic: ClassVar[bool] = False
