from __future__ import annotations

import numpy as np
import pytest

from semtalk.bench.codecs import YuvClip, encode_video, lossy, protect_and_lose


@pytest.fixture(scope="module")
def encoded(pattern):
    return encode_video(YuvClip.from_rgb(pattern), "x264", kbps=30, gop=10)


@pytest.mark.parametrize("code_rate", [1.0, 0.5, 0.25])
def test_no_loss_keeps_everything(encoded, code_rate):
    out = protect_and_lose(encoded, code_rate, loss=0.0, seed=1)
    assert out.keep.all() and out.decodable.all()
    assert out.packets_lost == 0 and out.blocks_failed == 0
    symbols = sum(-(-sum(len(p) for p in encoded.packets[g : g + 10]) // 32) for g in range(0, 40, 10))
    assert out.packets_sent >= symbols / code_rate - out.blocks  # n = ceil(k / r) per block
    assert out.sent_kbps == pytest.approx(out.packets_sent * 32 * 8 / (40 / 25) / 1000)


def test_total_loss_loses_everything(encoded):
    out = protect_and_lose(encoded, 0.5, loss=1.0, seed=1)
    assert not out.keep.any() and out.blocks_failed == out.blocks


class _ScriptedLoss:
    """A channel that loses exactly the packets listed, counted from the first packet sent."""

    def __init__(self, lost: set[int]):
        self.lost, self.sent = lost, 0

    def loss_mask(self, count: int) -> np.ndarray:
        mask = np.array([i in self.lost for i in range(self.sent, self.sent + count)], dtype=bool)
        self.sent += count
        return mask


def _block_sizes(encoded, code_rate):
    sizes = []
    for g in range(0, 40, 10):
        k = -(-sum(len(p) for p in encoded.packets[g : g + 10]) // 32)
        assert k <= 128, "test clip's GOPs must fit one block"
        sizes.append((k, -(-k * 4 // int(4 * code_rate))))
    return sizes


def test_block_missing_more_than_n_minus_k_freezes_its_gop(encoded, monkeypatch):
    (k0, n0), (k1, n1), _, _ = _block_sizes(encoded, 0.5)
    # GOP 0 loses n-k symbols (still decodes); GOP 1 loses n-k+1, including its first source symbol.
    lost = set(range(0, n0 - k0)) | {n0 + i for i in range(n1 - k1 + 1)}
    monkeypatch.setattr(lossy, "BernoulliLoss", lambda loss, seed: _ScriptedLoss(lost))
    out = protect_and_lose(encoded, 0.5, loss=0.3, seed=0)
    assert out.blocks == 4 and out.blocks_failed == 1
    assert out.keep[:10].all()
    assert not out.keep[10]  # the I-frame's bytes are gone: the whole GOP is undecodable
    assert not out.decodable[10:20].any() and out.decodable[20:].all()


def test_without_fec_one_lost_symbol_cuts_the_chain(encoded, monkeypatch):
    k0 = -(-sum(len(p) for p in encoded.packets[:10]) // 32)
    monkeypatch.setattr(lossy, "BernoulliLoss", lambda loss, seed: _ScriptedLoss({k0 - 1}))  # last symbol of GOP 0
    out = protect_and_lose(encoded, 1.0, loss=0.3, seed=0)
    assert out.packets_sent == sum(-(-sum(len(p) for p in encoded.packets[g : g + 10]) // 32) for g in range(0, 40, 10))
    assert out.keep[:9].all() and not out.keep[9] and out.keep[10:].all()
    assert out.decodable[:9].all() and not out.decodable[9]


def test_seeded_and_bursty(encoded):
    a = protect_and_lose(encoded, 0.5, loss=0.4, burst=4.0, seed=7)
    b = protect_and_lose(encoded, 0.5, loss=0.4, burst=4.0, seed=7)
    assert np.array_equal(a.keep, b.keep) and a.packets_lost == b.packets_lost
    assert 0 < a.packet_loss < 1


def test_large_gop_is_split_into_blocks(pattern):
    big = encode_video(YuvClip.from_rgb(pattern), "x264", kbps=2000, gop=None)
    out = protect_and_lose(big, 0.25, loss=0.0)
    k = -(-big.total_bytes // 32)
    assert k > 64 and out.split_gops == 1 and out.blocks == -(-k // 64)
