"""``--fill face`` at the receiver: the frames between two keyframes are rendered from the coefficients that
arrived on SyncSC's stream; frames whose coefficients were lost fall back to eq. 10; after the last keyframe the
frames are rendered from it; the codes kept stay within the play-out window."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.modes.m3e.config import M3eConfig
from semtalk.modes.m3e.ends import KEYFRAMES, M3eReceiver
from semtalk.modes.m3e.face import COEFFICIENTS
from semtalk.modes.syncsc.mode import SyncscConfig
from semtalk.records import CodedFrame, StageTimer
from semtalk.streams.face import FacePacketizer
from semtalk.streams.keyframe import Keyframe, KeyframePacketizer

MOUTH = (slice(70, 110), slice(35, 95))  # the mouth of the 128² astronaut crop
FRAMES = 15
KEYS = (0, 10)
OPEN = 5  # the frame whose coefficients open the jaw


@pytest.fixture(scope="module")
def kb():
    from semtalk.demo.sample import portrait
    from semtalk.enroll.portrait import portrait_kb

    built = portrait_kb(portrait(), crop_size=128)
    return built, built.to_bytes()


def _codes(kb) -> list[np.ndarray]:
    """Per frame: the reference codes, the jaw (first expression coefficient) wide open at frame ``OPEN``."""
    ref = kb.reference.codes.astype(np.uint16)
    out = [ref.copy() for _ in range(FRAMES)]
    out[OPEN][0] = min(int(ref[0]) + 90, kb.quantizer.levels - 1)
    return out


def _call(kb, fec: str = "none", drop=lambda index, packet: False, fill: bool = True):
    """A receiver given keyframes ``KEYS`` (the KB's picture) and the coefficient stream of every frame, less the
    packets ``drop`` says; every frame played."""
    from semtalk import registry
    from semtalk.kb.knowledge_base import kb_tag

    kb_, kb_bytes = kb
    syncsc = SyncscConfig(fec=fec) if fill else None
    rx = M3eReceiver(M3eConfig(text_coder="huffman", fill="face" if fill else "flow"), kb_, kb_bytes, StageTimer(),
                     syncsc)
    picture = np.ascontiguousarray(kb_.keyframes[0].image[..., :3])
    data = registry.get("image_codec", "webp")().encode(picture, 95)
    keys = KeyframePacketizer(kb_tag(kb_bytes), 25.0)
    for key_id, frame in enumerate(KEYS):
        for packet in keys.push(Keyframe(key_id, frame, "webp", data)):
            rx.receive(KEYFRAMES, packet)
    if fill:
        stream = syncsc.code().sender(FacePacketizer(syncsc.stream_format(kb_, kb_bytes)))
        packets = [p for i, c in enumerate(_codes(kb_)) for p in stream.push(CodedFrame(i, c, True))] + stream.flush()
        for i, packet in enumerate(packets):
            if not drop(i, packet):
                rx.receive(COEFFICIENTS, packet)
    return rx, rx.play(FRAMES)


def _mouth_change(played, frame: int) -> float:
    a, b = played[KEYS[0]].image, played[frame].image
    return float(np.abs(a[MOUTH].astype(float) - b[MOUTH].astype(float)).mean())


def test_frames_between_keyframes_are_rendered_from_their_coefficients(kb):
    rx, played = _call(kb)
    assert [p.index for p in played] == list(range(FRAMES))
    assert (rx.face_filled, rx.flow_filled, rx.interpolated) == (KEYS[1] - KEYS[0] - 1, 0, KEYS[1] - KEYS[0] - 1)
    assert _mouth_change(played, OPEN) > 3.0  # the jaw opens where the coefficients say, though neither key shows it
    assert _mouth_change(played, OPEN - 1) < 1.0  # the neighbours are the keyframes' face
    _, flow = _call(kb, fill=False)
    assert _mouth_change(flow, OPEN) < 1.0  # eq. 10 between two closed mouths cannot open it


def test_after_the_last_keyframe_frames_are_rendered_from_it_not_held(kb):
    rx, played = _call(kb)
    assert rx.face_one_keyframe == FRAMES - KEYS[1] - 1 and rx.held == 0
    assert not any(p.concealed for p in played)
    _, flow = _call(kb, fill=False)
    assert sum(p.concealed for p in flow) == FRAMES - KEYS[1] - 1  # without coefficients they are held


def test_frames_whose_coefficients_were_lost_fall_back_to_flow(kb):
    rx, played = _call(kb, drop=lambda i, packet: i == 1)  # frames 5..9 (5 a packet), no packet FEC
    assert (rx.face_filled, rx.flow_filled) == (4, 5)
    assert _mouth_change(played, OPEN) < 1.0  # frame 5 was filled by eq. 10
    assert rx.report()["packets_recovered"] == 0


def test_the_packet_fec_restores_a_lost_coefficient_packet(kb):
    rx, played = _call(kb, fec="rs", drop=lambda i, packet: i == 1)  # RS(k=4) sends sources then repair
    assert (rx.face_filled, rx.flow_filled) == (9, 0)
    assert rx.report()["packets_recovered"] == 1 and _mouth_change(played, OPEN) > 3.0


def test_codes_kept_are_bounded_by_the_play_out(kb):
    rx, _ = _call(kb)
    guide = rx.guide
    assert sorted(guide.codes) == [KEYS[1]]  # every frame shown: only the kept keyframe's codes remain
    syncsc = SyncscConfig(fec="none")
    far = FacePacketizer(syncsc.stream_format(*kb))
    start = FRAMES + guide.horizon + 1
    for packet in [p for i in range(start, start + 5) for p in far.push(CodedFrame(i, kb[0].reference.codes, True))]:
        rx.receive(COEFFICIENTS, packet)
    assert guide.refused == 5 and sorted(guide.codes) == [KEYS[1]]  # a forged far-ahead frame is not kept
