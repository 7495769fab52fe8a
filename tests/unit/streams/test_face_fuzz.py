"""Property tests of the face depacketiser and play-out on a hostile channel: what they deliver, not only that
they survive. Each example feeds a whole stream; the counts per run are in the docstrings."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from semtalk.records import FaceFrame
from semtalk.streams.face import MAX_FRAMES, FaceDepacketizer
from semtalk.streams.playout import FacePlayout
from tests.unit.streams.fuzz import FaceStream, Q, delivered, face_streams, forged, fuzz, is_sent, with_forgeries
from tests.unit.streams.payload_frames import N_COEFFS

FALLBACK = np.full(N_COEFFS, 0.5)
MARGIN = 2 * MAX_FRAMES  # play-out horizon beyond the honest stream's length


def receive(stream: FaceStream, datagrams: list[bytes]) -> tuple[FaceDepacketizer, FacePlayout, list[FaceFrame]]:
    """Depacketise and play out ``datagrams`` in arrival order; the whole stream is played at the end."""
    dp = FaceDepacketizer(stream.fmt)
    playout = FacePlayout(Q, FALLBACK, horizon=len(stream.frames) + MARGIN)
    for d in datagrams:
        for frame in dp(d):
            playout.push(frame)
        assert len(playout) <= playout.horizon
    return dp, playout, playout.pop(len(stream.frames))


@fuzz(300)
@given(face_streams(min_frames=20), st.data())
def test_honest_stream_with_loss_duplicates_and_reordering(stream, data):
    """~2,900 packets a run. Each arrived packet gives exactly its own frames, byte-identical; play-out gives
    every index once and in order, the sent frame where one arrived before its turn, else a concealed one."""
    arrived = data.draw(delivered(stream.packets))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream.frames)), max_size=4)))  # play-out clock ticks
    dp = FaceDepacketizer(stream.fmt)
    playout = FacePlayout(Q, FALLBACK, horizon=len(stream.frames) + MARGIN)
    played, have = [], set()
    for i, d in enumerate(arrived):
        got = dp(d)
        assert [f.index for f in got] == stream.indices[d] and all(is_sent(f, stream) for f in got)
        for frame in got:
            playout.push(frame)
        have |= {f.index for f in got if f.index >= len(played)}
        for cut in cuts:
            if cut <= i:
                played += playout.pop(cut)
    played += playout.pop(len(stream.frames))
    assert [f.index for f in played] == list(range(len(stream.frames)))
    assert all(is_sent(f, stream) == (f.index in have) for f in played)
    assert all(f.concealed == (f.index not in have) for f in played)
    assert dp.garbage == dp.foreign == dp.wrong_kb == 0 and len(playout) == 0


@fuzz(200)
@given(face_streams(min_frames=40, max_frames=200), st.data())
def test_forged_packets_cost_at_most_their_own_frames(stream, data):
    """~12,500 packets a run (both receptions), 1-4 of each stream forged. Against the same lossy stream without
    them, each forged packet costs at most one packet's worth of frames (MAX_FRAMES); nothing raises and the play-out
    buffer keeps nothing beyond the honest stream but the forged frames."""
    honest = data.draw(delivered(stream.packets, reorder=False))
    mixed, k = data.draw(with_forgeries(honest, stream.packets))
    _, _, baseline = receive(stream, honest)
    _, playout, played = receive(stream, mixed)
    lost = sum(is_sent(b, stream) and not is_sent(p, stream) for b, p in zip(baseline, played, strict=True))
    assert lost <= MAX_FRAMES * k
    assert len(playout) <= MAX_FRAMES * k
    assert sum(is_sent(p, stream) for p in played) >= sum(is_sent(b, stream) for b in baseline) - MAX_FRAMES * k


@fuzz(200)
@given(face_streams(max_frames=20), st.data())
def test_garbage_is_counted_and_never_outnumbers_what_was_fed(stream, data):
    """~1,000 packets a run, every one forged or random. Each is counted once, as garbage, foreign, wrong KB or
    delivered; a delivered one gives at most MAX_FRAMES frames."""
    junk = data.draw(st.lists(forged(stream.packets), min_size=1, max_size=40))
    dp = FaceDepacketizer(stream.fmt)
    delivering = 0
    for d in junk:
        got = dp(d)
        assert len(got) <= MAX_FRAMES
        delivering += bool(got)
    assert delivering + dp.garbage + dp.foreign + dp.wrong_kb == len(junk)
