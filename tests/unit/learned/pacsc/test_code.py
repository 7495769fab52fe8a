"""PacSC as a packet code: shipped weights, exact bytes, row packets, decoding with lost rows."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from semtalk import registry
from semtalk.learned.pacsc import code as pacsc
from semtalk.learned.pacsc.code import PacscCodec, PacscFec, rate_config
from semtalk.learned.weights import shipped
from semtalk.records import CodedFrame
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat
from semtalk.streams.packet import RtpPacket

FMT = FaceStreamFormat(n_coeffs=16, bits=8, kb_tag=0x3C)


def _coders(code, reference=None):
    """Both halves of a PacSC ``StreamCode`` on the face stream ``FMT``: the rows replace the face packets."""
    return code.sender(FacePacketizer(FMT)), code.receiver(FaceDepacketizer(FMT), prior=reference)


def _frames(n: int, seed: int = 0) -> list[CodedFrame]:
    t = np.arange(n)[:, None]
    codes = 128 + 40 * np.sin(t / 6 + np.arange(16) / 2) + np.random.default_rng(seed).normal(0, 3, (n, 16))
    return [CodedFrame(i, np.clip(np.rint(c), 0, 255).astype(np.uint16)) for i, c in enumerate(codes)]


def test_shipped_weights_load_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("PacSC tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    shipped.cache_clear()
    pacsc.load_model.cache_clear()
    from importlib.resources import files

    weights = files("semtalk") / "weights" / pacsc.WEIGHTS
    assert weights.is_file() and weights.stat().st_size < 2 * 1024 * 1024
    for rate in (0.5, 0.25):
        model = pacsc.load_model(rate)
        assert model.cfg == rate_config(rate)
        assert not model.training


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_codec_shapes_and_deterministic_inference(rate):
    codec = PacscCodec(rate)
    x = np.stack([f.codes for f in _frames(20)]).astype(np.float32) / 255
    rows = codec.encode(x)
    assert rows.dtype == np.uint8 and rows.shape == (codec.cfg.rows, 80)
    assert np.array_equal(rows, PacscCodec(rate).encode(x))
    mask = np.arange(codec.cfg.rows) % 3 != 0
    out = codec.decode(rows, mask)
    assert out.shape == (20, 16) and out.min() >= 0 and out.max() <= 1
    assert np.array_equal(out, codec.decode(rows, mask))


@pytest.mark.parametrize("rate", [0.5, 0.25])
def test_trained_code_reconstructs_a_clean_block_closely(rate):
    codec = PacscCodec(rate)
    x = np.stack([f.codes for f in _frames(20)]).astype(np.float32) / 255
    rows = codec.encode(x)
    clean = np.abs(codec.decode(rows, np.ones(codec.cfg.rows, bool)) - x).mean() * 255
    half = np.abs(codec.decode(rows, np.arange(codec.cfg.rows) % 2 == 0) - x).mean() * 255
    mean_only = np.abs(x.mean(0) - x).mean() * 255
    assert clean < 0.5 * mean_only
    assert half < mean_only


def test_registry_entry_and_rates():
    fec = registry.get("fec", "pacsc")(k=4, code_rate=0.25)
    assert isinstance(fec, PacscFec) and fec.n == 16 and fec.code_rate == 0.25
    with pytest.raises(ValueError, match=r"PacSC code rate must be one of 0\.5, 0\.25, got 0\.75"):
        PacscFec(code_rate=0.75)
    with pytest.raises(ValueError, match="PacSC blocks are 20 frames: k must be 4, got 8"):
        PacscFec(k=8)


def test_rows_become_rtp_packets_and_decode_in_any_order():
    packetizer, depacketizer = _coders(PacscFec(code_rate=0.5))
    frames = _frames(47)
    packets = []
    for f in frames:
        out = packetizer.push(f)
        assert len(out) in (0, 8)
        packets += out
    packets += packetizer.flush()
    assert len(packets) == 3 * 8 and packetizer.packets == 24
    assert packetizer.payload_bits == 24 * 8 * 83
    parsed = [RtpPacket.parse(p) for p in packets]
    assert [p.sequence_number for p in parsed] == list(range(24))
    assert {p.timestamp for p in parsed} == {0, 20 * FMT.ticks_per_frame, 40 * FMT.ticks_per_frame}
    assert parsed[-1].payload[0] & 0x1F == 6  # the last block holds 7 frames
    got = []
    for p in reversed(packets):
        got += depacketizer.push(p)
    assert sorted(f.index for f in got) == list(range(47))
    assert depacketizer.garbage == 0


def test_lost_rows_wait_until_due_and_garbage_is_counted():
    packetizer, depacketizer = _coders(PacscFec(code_rate=0.5))
    packets = [p for f in _frames(20) for p in packetizer.push(f)]
    for p in packets[::2]:
        assert depacketizer.push(p) == []
    assert depacketizer.due(0) == []
    frames = depacketizer.due(1)  # frame by frame, as play-out reaches them
    assert [f.index for f in frames] == [0]
    frames += depacketizer.due(20)
    assert [f.index for f in frames] == list(range(20))
    assert depacketizer.push(packets[1]) == [] and depacketizer.late == 1
    assert depacketizer.push(b"\x80junk") == [] and depacketizer.garbage == 1
    wrong = bytearray(packets[0])
    wrong[13] ^= 0xFF  # the KB tag byte
    assert depacketizer.push(bytes(wrong)) == [] and depacketizer.wrong_kb == 1
