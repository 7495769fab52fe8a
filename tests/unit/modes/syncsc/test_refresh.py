"""SyncSC's KB refresh (issue 24, item 4): a frame the receiver would render badly goes as a new keyframe within
the budget, the receiver warps from it from its frame on, a lost or forged refresh costs nothing else, and both
ends keep a bounded pool."""

from __future__ import annotations

import numpy as np
import pytest

from semtalk.fec.base import NoFec
from semtalk.fec.reed_solomon import ReedSolomonFec
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.kb.knowledge_base import kb_tag
from semtalk.metrics.video import ssim
from semtalk.modes.syncsc.config import RefreshConfig
from semtalk.modes.syncsc.refresh import RefreshReceiver, RefreshSender
from semtalk.streams.keyframe import Keyframe, KeyframePacketizer, pack_refresh, unpack_refresh


@pytest.fixture(scope="module")
def kb():
    from semtalk.demo.sample import portrait
    from semtalk.enroll.portrait import portrait_kb

    built = portrait_kb(portrait(), crop_size=128)
    return built, kb_tag(built.to_bytes())


def _codes(kb_) -> np.ndarray:
    """The reference codes with the jaw a little open: a frame the renderer warps (not the stored keyframe)."""
    codes = kb_.reference.codes.astype(np.uint16).copy()
    codes[0] = min(int(codes[0]) + 20, kb_.quantizer.levels)
    return codes


def _other_picture(kb_) -> np.ndarray:
    """What the camera sees now and the KB does not show: the reference picture mirrored and darker."""
    return np.ascontiguousarray((kb_.keyframes[0].image[:, ::-1, :3] * 0.6).astype(np.uint8))


def _ends(kb, kbps: float = 10_000.0, fec=None, **settings):
    kb_, tag = kb
    config = RefreshConfig(kbps=kbps, ssim=0.9, codec="webp", quality=90, **settings)
    fec = fec or NoFec(k=4, code_rate=1.0)
    return RefreshSender(config, kb_, tag, fec), RefreshReceiver(config, kb_, tag, fec)


def test_the_payload_round_trips_and_refuses_another_count():
    codes = np.array([0, 1, 255, 65535], dtype=np.uint16)
    got, picture = unpack_refresh(pack_refresh(codes, b"picture"), 4)
    assert got.dtype == np.uint16 and np.array_equal(got, codes) and picture == b"picture"
    with pytest.raises(ValueError):
        unpack_refresh(pack_refresh(codes, b"picture"), 5)
    with pytest.raises(ValueError):
        unpack_refresh(pack_refresh(codes, b""), 4)  # no picture
    assert KeyframePacketizer(1, 25.0).flush() == []


def test_a_frame_rendered_badly_is_sent_and_used_from_its_frame_on(kb):
    kb_, _ = kb
    tx, rx = _ends(kb)
    codes, picture = _codes(kb_), _other_picture(kb_)
    before = FaceRenderer(kb_)(kb_.quantizer.dequantize(codes))
    packets = tx.push(60, picture, codes)
    assert packets and tx.frames == [60] and tx.bits > 0
    for packet in packets:
        rx.receive(packet)
    assert not rx.due(59) and rx.frames == []  # not before the frame it shows
    assert rx.due(60) and rx.frames == [60] and not rx.due(61)
    renderer = FaceRenderer(kb_)
    renderer.set_sources(rx.sources)
    after = renderer(kb_.quantizer.dequantize(codes))
    assert ssim(picture, after) > 0.95 > ssim(picture, before) + 0.2  # the frame now comes from the refresh
    assert len(rx.sources) == len(kb_.keyframes) + 1


def test_a_frame_the_kb_already_renders_well_is_not_sent(kb):
    kb_, _ = kb
    tx, _ = _ends(kb)
    codes = _codes(kb_)
    rendered = FaceRenderer(kb_)(kb_.quantizer.dequantize(codes))
    assert tx.push(60, rendered, codes) == [] and tx.frames == [] and tx.bits == 0 and tx.checked == 1


def test_the_budget_spaces_refreshes_and_is_never_exceeded(kb):
    kb_, _ = kb
    tx, _ = _ends(kb, kbps=20.0)
    codes, picture = _codes(kb_), _other_picture(kb_)
    frames = 250  # 10 s, every frame one the KB cannot show (each refresh is a different picture)
    spent = []
    for index in range(frames):
        tx.push(index, np.roll(picture, 3 * index, axis=1), codes)
        spent.append(tx.bits)
    assert len(tx.frames) >= 3
    assert np.diff(tx.frames).min() > 1  # the credit a refresh spends is earned back first
    earned = 20_000 / 25.0 * np.arange(1, frames + 1)
    assert np.all(np.array(spent) <= earned)  # never beyond the budget, at any time
    assert tx.checked < frames  # no prediction is made while the credit is short


def test_a_lost_fragment_loses_the_refresh_and_rs_restores_it(kb):
    kb_, _ = kb
    codes, picture = _codes(kb_), _other_picture(kb_)
    tx, rx = _ends(kb)
    packets = tx.push(60, picture, codes)
    for packet in packets[1:]:  # the first fragment lost, no packet FEC
        rx.receive(packet)
    assert not rx.due(100) and len(rx.sources) == len(kb_.keyframes)
    rs = ReedSolomonFec(k=4, code_rate=0.5)
    tx, rx = _ends(kb, fec=rs)
    packets = tx.push(60, picture, codes)
    for packet in packets[1:]:
        rx.receive(packet)
    assert rx.due(100) and rx.stream.recovered >= 1


def test_a_forged_refresh_is_counted_not_used(kb):
    kb_, tag = kb
    _, rx = _ends(kb)
    keys = KeyframePacketizer(tag, 25.0)
    codes = _codes(kb_)
    picture = bytes(pack_refresh(codes, b"not a picture"))
    for data in (pack_refresh(codes[:-1], b"x" * 50), picture):  # a wrong count; bytes no codec decodes
        for packet in keys.push(Keyframe(0, 10, "webp", data)):
            rx.receive(packet)
    big = codes.copy()
    big[0] = kb_.quantizer.levels + 1  # beyond the quantiser
    for packet in keys.push(Keyframe(1, 10, "webp", pack_refresh(big, b"x" * 50))):
        rx.receive(packet)
    assert rx.invalid == 3 and not rx.due(100)


def test_both_ends_keep_a_bounded_pool(kb):
    kb_, _ = kb
    tx, rx = _ends(kb, keep=2)
    codes, picture = _codes(kb_), _other_picture(kb_)
    for index in range(0, 50, 10):
        for packet in tx.push(index, np.roll(picture, index, axis=1), codes):
            rx.receive(packet)
    assert len(tx.frames) == 5 and len(tx.pool) == 2
    assert rx.due(50) and rx.frames == [30, 40] and len(rx.pool) == 2  # the older ones were dropped on arrival


def test_frames_between_checks_blinking_frames_and_faceless_frames_are_not_refreshed(kb):
    kb_, _ = kb
    tx, _ = _ends(kb)
    codes, picture = _codes(kb_), _other_picture(kb_)
    assert tx.push(61, picture, codes) == [] and tx.checked == 0  # not a frame the sender checks (every 5th)
    shut = codes.copy()
    shut[kb_.face_model.n_expr] = 0  # the eye aspect ratio at its lowest: the eyes closing
    assert tx.push(65, picture, shut) == [] and tx.checked == 0
    assert tx.push(70, picture, codes, face=False) == [] and tx.checked == 0  # no face found: no source
    assert tx.push(75, picture, codes) and tx.frames == [75]
