"""The return path: a sentence missing at the receiver is asked for, resent, delivered and counted."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from semtalk.link.simulated import ChannelConfig, SimulatedLink
from semtalk.modes.m3e import ends
from semtalk.modes.m3e.config import M3eConfig
from semtalk.records import StageTimer
from semtalk.streams.keyframe import Keyframe, Request, RequestDepacketizer
from semtalk.streams.sentence import Sentence, SentencePacketizer, encode_text

TAG = 7
TEXTS = ["the first sentence", "the one the channel lost", "and the last one"]


@pytest.fixture
def ends_(monkeypatch):
    monkeypatch.setattr(ends, "kb_tag", lambda data: TAG)
    config = M3eConfig(text_coder="huffman", delay=0.1)
    kb = SimpleNamespace(crop=SimpleNamespace(size=16), language=None, voice_profile=None)
    return config, ends.Resender(TAG), ends.M3eReceiver(config, kb, b"kb", StageTimer())


def test_a_missing_sentence_is_asked_for_resent_delivered_and_counted(ends_):
    config, resend, receiver = ends_
    link = SimulatedLink.call(ChannelConfig(delay=config.delay), feedback=True)
    packets = SentencePacketizer(TAG)
    for i, text in enumerate(TEXTS):
        data = encode_text(text, "huffman")
        packet = packets.push(Sentence(i, float(i), "huffman", data, len(data)))
        resend.sentence(packet)
        if i != 1:  # sentence 1 is lost on the way
            link.send(ends.TEXT, [packet], 0.0)
    asked = []
    for step in range(1, 20):
        now = step * 0.04
        for stream, datagram in link.deliver(now):
            receiver.receive(stream, datagram)
        for out in receiver.feedback(now):
            asked += out.packets
            link.back.send(out.stream, out.packets, out.time)
        for _, datagram in link.back.deliver(now):
            for out in resend.answer(datagram, now):
                link.send(out.stream, out.packets, out.time)
    assert sorted(receiver.heard) == [0, 1, 2]
    assert receiver.heard[1].text == TEXTS[1]
    assert len(asked) == 1 and RequestDepacketizer(TAG)(asked[0]) == [Request(sentences=(1,))]
    assert (resend.requests_heard, resend.resent_sentences, receiver.retransmissions_asked) == (1, 1, 1)
    assert receiver.feedback_bits == 8 * len(asked[0])
    assert resend.resent_sentence_bits > 0
    assert receiver.added_delay == [pytest.approx(0.2, abs=0.041)]  # one round trip, to a frame step
    assert receiver.needs() == []


def test_a_request_lost_on_the_return_path_is_sent_again_after_a_round_trip(ends_):
    config, _, receiver = ends_
    packets = SentencePacketizer(TAG)
    for i in (0, 2):
        data = encode_text(TEXTS[i], "huffman")
        receiver.receive(ends.TEXT, packets.push(Sentence(i, float(i), "huffman", data, len(data))))
    assert receiver.needs() == [("s", 1)]
    assert len(receiver.feedback(1.0)) == 1
    assert receiver.feedback(1.0 + config.rto / 2) == []  # the answer could not be back yet
    assert len(receiver.feedback(1.0 + config.rto)) == 1
    for k in range(config.retransmit):
        receiver.feedback(2.0 + k)
    assert receiver.retransmissions_asked == config.retransmit  # then it gives up
    assert receiver.feedback(float("inf")) == []


def test_a_lost_keyframe_is_asked_for_and_resent_whole(ends_):
    _, resend, receiver = ends_
    from semtalk import registry

    picture = np.full((16, 16, 3), 90, np.uint8)
    data = registry.get("image_codec", "webp")().encode(picture, 80)
    first = resend.keyframe(Keyframe(0, 0, "webp", data))
    resend.keyframe(Keyframe(1, 5, "webp", data))  # lost
    last = resend.keyframe(Keyframe(2, 9, "webp", data))
    for p in first + last:
        receiver.receive(ends.KEYFRAMES, p)
    assert receiver.needs() == [("k", 1)]
    (request,) = receiver.feedback(0.5)
    answers = resend.answer(request.packets[0], 0.5)
    assert resend.resent_keyframes == 1 and [a.stream for a in answers] == [ends.KEYFRAMES]
    for p in answers[0].packets:
        receiver.receive(ends.KEYFRAMES, p)
    assert receiver.key_ids == {0, 1, 2} and sorted(receiver.pictures) == [0, 5, 9]


def test_the_check_asks_below_its_calibrated_threshold():
    from semtalk.modes.m3e.check import ask_below

    assert ask_below(0.6) == pytest.approx(0.677)
    assert ask_below(0.65) == pytest.approx((0.677 + 0.719) / 2)
    assert ask_below(0.95) == 0.95  # never below ξ_min itself


def test_a_keyframe_seen_only_in_part_is_asked_for(ends_):
    _, resend, receiver = ends_
    packets = resend.keyframe(Keyframe(0, 0, "webp", bytes(1200)))  # three fragments
    receiver.receive(ends.KEYFRAMES, packets[0])  # the other two are lost
    assert receiver.key_ids == set() and receiver.needs() == [("k", 0)]
