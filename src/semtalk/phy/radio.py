"""``DigitalRadio``: packets over a simulated radio link, delivered intact or erased, never corrupted.

Chain per ``transmit`` call (one batch, all packets in one symbol stream so Sionna is called once per step):
packet bytes → code blocks (≤ ``max_block_bytes`` payload bytes each, equal sizes, zero-padded) → CRC → 5G
LDPC with rate matching → Gray QAM → AWGN or block Rayleigh (pilots if CSI is estimated) → ZF equalisation →
APP soft demapping → BP decoding → CRC check. A packet is delivered iff every one of its blocks passes the CRC
*and* decodes to what was sent; a block whose CRC passes on wrong bits (probability ~2⁻²⁴ per failed block for
CRC24A) is counted in ``undetected_errors`` and still erased, because the layers above (RS, PacSC, TextPC)
assume an erasure channel.

The three stages ``encode`` → ``propagate`` → ``decode`` are public so a test or a study can tamper with the
received LLRs in between; ``transmit`` is their composition.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, fields
from fractions import Fraction

import numpy as np

from semtalk.phy.channel import ChannelKind, CsiKind, PilotLayout, through_channel
from semtalk.phy.ldpc import BpMethod, DecoderKind, LdpcBlockCode
from semtalk.phy.modem import Modem, bits_per_symbol, hard_decisions

LDPC_RATES = (Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(5, 6))


def ldpc_rate(rate: float | str | Fraction) -> Fraction:
    """Snap 0.5, "1/2", 0.333… to one of the supported 5G rates ``LDPC_RATES``, else ValueError."""
    value = Fraction(rate) if isinstance(rate, str) else Fraction(rate).limit_denominator(1000)
    for r in LDPC_RATES:
        if abs(float(value) - float(r)) < 0.005:
            return r
    raise ValueError(f"unsupported LDPC rate {rate}; choose one of {', '.join(str(r) for r in LDPC_RATES)}")


@dataclass(frozen=True)
class RadioConfig:
    """A digital radio scheme. ``coherence`` is the fading block length in symbols, pilots included (Rayleigh)."""

    modulation: str = "qpsk"
    ldpc_rate: float | str | Fraction = Fraction(1, 2)
    channel: ChannelKind = "awgn"
    coherence: int = 1
    csi: CsiKind = "perfect"
    pilots: int = 1
    max_block_bytes: int = 125  # ≤ 1000 payload bits + 24 CRC bits per LDPC code block
    crc: str = "CRC24A"
    num_iter: int = 20
    decoder: DecoderKind = "ldpc"
    bp_method: BpMethod = "product_sum"

    def __post_init__(self) -> None:
        bits_per_symbol(self.modulation)
        object.__setattr__(self, "ldpc_rate", ldpc_rate(self.ldpc_rate))
        if self.channel not in ("awgn", "rayleigh"):
            raise ValueError(f"unknown channel {self.channel!r}; choose awgn or rayleigh")
        if self.csi not in ("perfect", "estimated"):
            raise ValueError(f"unknown csi {self.csi!r}; choose perfect or estimated")
        if self.csi == "estimated":
            if self.channel != "rayleigh":
                raise ValueError("csi 'estimated' needs channel 'rayleigh'")
            PilotLayout(self.coherence, self.pilots)  # validates coherence > pilots
        if self.coherence < 1 or not 1 <= self.max_block_bytes <= 1000:
            raise ValueError("coherence must be ≥ 1 and max_block_bytes in 1..1000")


@dataclass(frozen=True, eq=False)  # holds arrays
class Transmission:
    """What the transmitter sent: the packets, the block layout and the coded bit / symbol streams."""

    packets: tuple[bytes, ...]
    block_packet: np.ndarray  # [blocks] index of the packet each code block belongs to
    block_bytes: np.ndarray  # [blocks] payload bytes per block (packet bytes + zero padding)
    block_offsets: np.ndarray  # [blocks + 1] bit offsets of each codeword in ``coded_bits``
    coded_bits: np.ndarray  # uint8 stream of all codewords in block order
    symbols: np.ndarray  # complex64 data symbols (pilots are added by the channel)


@dataclass(frozen=True, eq=False)  # holds arrays
class Reception:
    """What the receiver got: soft bits for ``coded_bits`` and the channel uses it took."""

    llr: np.ndarray  # float32, logit convention (positive = bit 1)
    channel_uses: int
    pilot_symbols: int


class _Rates:
    """Error rates from the counts (shared by one transmission's outcome and a link's running totals)."""

    coded_bits: int
    uncoded_bit_errors: int
    info_bits: int
    coded_bit_errors: int
    blocks: int
    block_errors: int

    @property
    def ber_uncoded(self) -> float:
        return self.uncoded_bit_errors / self.coded_bits if self.coded_bits else 0.0

    @property
    def ber_coded(self) -> float:
        return self.coded_bit_errors / self.info_bits if self.info_bits else 0.0

    @property
    def bler(self) -> float:
        return self.block_errors / self.blocks if self.blocks else 0.0


@dataclass(frozen=True)
class RadioOutcome(_Rates):
    """Per packet its exact bytes or None (erased), plus the link counts of one ``transmit`` call."""

    packets: list[bytes | None]
    channel_uses: int  # complex symbols on the air, pilots included
    pilot_symbols: int
    coded_bits: int
    uncoded_bit_errors: int  # hard decisions before decoding vs sent coded bits
    info_bits: int  # packet bits (no CRC, no padding)
    coded_bit_errors: int  # decoded packet bits vs sent, before erasure
    blocks: int
    block_errors: int  # blocks erased: CRC failed or (undetected) wrong
    undetected_errors: int  # blocks whose CRC passed on wrong bits (erased anyway)

    @property
    def packet_loss(self) -> float:
        return sum(p is None for p in self.packets) / len(self.packets) if self.packets else 0.0


@dataclass
class RadioCounts(_Rates):
    """Running totals over many ``transmit`` calls (a stream of a call, or a whole call): rates are
    count-weighted, so a long quiet stretch and a short bad one weigh what they carried."""

    packets_sent: int = 0
    packets_lost: int = 0
    channel_uses: int = 0
    pilot_symbols: int = 0
    coded_bits: int = 0
    uncoded_bit_errors: int = 0
    info_bits: int = 0
    coded_bit_errors: int = 0
    blocks: int = 0
    block_errors: int = 0
    undetected_errors: int = 0

    def add(self, outcome: RadioOutcome) -> None:
        """Count one transmission."""
        self.packets_sent += len(outcome.packets)
        self.packets_lost += sum(p is None for p in outcome.packets)
        for f in fields(self):
            if f.name not in ("packets_sent", "packets_lost"):
                setattr(self, f.name, getattr(self, f.name) + getattr(outcome, f.name))

    def __add__(self, other: RadioCounts) -> RadioCounts:
        return RadioCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def packet_loss(self) -> float:
        return self.packets_lost / self.packets_sent if self.packets_sent else 0.0


class DigitalRadio:
    """Source bytes → CRC + 5G LDPC + QAM → AWGN / Rayleigh → packets intact or erased.

    No state carries between calls (each ``transmit`` draws fresh fades and noise from its ``rng``) apart from the
    cache of LDPC codes, one per block size; the C++ decoders in that cache are reused, so one instance must not
    be shared between threads.
    """

    def __init__(self, config: RadioConfig | None = None) -> None:
        self.config = config or RadioConfig()
        self.modem = Modem(self.config.modulation)
        self._codes: dict[int, LdpcBlockCode] = {}

    def code(self, block_bytes: int) -> LdpcBlockCode:
        """The (cached) LDPC code for a block of ``block_bytes`` payload bytes."""
        if block_bytes not in self._codes:
            c = self.config
            self._codes[block_bytes] = LdpcBlockCode(
                8 * block_bytes, float(c.ldpc_rate), self.modem.bits_per_symbol, crc=c.crc,
                num_iter=c.num_iter, decoder=c.decoder, bp_method=c.bp_method)
        return self._codes[block_bytes]

    def segment(self, size: int) -> tuple[int, int]:
        """Code-block policy for a packet of ``size`` bytes: (number of blocks, payload bytes per block).

        C = ⌈size / max_block_bytes⌉ blocks of ⌈size / C⌉ bytes each (at least 1 block of 1 byte), so the
        padding is < C bytes and block sizes stay near the maximum, where LDPC codes are strongest.
        """
        blocks = max(1, math.ceil(size / self.config.max_block_bytes))
        return blocks, max(1, math.ceil(size / blocks))

    def data_symbols(self, sizes: list[int]) -> int:
        """Data symbols (no pilots) that packets of these byte sizes take; for bandwidth planning."""
        return sum(b * self.code(s).n for b, s in map(self.segment, sizes)) // self.modem.bits_per_symbol

    def encode(self, packets: list[bytes]) -> Transmission:
        """Segment, CRC, LDPC-encode and modulate a batch of packets into one symbol stream."""
        block_packet, block_bytes, payloads = [], [], []
        for i, packet in enumerate(packets):
            count, size = self.segment(len(packet))
            padded = np.zeros(count * size, dtype=np.uint8)
            padded[: len(packet)] = np.frombuffer(packet, dtype=np.uint8)
            for j in range(count):
                block_packet.append(i)
                block_bytes.append(size)
                payloads.append(padded[j * size : (j + 1) * size])
        codewords: list[np.ndarray] = [np.empty(0, np.uint8)] * len(payloads)
        for size, idx in _groups(block_bytes).items():
            bits = np.unpackbits(np.stack([payloads[i] for i in idx]), axis=1)
            for i, cw in zip(idx, self.code(size).encode(bits), strict=True):
                codewords[i] = cw
        offsets = np.concatenate([[0], np.cumsum([cw.size for cw in codewords])]).astype(np.int64)
        coded = np.concatenate(codewords) if codewords else np.empty(0, np.uint8)
        return Transmission(tuple(packets), np.asarray(block_packet, np.int64), np.asarray(block_bytes, np.int64),
                            offsets, coded, self.modem.modulate(coded))

    def propagate(self, tx: Transmission, snr_db: float, rng: np.random.Generator | int) -> Reception:
        """Channel, equalisation and soft demapping at Es/N0 = ``snr_db`` (per complex symbol, Es = 1)."""
        c = self.config
        eq = through_channel(tx.symbols, snr_db, np.random.default_rng(rng), channel=c.channel,
                             coherence=c.coherence, csi=c.csi, pilots=c.pilots)
        llr = self.modem.demodulate(eq.x_hat, eq.no_eff) if tx.symbols.size else np.empty(0, np.float32)
        return Reception(llr, eq.channel_uses, eq.pilot_symbols)

    def decode(self, tx: Transmission, rx: Reception) -> RadioOutcome:
        """Decode every block, check CRCs, reassemble packets; erase any packet with a bad block."""
        n_blocks = len(tx.block_bytes)
        decoded: list[np.ndarray] = [np.empty(0, np.uint8)] * n_blocks
        good = np.zeros(n_blocks, dtype=bool)
        for size, idx in _groups(tx.block_bytes.tolist()).items():
            llr = np.stack([rx.llr[tx.block_offsets[i] : tx.block_offsets[i + 1]] for i in idx])
            bits, ok = self.code(size).decode(llr)
            for i, b, k in zip(idx, np.packbits(bits, axis=1), ok, strict=True):
                decoded[i], good[i] = b, k
        packets: list[bytes | None] = []
        coded_errors = undetected = bad_blocks = 0
        first = np.searchsorted(tx.block_packet, np.arange(len(tx.packets) + 1))
        for p, packet in enumerate(tx.packets):
            blocks = np.arange(first[p], first[p + 1])  # equal-sized blocks (see ``segment``)
            sent = np.frombuffer(packet, dtype=np.uint8)
            got = np.concatenate([decoded[b] for b in blocks])
            coded_errors += int(np.unpackbits(got[: sent.size] ^ sent).sum())
            padded = np.zeros(got.size, np.uint8)
            padded[: sent.size] = sent
            right = (got == padded).reshape(blocks.size, -1).all(axis=1)  # genie: decoded what was sent
            undetected += int(np.sum(good[blocks] & ~right))
            delivered = good[blocks] & right
            bad_blocks += int(np.sum(~delivered))
            packets.append(packet if delivered.all() else None)
        return RadioOutcome(
            packets=packets, channel_uses=rx.channel_uses, pilot_symbols=rx.pilot_symbols,
            coded_bits=int(tx.coded_bits.size),
            uncoded_bit_errors=int(np.count_nonzero(hard_decisions(rx.llr) != tx.coded_bits)),
            info_bits=8 * sum(len(p) for p in tx.packets), coded_bit_errors=coded_errors, blocks=n_blocks,
            block_errors=bad_blocks, undetected_errors=undetected)

    def transmit(self, packets: list[bytes], snr_db: float, rng: np.random.Generator | int) -> RadioOutcome:
        """Send a batch of packets at Es/N0 = ``snr_db``; each comes back exact or as None (erased)."""
        tx = self.encode(packets)
        return self.decode(tx, self.propagate(tx, snr_db, rng))


def _groups(sizes: list[int]) -> dict[int, list[int]]:
    """Block indices grouped by block size, so each LDPC code is called once per batch."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, size in enumerate(sizes):
        groups[size].append(i)
    return groups

