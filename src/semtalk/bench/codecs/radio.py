"""Classic codecs over the simulated digital radio: the papers' "source codec + LDPC + QAM" baselines.

A codec's bitstream is cut into packets and sent through ``phy.radio.DigitalRadio`` (CRC, 5G LDPC, QAM,
AWGN / Rayleigh). The radio delivers a packet intact or erases it, and the codecs add nothing on top (no RS,
no retransmission), so a source frame survives iff every packet of it arrives; anything else is lost whole.
That is the *cliff effect*: above the LDPC waterfall everything arrives and quality is the codec's own, a dB
below it nearly nothing does. What the receiver shows for a lost frame is each medium's loss convention:
video FREEZE (``decode_video``), silence for speech (``decode_audio``), the previous picture for a JPEG.

Packets: a frame's bytes go in packets of at most ``packet_bytes`` (default: the radio's ``max_block_bytes``,
one LDPC code block per packet). A frame needs all its bytes, so it survives iff all its code blocks decode,
however they are grouped into packets: an MTU-sized packet of several blocks, lost if any block fails (what a
real link does), loses exactly the same frames. The grouping changes only the counts and the padding, and
one block per packet has no padding (``DigitalRadio.segment`` splits a longer packet into equal blocks) and
makes packet loss equal block loss. Packets go out in batches of whole frames (``BATCH_BYTES``), one
``transmit`` call each, all drawing from one generator, so a seed fixes the outcome.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from semtalk.media.audio_codec import decode_audio, encode_audio_packets
from semtalk.media.video_codec import GREY, EncodedVideo, decodable
from semtalk.phy.channel import PilotLayout
from semtalk.phy.theory import capacity_snr_threshold_db, channel_bandwidth_ratio

if TYPE_CHECKING:  # phy.radio imports Sionna (seconds): loaded only where a radio is used
    from semtalk.phy.radio import DigitalRadio, RadioOutcome

BATCH_BYTES = 32_000  # source bytes per transmit call (~256 code blocks): bounds one call's LLR memory


@dataclass(frozen=True, eq=False)  # holds arrays
class RadioDelivery:
    """Which source frames crossed the radio whole, and what the link did over the whole clip.

    ``link`` is every ``transmit`` call's outcome merged: its packets in sending order and its counts summed,
    so ``link.ber_uncoded``, ``link.ber_coded``, ``link.bler`` and ``link.packet_loss`` are ratios of totals.
    """

    keep: np.ndarray  # frame i: every packet of it arrived
    link: RadioOutcome
    seconds: float  # duration of the clip, for the per-second rates

    @property
    def packets_sent(self) -> int:
        return len(self.link.packets)

    @property
    def packets_lost(self) -> int:
        return sum(p is None for p in self.link.packets)

    @property
    def channel_uses(self) -> int:
        """Complex symbols on the air, pilots included."""
        return self.link.channel_uses

    @property
    def channel_uses_per_s(self) -> float:
        return self.link.channel_uses / self.seconds

    @property
    def kbps(self) -> float:
        """Source bitrate sent (the codec's packet bytes, before CRC and LDPC)."""
        return self.link.info_bits / self.seconds / 1000


@dataclass(frozen=True, eq=False)  # holds arrays
class RadioVideoOutcome(RadioDelivery):
    """A video's delivery; ``decodable`` also needs the reference chain (give ``keep`` to ``decode_video``)."""

    decodable: np.ndarray


@dataclass(frozen=True, eq=False)  # holds arrays
class RadioJpeg:
    """One JPEG picture over the radio: the quality that fits the budget, its size and Seb's accounting."""

    quality: int | None  # None: not even quality 1 fits the budget, so nothing was sent
    bytes: int
    bpp: float  # bits per pixel of the JPEG file
    target_cbr: float  # the channel bandwidth ratio allotted
    cbr: float  # realised: channel uses ÷ 3·H·W, at most ``target_cbr``
    capacity_snr_db: float  # Seb's ideal threshold: SNR a capacity-achieving code needs for ``bpp`` at ``target_cbr``
    delivery: RadioDelivery

    @property
    def delivered(self) -> bool:
        return bool(self.quality is not None and self.delivery.keep.all())


def channel_uses(radio: DigitalRadio, sizes: Sequence[int]) -> int:
    """Channel uses of one ``transmit`` call carrying packets of these byte sizes: data symbols (CRC, rate
    matching and padding counted by ``data_symbols``), plus the pilots when the CSI is estimated."""
    data = radio.data_symbols(list(sizes))
    c = radio.config
    return PilotLayout(c.coherence, c.pilots).channel_uses(data) if c.csi == "estimated" else data


def radio_kbps(
    symbols_per_s: float, radio: DigitalRadio, frames_per_s: float, packet_bytes: int | None = None
) -> float:
    """The largest source bitrate that ``video_over_radio`` / ``audio_over_radio`` are sure to send within
    ``symbols_per_s`` channel uses per second, whatever the sizes of the ``frames_per_s`` frames.

    A frame of s bytes is ⌊s/P⌋ full packets of P = ``packet_bytes`` plus a packet of the rest q, so it takes
    a·s + (f(q) − a·q) data symbols, with f a packet's data symbols and a = f(P)/P per byte. Bounding the
    bracket by its maximum w over q (an extra CRC and the rounding of a short block) and the pilots of each
    call by c/(c − p) per data symbol plus p (at most one call per frame) gives the bitrate
    8·((S − F·p)·(c − p)/c − F·w)/a with S the budget and F the frame rate. A real stream lands within a few
    per cent under S. ``rate_match`` may overshoot its target by up to ``rate.TOLERANCE``: divide by it to
    stay inside the budget.
    """
    size = _packet_bytes(radio, packet_bytes)
    if symbols_per_s <= 0 or frames_per_s <= 0:
        raise ValueError("symbols_per_s and frames_per_s must be positive")
    per_byte = radio.data_symbols([size]) / size
    worst = max((radio.data_symbols([q]) - per_byte * q for q in range(1, size)), default=0.0)
    c = radio.config
    data_per_s = symbols_per_s
    if c.csi == "estimated":
        data_per_s = (symbols_per_s - frames_per_s * c.pilots) * (c.coherence - c.pilots) / c.coherence
    return max(0.0, 8 * (data_per_s - frames_per_s * worst) / per_byte / 1000)


def video_over_radio(
    encoded: EncodedVideo,
    radio: DigitalRadio,
    snr_db: float,
    rng: np.random.Generator | int,
    packet_bytes: int | None = None,
) -> RadioVideoOutcome:
    """Send every frame of ``encoded`` over the radio at Es/N0 = ``snr_db``; frame i is kept iff all its packets
    arrive (packet size: see the module docstring). Use a GOP with periodic I-frames (``LOSS_GOP``), or one lost
    packet freezes the rest of the clip."""
    d = send_frames(encoded.packets, radio, snr_db, rng, encoded.n_frames / encoded.fps, packet_bytes)
    return RadioVideoOutcome(d.keep, d.link, d.seconds, decodable(encoded, d.keep))


def audio_over_radio(
    audio: np.ndarray,
    rate: int,
    codec: str,
    kbps: float,
    radio: DigitalRadio,
    snr_db: float,
    rng: np.random.Generator | int,
    packet_bytes: int | None = None,
) -> tuple[np.ndarray, RadioDelivery]:
    """Encode speech with ``codec`` at ``kbps`` (``encode_audio_packets``: an Opus packet is 20 ms, one radio
    packet up to ``packet_bytes``), send it over the radio and decode what arrived; lost frames are silent
    (``decode_audio``). The samples are aligned with ``audio`` and of its exact length."""
    coded = encode_audio_packets(audio, rate, codec, kbps)
    d = send_frames(coded.packets, radio, snr_db, rng, coded.n_samples / coded.rate, packet_bytes)
    return decode_audio(coded, keep=d.keep), d


def jpeg_over_radio(
    frame: np.ndarray,
    cbr: float,
    radio: DigitalRadio,
    snr_db: float,
    rng: np.random.Generator | int,
    previous: np.ndarray | None = None,
    packet_bytes: int | None = None,
) -> tuple[np.ndarray, RadioJpeg]:
    """M3E's "JPEG + QAM" baseline: one RGB picture as JPEG (Pillow) at the largest quality whose packets fit
    CBR·3·H·W channel uses, over the radio. The receiver shows the decoded JPEG if every packet arrived, else
    ``previous`` (mid-grey if None): a picture is lost whole, as a video frame is."""
    image = np.asarray(frame)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 frame, got shape {image.shape} and dtype {image.dtype}")
    if not cbr > 0:
        raise ValueError(f"cbr must be positive, got {cbr}")
    h, w = image.shape[:2]
    dims = 3 * h * w
    found = _largest_quality(image, cbr * dims, radio, _packet_bytes(radio, packet_bytes))
    quality, data = found or (None, b"")
    d = send_frames([data] if found else [], radio, snr_db, rng, 1.0, packet_bytes)  # per picture, not per s
    bpp = 8 * len(data) / (h * w)
    info = RadioJpeg(quality=quality, bytes=len(data), bpp=bpp, target_cbr=cbr,
                     cbr=channel_bandwidth_ratio(d.channel_uses, dims),
                     capacity_snr_db=float(capacity_snr_threshold_db(bpp, cbr)), delivery=d)
    if info.delivered:
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), info
    shown = np.full_like(image, GREY) if previous is None else np.array(previous, dtype=np.uint8)
    return shown, info


def send_frames(
    frames: Sequence[bytes],
    radio: DigitalRadio,
    snr_db: float,
    rng: np.random.Generator | int,
    seconds: float,
    packet_bytes: int | None = None,
) -> RadioDelivery:
    """Cut each frame into packets of at most ``packet_bytes``, send them in batches of whole frames through
    ``radio`` (one generator for every batch) and keep a frame iff all its packets arrive."""
    size = _packet_bytes(radio, packet_bytes)
    gen = np.random.default_rng(rng)
    cut = [_cut(f, size) for f in frames]
    outcomes = [radio.transmit([p for c in cut[first:last] for p in c], snr_db, gen)
                for first, last in _batches([len(f) for f in frames])]
    link = _merge(outcomes)
    owner = np.repeat(np.arange(len(frames)), [len(c) for c in cut])
    keep = np.ones(len(frames), dtype=bool)
    keep[owner[np.array([p is None for p in link.packets], dtype=bool)]] = False
    return RadioDelivery(keep, link, seconds)


def _packet_bytes(radio: DigitalRadio, packet_bytes: int | None) -> int:
    """The packet size asked for, by default one LDPC code block (see the module docstring)."""
    size = radio.config.max_block_bytes if packet_bytes is None else packet_bytes
    if size < 1:
        raise ValueError(f"packet_bytes must be at least 1, got {packet_bytes}")
    return size


def _cut(data: bytes, size: int) -> list[bytes]:
    """``data`` in packets of ``size`` bytes, the last one shorter; none for an empty frame."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def _batches(sizes: list[int]) -> list[tuple[int, int]]:
    """[first, last) ranges of consecutive frames, each closed once it holds ``BATCH_BYTES``."""
    out, first, total = [], 0, 0
    for i, size in enumerate(sizes):
        total += size
        if total >= BATCH_BYTES:
            out.append((first, i + 1))
            first, total = i + 1, 0
    return [*out, (first, len(sizes))] if first < len(sizes) else out


def _merge(outcomes: list[RadioOutcome]) -> RadioOutcome:
    """One outcome for several ``transmit`` calls: packets in order, every count summed."""
    from semtalk.phy.radio import RadioOutcome

    counts = {f.name: sum(getattr(o, f.name) for o in outcomes) for f in fields(RadioOutcome) if f.name != "packets"}
    return RadioOutcome(packets=[p for o in outcomes for p in o.packets], **counts)


def _largest_quality(image: np.ndarray, budget: float, radio: DigitalRadio, size: int) -> tuple[int, bytes] | None:
    """Bisection over Pillow's quality 1..100 for the largest whose packets fit ``budget`` channel uses (the
    file grows with the quality, as libjpeg scales its quantisation tables down); None if none fits."""
    from PIL import Image

    picture = Image.fromarray(image)
    lo, hi, best = 1, 100, None
    while lo <= hi:
        quality = (lo + hi) // 2
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=quality)
        data = buffer.getvalue()
        if channel_uses(radio, [len(p) for p in _cut(data, size)]) <= budget:
            best, lo = (quality, data), quality + 1
        else:
            hi = quality - 1
    return best
