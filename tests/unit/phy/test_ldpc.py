"""5G LDPC code blocks: rate matching, waterfall over AWGN, CRC flagging, and the two decoders agreeing."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.phy.channel import awgn, ebno_to_no
from semtalk.phy.ldpc import LdpcBlockCode
from semtalk.phy.modem import Modem


def noisy_llrs(code: LdpcBlockCode, modem: Modem, blocks: int, ebno_db: float, seed: int):
    rng = np.random.default_rng(seed)
    payload = rng.integers(0, 2, (blocks, code.payload_bits), dtype=np.uint8)
    no = ebno_to_no(ebno_db, modem.bits_per_symbol, code.rate)
    y = awgn(modem.modulate(code.encode(payload)), no, rng)
    return payload, modem.demodulate(y, no).reshape(blocks, code.n)


@pytest.mark.parametrize("rate", [1 / 3, 1 / 2, 2 / 3, 3 / 4, 5 / 6])
@pytest.mark.parametrize("modulation", ["qpsk", "64qam"])
def test_rate_matching_and_noiseless_round_trip(rate, modulation):
    modem = Modem(modulation)
    code = LdpcBlockCode(800, rate, modem.bits_per_symbol)
    assert code.k == 824 and code.n % modem.bits_per_symbol == 0
    assert code.k / code.n <= rate < code.k / (code.n - modem.bits_per_symbol)  # smallest whole-symbol n
    payload = np.random.default_rng(0).integers(0, 2, (3, 800), dtype=np.uint8)
    llr = 10.0 * (2.0 * code.encode(payload) - 1.0)
    bits, ok = code.decode(llr)
    assert ok.all() and np.array_equal(bits, payload)


def test_ldpc_half_rate_qpsk_waterfall_over_awgn():
    """Acceptance: BLER < 1 % at Eb/N0 = 3 dB and > 50 % at 0 dB (k = 512 incl. CRC, n = 1024)."""
    modem = Modem("qpsk")
    code = LdpcBlockCode(488, 0.5, 2)
    assert (code.k, code.n) == (512, 1024)
    for ebno_db, check in [(3.0, lambda b: b < 0.01), (0.0, lambda b: b > 0.5)]:
        payload, llr = noisy_llrs(code, modem, 300, ebno_db, seed=7)
        bits, ok = code.decode(llr)
        wrong = (bits != payload).any(axis=1)
        assert check(np.mean(~ok | wrong)), ebno_db
        assert not np.any(ok & wrong)  # the CRC caught every wrong block


def test_crc_flags_garbage_blocks():
    code = LdpcBlockCode(200, 0.5, 2)
    llr = np.random.default_rng(8).normal(0, 3, (50, code.n)).astype(np.float32)
    _, ok = code.decode(llr)
    assert not ok.any()


def test_ldpc_package_decoder_agrees_with_sionna_decoder():
    modem = Modem("16qam")
    ours, sionna = (LdpcBlockCode(488, 0.5, 4, decoder=d) for d in ("ldpc", "sionna"))
    assert ours.pruned_pcm().shape[1] < ours.pcm.shape[1]  # never-sent degree-1 parity bits removed
    _, llr = noisy_llrs(ours, modem, 120, 3.6, seed=9)  # in the waterfall: some blocks fail
    a, ok_a = ours.decode(llr)
    b, ok_b = sionna.decode(llr)
    assert 0.05 < np.mean(~ok_b) < 0.95
    assert np.mean((a == b).all(axis=1)) >= 0.98
    assert abs(np.mean(ok_a) - np.mean(ok_b)) <= 0.03


def test_unsupported_rate_is_rejected():
    with pytest.raises(ValueError):
        LdpcBlockCode(100, 0.95, 2)
