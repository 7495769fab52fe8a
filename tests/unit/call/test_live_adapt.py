"""The sender's closed-loop FEC: the reported loss, smoothed, sets the RS code's n for the next block, within
bounds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from semtalk.call.live import LiveConfig, adapt_code_rate, smoothed_loss
from semtalk.fec.reed_solomon import ReedSolomonFec
from semtalk.records import CodedFrame
from semtalk.streams.face import FacePacketizer, FaceStreamFormat
from semtalk.streams.packet import RtpPacket

FMT = FaceStreamFormat(n_coeffs=3, bits=8, kb_tag=7, fps=25.0, frames_per_packet=5)
CONFIG = LiveConfig(kb="unused", min_code_rate=0.25, max_code_rate=0.8)


def _repairs_per_block(sender, frames: range) -> int:
    out = [p for i in frames for p in sender.face.push(CodedFrame(i, np.array([1, 2, 3], np.uint16)))]
    return sum(RtpPacket.parse(p).payload_type == 127 for p in out)


def test_code_rate_follows_the_reported_loss_within_bounds():
    sender = SimpleNamespace(face=ReedSolomonFec(k=4, code_rate=0.5).sender(FacePacketizer(FMT)))
    assert _repairs_per_block(sender, range(20)) == 4  # n = 8
    assert adapt_code_rate(sender, 0.3, CONFIG) == pytest.approx(4 / 11)  # 1 − (0.6 + 0.05) → n = 11
    assert _repairs_per_block(sender, range(20, 40)) == 7
    assert adapt_code_rate(sender, 0.0, CONFIG) == pytest.approx(0.8)  # no loss: the upper bound, n = 5
    assert adapt_code_rate(sender, 0.9, CONFIG) == pytest.approx(0.25)  # heavy loss: the lower bound, n = 16
    assert adapt_code_rate(SimpleNamespace(face=object()), 0.3, CONFIG) is None  # a code without a rate


def test_a_small_block_keeps_its_repair_at_the_upper_bound():
    """k = 2 at the 0.8 bound: n = 3 (rate 2/3), not n = round(2.5) = 2, which would send no repair at all."""
    config = LiveConfig(kb="unused", fec_k=2, max_code_rate=0.8)
    sender = SimpleNamespace(face=ReedSolomonFec(k=2, code_rate=0.5).sender(FacePacketizer(FMT)))
    assert adapt_code_rate(sender, 0.0, config, k=2) == pytest.approx(2 / 3)
    assert _repairs_per_block(sender, range(40)) == 4  # 8 packets of 5 frames: 4 blocks of 2, one repair each


def test_loss_estimate_rises_at_once_and_falls_slowly():
    assert smoothed_loss(0.1, 0.4) == 0.4
    assert smoothed_loss(0.4, 0.0) == pytest.approx(0.32)
