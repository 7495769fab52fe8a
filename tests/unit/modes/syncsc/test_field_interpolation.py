"""The receiver's motion field per frame (``SyncscReceiver._field``): a packet's field, moved towards the
neighbouring packet's with the frame's distance from the packet's middle, only when that packet was drawn the
same way (its variant) and has arrived."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from semtalk.modes.syncsc.mode import SyncscReceiver
from semtalk.records import CodedFrame, FaceFrame

FPP = 4  # frames per packet: the middle lies between positions 1 and 2
A, B = np.full((2, 2, 2), 4.0), np.full((2, 2, 2), -4.0)


def receiver(ahead: dict[int, CodedFrame]) -> SimpleNamespace:
    """What ``_field`` reads of a receiver: the packet size, the fields played, and the play-out's look ahead."""
    return SimpleNamespace(config=SimpleNamespace(frames_per_packet=FPP), _fields={},
                           playout=SimpleNamespace(peek=ahead.get))


def play(rx, index: int, field: np.ndarray | None, variant: int = 0):
    return SyncscReceiver._field(rx, FaceFrame(index, np.zeros(3), field=field, variant=variant))


def test_fields_are_interpolated_towards_the_next_and_the_previous_packet():
    rx = receiver({4: CodedFrame(4, np.zeros(3), field=B)})
    got = [play(rx, i, A) for i in range(FPP)]
    np.testing.assert_allclose(got[0], A)  # no packet before the first
    np.testing.assert_allclose(got[1], A)  # before the middle, still no previous packet
    np.testing.assert_allclose(got[2], 0.875 * A + 0.125 * B)  # t = 0.125 towards packet 1
    np.testing.assert_allclose(got[3], 0.625 * A + 0.375 * B)
    rx.playout = SimpleNamespace(peek={}.get)
    np.testing.assert_allclose(play(rx, 4, B), 0.625 * B + 0.375 * A)  # back towards packet 0
    np.testing.assert_allclose(play(rx, 7, B), B)  # packet 2 has not arrived: packet 1's own


def test_another_variant_a_lost_packet_or_no_field_leave_the_frame_its_own():
    rx = receiver({4: CodedFrame(4, np.zeros(3), field=B, variant=3)})
    np.testing.assert_allclose(play(rx, 3, A), A)  # the next packet is drawn another way
    np.testing.assert_allclose(play(rx, 8, B), B)  # packet 1 was lost: nothing from packet 0
    assert play(rx, 12, None) is None
