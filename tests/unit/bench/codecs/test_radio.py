"""Classic codecs over the digital radio: all or nothing per frame, bandwidth matching, seeds, JPEG budget."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from semtalk.bench.codecs import (
    YuvClip,
    audio_over_radio,
    channel_uses,
    decode_video,
    encode_audio,
    encode_video,
    jpeg_over_radio,
    radio_kbps,
    rate_match,
    send_frames,
    video_over_radio,
)
from semtalk.bench.codecs import radio as radio_module
from semtalk.bench.codecs.rate import TOLERANCE
from semtalk.media.video_codec import GREY
from semtalk.phy.radio import DigitalRadio, RadioConfig
from semtalk.phy.theory import capacity_snr_threshold_db

HIGH, LOW = 20.0, -5.0  # Es/N0 (dB) far above and far below QPSK 1/2's waterfall (~1 dB)
CLIFF = 1.3  # in the waterfall: some frames arrive, some do not


@pytest.fixture(scope="module")
def radio() -> DigitalRadio:
    return DigitalRadio(RadioConfig(modulation="qpsk", ldpc_rate=0.5))


@pytest.fixture(scope="module")
def encoded(pattern):
    return encode_video(YuvClip.from_rgb(pattern), "x264", kbps=30, gop=10)


def _sizes(frame_bytes: int, packet_bytes: int) -> list[int]:
    full, rest = divmod(frame_bytes, packet_bytes)
    return [packet_bytes] * full + ([rest] if rest else [])


def test_high_snr_delivers_every_frame_and_decodes_as_without_loss(radio, encoded):
    out = video_over_radio(encoded, radio, HIGH, rng=1)
    assert out.keep.all() and out.decodable.all()
    assert out.packets_lost == 0 and out.link.bler == out.link.ber_coded == 0.0
    assert out.packets_sent == sum(-(-len(p) // 125) for p in encoded.packets)  # one code block per packet
    assert out.kbps == pytest.approx(encoded.kbps)
    assert out.channel_uses == channel_uses(radio, [s for p in encoded.packets for s in _sizes(len(p), 125)])
    assert out.channel_uses_per_s == pytest.approx(out.channel_uses / (40 / 25))
    shown, clean = decode_video(encoded, keep=out.keep), decode_video(encoded)
    assert all(np.array_equal(a, b) for a, b in zip(shown, clean, strict=True))


def test_low_snr_loses_every_frame_and_the_picture_stays_grey(radio, encoded):
    out = video_over_radio(encoded, radio, LOW, rng=1)
    assert not out.keep.any() and not out.decodable.any()
    assert out.packets_lost == out.packets_sent and out.link.bler == 1.0
    assert 0.2 < out.link.ber_uncoded < 0.5
    assert all((f == GREY).all() for f in decode_video(encoded, keep=out.keep))


def test_a_frame_is_kept_iff_all_its_packets_arrive(radio, encoded):
    out = video_over_radio(encoded, radio, CLIFF, rng=2, packet_bytes=40)
    arrived = iter(p is not None for p in out.link.packets)
    expected = [all([next(arrived) for _ in _sizes(len(p), 40)]) for p in encoded.packets]
    assert out.keep.tolist() == expected and 0 < out.keep.sum() < len(expected)
    assert out.packets_sent == sum(len(_sizes(len(p), 40)) for p in encoded.packets)
    assert 0 < out.link.bler < 1 and out.link.ber_coded < out.link.ber_uncoded


def test_same_seed_same_outcome_different_seed_differs(radio, encoded):
    a, b, c = (video_over_radio(encoded, radio, CLIFF, rng=s) for s in (5, 5, 6))
    assert np.array_equal(a.keep, b.keep) and a.link == b.link
    assert video_over_radio(encoded, radio, CLIFF, rng=np.random.default_rng(5)).link == a.link
    assert a.link.uncoded_bit_errors != c.link.uncoded_bit_errors


def test_batches_share_one_generator_and_merge_their_counts(radio, encoded, monkeypatch):
    whole = video_over_radio(encoded, radio, CLIFF, rng=3)
    monkeypatch.setattr(radio_module, "BATCH_BYTES", 300)
    calls = []
    transmit = radio.transmit
    monkeypatch.setattr(radio, "transmit", lambda packets, snr, rng: calls.append(rng) or transmit(packets, snr, rng))
    split = video_over_radio(encoded, radio, CLIFF, rng=3)
    assert len(calls) > 5 and isinstance(calls[0], np.random.Generator)
    assert all(g is calls[0] for g in calls)  # one generator: no batch repeats another's noise
    assert split.channel_uses == whole.channel_uses and split.link.blocks == whole.link.blocks
    assert split.link.coded_bits == whole.link.coded_bits and split.packets_sent == whole.packets_sent
    assert video_over_radio(encoded, radio, CLIFF, rng=3).link == split.link


def test_empty_frames_are_kept_and_cost_nothing(radio):
    out = send_frames([b"", b"abc", b""], radio, LOW, rng=0, seconds=1.0)
    assert out.keep.tolist() == [True, False, True] and out.packets_sent == 1


@pytest.mark.parametrize(
    "config",
    [RadioConfig(), RadioConfig(modulation="16qam", ldpc_rate=0.75, channel="rayleigh", coherence=14,
                                csi="estimated", pilots=2)],
    ids=["qpsk_awgn", "16qam_rayleigh_pilots"],
)
def test_radio_kbps_never_exceeds_the_budget_and_is_tight(config):
    radio, fps, budget = DigitalRadio(config), 25, 30_000.0
    second = int(radio_kbps(budget, radio, fps) * 1000 / 8)  # the bytes one second of frames may carry

    def uses(frames) -> int:  # every frame in a transmit call of its own: the most pilots
        return sum(channel_uses(radio, _sizes(int(s), 125)) for s in frames)

    worst = max(range(1, 126), key=lambda q: uses([q]) - q * uses([125]) / 125)
    adversarial = [worst] * (fps - 1) + [second - worst * (fps - 1)]  # each frame ends in the costliest block
    assert 0.98 * budget <= uses(adversarial) <= budget
    rng = np.random.default_rng(0)
    for _ in range(20):  # random frame sizes adding up to that second
        frames = np.diff([0, *np.sort(rng.integers(0, second, fps - 1)), second])
        assert 0.97 * budget <= uses(frames) <= budget


def test_a_stream_rate_matched_to_radio_kbps_fits_its_channel_uses(radio, pattern):
    budget = 40_000.0
    point = rate_match(pattern, "x264", radio_kbps(budget, radio, 25.0) / TOLERANCE, gop=10)
    out = video_over_radio(point.encoded, radio, HIGH, rng=0)
    assert 0.85 * budget <= out.channel_uses_per_s <= budget


def test_radio_kbps_rejects_nonsense(radio):
    with pytest.raises(ValueError, match="must be positive"):
        radio_kbps(0.0, radio, 25.0)
    with pytest.raises(ValueError, match="packet_bytes must be at least 1, got 0"):
        radio_kbps(1000.0, radio, 25.0, packet_bytes=0)


def test_speech_over_radio_all_or_nothing(radio, speechlike):
    clean = encode_audio(speechlike, 16000, "opus", 12).samples
    good, info = audio_over_radio(speechlike, 16000, "opus", 12, radio, HIGH, rng=1)
    assert np.array_equal(good, clean) and info.keep.all() and info.packets_sent == 101  # 2 s of 20 ms + 1
    assert info.kbps == pytest.approx(12, rel=0.05)
    assert info.channel_uses_per_s == pytest.approx(50.5 * channel_uses(radio, [30]))  # 30-byte CBR packets
    bad, info = audio_over_radio(speechlike, 16000, "aac", 16, radio, LOW, rng=1)
    assert bad.shape == speechlike.shape and not bad.any() and not info.keep.any()


def _jpeg(frame: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def test_jpeg_takes_the_largest_quality_that_fits_and_arrives_at_high_snr(radio, pattern):
    frame, cbr = pattern[0], 0.6
    budget = cbr * 3 * 64 * 64
    shown, info = jpeg_over_radio(frame, cbr, radio, HIGH, rng=1)
    assert info.delivered and 1 <= info.quality < 100
    data = _jpeg(frame, info.quality)
    assert info.bytes == len(data) and info.bpp == pytest.approx(8 * len(data) / 64**2)
    assert info.delivery.channel_uses == channel_uses(radio, _sizes(len(data), 125)) <= budget
    assert channel_uses(radio, _sizes(len(_jpeg(frame, info.quality + 1)), 125)) > budget
    assert info.cbr == pytest.approx(info.delivery.channel_uses / (3 * 64 * 64)) and info.cbr <= cbr
    assert info.capacity_snr_db == pytest.approx(float(capacity_snr_threshold_db(info.bpp, cbr)))
    assert np.array_equal(shown, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def test_jpeg_lost_shows_the_previous_picture_or_grey(radio, pattern):
    shown, info = jpeg_over_radio(pattern[1], 0.6, radio, LOW, rng=1, previous=pattern[0])
    assert not info.delivered and info.delivery.packets_lost == info.delivery.packets_sent > 0
    assert np.array_equal(shown, pattern[0])
    shown, info = jpeg_over_radio(pattern[1], 0.6, radio, LOW, rng=1)
    assert (shown == GREY).all() and shown.shape == pattern[1].shape


def test_jpeg_that_cannot_fit_sends_nothing(radio, pattern):
    shown, info = jpeg_over_radio(pattern[0], 0.05, radio, HIGH, rng=1, previous=pattern[3])
    assert info.quality is None and info.bytes == 0 and info.delivery.channel_uses == 0
    assert not info.delivered and np.array_equal(shown, pattern[3])
    with pytest.raises(ValueError, match="RGB uint8"):
        jpeg_over_radio(pattern[0][..., 0], 1.0, radio, HIGH, rng=1)
