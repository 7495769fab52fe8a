from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.codecs import decode_audio, encode_audio, encode_audio_packets


def _lag_ms(x: np.ndarray, y: np.ndarray, rate: int, max_ms: float = 30.0) -> float:
    """Delay of y behind x (ms) at the cross-correlation peak."""
    m = int(max_ms * rate / 1000)
    corr = np.correlate(y, x[m:-m], mode="valid")  # lag l <-> y[m + l : ...] vs x[m : ...]
    return (int(np.argmax(corr)) - m) * 1000 / rate


@pytest.mark.parametrize(("codec", "kbps"), [("opus", 6), ("opus", 12), ("aac", 16)])
def test_length_alignment_and_rate(speechlike, codec, kbps):
    out = encode_audio(speechlike, 16000, codec, kbps)
    assert out.samples.shape == speechlike.shape and out.samples.dtype == np.float32
    assert abs(_lag_ms(speechlike, out.samples, 16000)) <= 1.0
    assert out.kbps == pytest.approx(kbps, rel=0.15)
    corr = np.corrcoef(speechlike, out.samples)[0, 1]
    assert corr > 0.5  # it is the same signal, not silence


def test_odd_rate_and_length_come_back_exact(speechlike):
    x = speechlike[:12345]
    out = encode_audio(x, 22050, "opus", 12)
    assert out.samples.shape == (12345,) and out.rate == 22050


def test_lag_helper_detects_a_delay(speechlike):
    delayed = np.concatenate([np.zeros(80, np.float32), speechlike[:-80]])
    assert _lag_ms(speechlike, delayed, 16000) == pytest.approx(5.0)


def test_rejects_bad_input(speechlike):
    with pytest.raises(ValueError, match="unknown audio codec 'mp3'"):
        encode_audio(speechlike, 16000, "mp3", 16)
    with pytest.raises(ValueError, match=r"expected non-empty mono audio, got shape \(2, 3\)"):
        encode_audio(np.zeros((2, 3), np.float32), 16000, "opus", 8)


@pytest.mark.parametrize(("codec", "kbps"), [("opus", 12), ("aac", 16)])
def test_packets_decode_to_encode_audio_and_a_lost_packet_is_silent_in_its_own_span(speechlike, codec, kbps):
    coded = encode_audio_packets(speechlike, 16000, codec, kbps)
    clean = decode_audio(coded)
    assert np.array_equal(clean, encode_audio(speechlike, 16000, codec, kbps).samples)
    assert coded.kbps == pytest.approx(8 * sum(map(len, coded.packets)) / 2 / 1000)
    # Samples per packet at 16 kHz (20 ms; AAC's 1024) and the codec delay that shifts packet i's span earlier:
    # Opus' pre-skip of 312 samples at 48 kHz, AAC's whole first packet.
    step, delay = (320, 104) if codec == "opus" else (1024, 1024)
    keep = np.ones(len(coded.packets), dtype=bool)
    keep[10:15] = False
    lossy = decode_audio(coded, keep)
    assert lossy.shape == speechlike.shape
    start, stop, margin = 10 * step - delay, 15 * step - delay, 32  # the lost span; margin: resampler's reach
    assert not lossy[start + margin : stop - margin].any() and clean[start + margin : stop - margin].any()
    assert np.array_equal(lossy[: start - margin], clean[: start - margin])  # before the loss: decoded alike
    assert lossy[stop + margin :].any()
    late = decode_audio(coded, np.arange(len(coded.packets)) > 0)  # the packet carrying the codec delay is lost
    assert abs(_lag_ms(clean, late, 16000)) <= 1.0
    assert not late[: step - delay].any() and late[2 * step - delay - 2 * margin : 2 * step - delay - margin].any()
    assert np.corrcoef(clean[4 * step :], late[4 * step :])[0, 1] > 0.99


def test_decode_audio_checks_the_mask(speechlike):
    coded = encode_audio_packets(speechlike[:3200], 16000, "opus", 12)
    assert not decode_audio(coded, np.zeros(len(coded.packets), dtype=bool)).any()
    with pytest.raises(ValueError, match="keep mask has shape"):
        decode_audio(coded, [True])


def test_streaming_opus_lines_up_with_its_input_and_a_lost_packet_is_one_silent_span(speechlike):
    from semtalk.media.audio_codec import OpusDecoder, OpusEncoder

    encoder, decoder = OpusEncoder(16), OpusDecoder()
    n = speechlike.size // encoder.span * encoder.span
    packets = [encoder.encode(speechlike[i:i + encoder.span]) for i in range(0, n, encoder.span)]
    out = np.concatenate([decoder.decode(p) for p in packets] + [decoder.flush()])
    assert out.size == n
    assert abs(_lag_ms(speechlike[:n], out, 16000)) <= 0.25  # a few samples: as tight as the whole-clip path
    lossy = OpusDecoder()
    spans = [lossy.decode(None if i == 10 else p) for i, p in enumerate(packets)]
    got = np.concatenate([*spans, lossy.flush()])
    assert got.size == n
    # One span of silence where packet 10 decodes to: its span, earlier by the look-ahead and resampler (~7 ms).
    silent = np.flatnonzero(got[:12 * encoder.span] == 0)
    assert silent.size == encoder.span and np.all(np.diff(silent) == 1)
    assert 10 * encoder.span - 130 <= silent[0] <= 10 * encoder.span
