"""The LGM-TSC receiver on its own: what arrives is spoken at its time and animates the portrait; garbage, other
KBs and duplicates are counted, never fatal; a sentence that comes after its time is spoken late and counted."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.modes.lgmtsc.config import LgmtscConfig
from semtalk.modes.lgmtsc.ends import FPS, RATE, TEXT, LgmtscReceiver
from semtalk.records import StageTimer
from semtalk.streams.sentence import Sentence, SentencePacketizer, encode_text


@pytest.fixture(scope="module")
def kb():
    from semtalk.demo.sample import portrait
    from semtalk.enroll.portrait import portrait_kb

    built = portrait_kb(portrait(), crop_size=128)
    return built, built.to_bytes()


def _packet(kb_bytes: bytes, index: int, start: float, text: str, tag: int | None = None) -> bytes:
    from semtalk.kb.knowledge_base import kb_tag

    data = encode_text(text, "huffman")
    return SentencePacketizer(kb_tag(kb_bytes) if tag is None else tag).push(
        Sentence(index, start, "huffman", data, len(data)))


def _receiver(kb) -> LgmtscReceiver:
    config = LgmtscConfig(text_coder="huffman", lm_correct=False, adapt_voice=False)
    return LgmtscReceiver(config, kb[0], kb[1], StageTimer())


def test_a_sentence_is_spoken_at_its_time_and_every_frame_is_played(kb):
    rx = _receiver(kb)
    rx.receive(TEXT, _packet(kb[1], 0, 1.0, "hello and welcome to the call"))
    frames = rx.play(75)
    assert [f.index for f in frames] == list(range(75)) and frames[0].image.shape == (128, 128, 3)
    speech = rx.finish(3.0).audio
    assert speech.size == 3 * RATE
    assert not speech[: int(0.9 * RATE)].any() and np.abs(speech[RATE:]).max() > 0.05  # silent until 1.0 s
    assert rx.received_text() == "hello and welcome to the call"
    moving = np.std([f.image[80:110, 40:90].mean() for f in frames[25:]])
    still = np.std([f.image[80:110, 40:90].mean() for f in frames[:20]])
    assert moving > still  # the mouth moves while the sentence is spoken


def test_garbage_other_kbs_and_duplicates_are_counted_not_fatal(kb):
    rx = _receiver(kb)
    rng = np.random.default_rng(0)
    for _ in range(50):
        rx.receive(TEXT, rng.integers(0, 256, int(rng.integers(0, 60)), dtype=np.uint8).tobytes())
    good = _packet(kb[1], 0, 0.2, "good morning")
    rx.receive(TEXT, good)
    rx.receive(TEXT, good)  # a duplicate
    rx.receive(TEXT, _packet(kb[1], 1, 0.5, "not ours", tag=(kb[1][0] + 1) % 256))
    report = rx.report()
    assert report["garbage_packets"] + report["wrong_kb_packets"] >= 1
    assert len(rx.heard) == 1 and rx.received_text() == "good morning"
    assert len(rx.play(25)) == 25


def test_a_sentence_after_its_time_is_spoken_late(kb):
    rx = _receiver(kb)
    rx.play(50)  # two seconds shown with nothing said
    rx.receive(TEXT, _packet(kb[1], 0, 0.5, "sorry i am late"))
    rx.play(100)
    speech = rx.finish(100 / FPS).audio
    assert rx.late_sentences == 1
    assert np.abs(speech[: 2 * RATE]).max() == 0 and np.abs(speech[2 * RATE:]).max() > 0.05
