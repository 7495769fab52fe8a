"""ASC, the learned analog audio coder: shipped weights, channel use, exact symbols, chunking, noise."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
import torch

from semtalk.learned.asc import code as asc
from semtalk.learned.asc.code import load_asc, symbols_for
from semtalk.learned.asc.config import CHUNK_SAMPLES, CHUNK_SYMBOLS, SAMPLE_RATE, SYMBOLS_PER_SECOND, AscConfig
from semtalk.learned.asc.data import SENTENCES, Corpus, sample_chunks
from semtalk.learned.asc.model import RAYLEIGH, AscModel, nrmse
from semtalk.learned.asc.train import TrainConfig, train
from semtalk.learned.weights import shipped
from semtalk.phy.analog import transmit

HELD_OUT_TEXT = "Hello, and welcome. This call sends the words I say with their timing, not the sound of my voice."
NOISELESS_NRMSE = 0.25  # measured 0.181 on this sentence with the shipped weights (ASC_MODEL_CARD.md)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Piper speaking a sentence ASC never trained on, 16 kHz: speech the project makes itself."""
    from semtalk.dsp.signal import resample
    from semtalk.generators.tts import synthesize

    assert HELD_OUT_TEXT not in SENTENCES
    syn = synthesize(HELD_OUT_TEXT)
    return (0.3 * resample(syn.audio, syn.rate, SAMPLE_RATE) / np.abs(syn.audio).max()).astype(np.float32)


def _nrmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.linalg.norm(x - y) / np.linalg.norm(x))


def test_shipped_weights_load_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("ASC tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    shipped.cache_clear()
    load_asc.cache_clear()
    from importlib.resources import files

    weights = files("semtalk") / "weights" / asc.WEIGHTS
    assert weights.is_file() and weights.stat().st_size < 2 * 1024 * 1024
    codec = load_asc()
    assert codec.model.cfg == AscConfig() and not codec.model.training
    assert shipped(asc.WEIGHTS)["symbols_per_second"] == SYMBOLS_PER_SECOND
    assert load_asc() is codec


def test_encode_uses_symbols_per_second_at_unit_power(speech):
    codec = load_asc()
    one_second = speech[:SAMPLE_RATE]
    s = codec.encode(one_second)
    assert s.dtype == np.complex64 and s.shape == (SYMBOLS_PER_SECOND,)
    power = np.abs(s.reshape(-1, CHUNK_SYMBOLS)) ** 2
    assert np.allclose(power.mean(1), 1.0, atol=1e-3)
    assert np.array_equal(s, codec.encode(one_second))
    odd = speech[:5000]  # not a whole number of chunks: padded, then trimmed
    assert codec.encode(odd).size == symbols_for(odd.size) == 2 * CHUNK_SYMBOLS
    y = codec.decode(codec.encode(odd), odd.size)
    assert y.dtype == np.float32 and y.shape == odd.shape
    with pytest.raises(ValueError, match="5000 samples take 1600 ASC symbols, got 800"):
        codec.decode(s[:CHUNK_SYMBOLS], odd.size)


def test_noiseless_round_trip_is_close(speech):
    codec = load_asc()
    assert _nrmse(speech, codec.decode(codec.encode(speech), speech.size)) < NOISELESS_NRMSE


def test_noisier_channel_decodes_worse(speech):
    codec = load_asc()
    sent = codec.encode(speech)
    errors = [np.mean([_nrmse(speech, codec.decode(transmit(sent, snr, RAYLEIGH, np.random.default_rng(seed)),
                                                   speech.size)) for seed in range(3)])
              for snr in (0.0, 10.0, 20.0)]
    clean = _nrmse(speech, codec.decode(sent, speech.size))
    assert errors[0] > errors[1] > errors[2] > clean


def test_chunks_are_coded_alone(speech):
    codec = load_asc()
    x = speech[:5 * CHUNK_SAMPLES]
    whole = codec.encode(x)
    parts = [codec.encode(x[i:i + 2 * CHUNK_SAMPLES]) for i in range(0, x.size, 2 * CHUNK_SAMPLES)]
    assert np.allclose(whole, np.concatenate(parts), atol=1e-5)
    decoded = [codec.decode(whole[i:i + CHUNK_SYMBOLS], CHUNK_SAMPLES) for i in range(0, whole.size, CHUNK_SYMBOLS)]
    assert np.allclose(codec.decode(whole, x.size), np.concatenate(decoded), atol=1e-5)


def test_one_second_codes_fast_on_one_thread(speech):
    codec = load_asc()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        codec.decode(codec.encode(speech[:SAMPLE_RATE]), SAMPLE_RATE)  # warm-up
        t0 = time.perf_counter()
        codec.decode(codec.encode(speech[:SAMPLE_RATE]), SAMPLE_RATE)
        assert time.perf_counter() - t0 < 0.5
    finally:
        torch.set_num_threads(threads)


def test_latent_must_be_the_channel_use():
    with pytest.raises(ValueError, match="is not 800 complex symbols per chunk"):
        AscConfig(latent=8)


def test_quiet_chunks_decode_quiet():
    """The level path: a chunk 40 dB down decodes 40 dB down, not to noise at the code's level."""
    codec = load_asc()
    t = np.arange(CHUNK_SAMPLES) / SAMPLE_RATE
    tone = (0.1 * np.sin(2 * np.pi * 220 * t) * np.sin(np.pi * t / t[-1])).astype(np.float32)
    loud, quiet = (codec.decode(codec.encode(g * tone), CHUNK_SAMPLES) for g in (1.0, 0.01))
    ratio = np.linalg.norm(quiet) / np.linalg.norm(loud)
    assert 0.005 < ratio < 0.02


def test_sample_chunks_are_seeded():
    pool = [np.sin(np.arange(20000) / 7).astype(np.float32)]
    a = sample_chunks((pool, pool), (0.5, 0.5), 4, np.random.default_rng(1))
    assert a.shape == (4, CHUNK_SAMPLES) and a.dtype == np.float32
    assert np.array_equal(a, sample_chunks((pool, pool), (0.5, 0.5), 4, np.random.default_rng(1)))


def test_forward_through_the_channel_and_a_few_steps_lower_the_loss():
    model = AscModel().eval()
    x = torch.randn(2, CHUNK_SAMPLES) * 0.1
    assert model.transmit(x).shape == (2, CHUNK_SYMBOLS)
    assert model(x, [0.0, 20.0]).shape == x.shape
    assert float(nrmse(x, x)) == 0.0
    t = np.arange(40000) / SAMPLE_RATE
    voiced = [(0.1 * np.sin(2 * np.pi * f * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
              for f in (150.0, 230.0)]
    corpus = Corpus(tuple(voiced), tuple(voiced), {"held out": voiced[0][:2 * CHUNK_SAMPLES]})
    torch.manual_seed(0)
    _, history, steps = train(corpus, TrainConfig(steps=16, batch=4, warmup=1, lr=3e-3, log_every=4, eval_every=100),
                              log=lambda line: None)
    assert steps == 16 and history["train_nrmse"][-1] < history["train_nrmse"][0]
