"""The live call's latency profile: the stream settings ``semtalk send | recv | call`` use unless told otherwise.

``semtalk run`` keeps SyncSC's own defaults (5 frames per packet, RS k = 4, 1.6 kbps): its FEC block is
5 · 4 frames, and the receiver waits for a whole block before its first frame plays, (5 · 4 + 1) / 25 s = 840 ms.
A call has to answer within ``LATENCY_TARGET_S`` (issue 23), so the live profile shrinks the block: one frame per
packet and RS blocks of 2 packets, (1 · 2 + 1) / 25 s = 120 ms (the + 1 frame is the sender's capture-to-send
time). The face coder groups frames until a packet's
overhead (≈ 80 bits: header, level, coder flush) is at most a quarter of its budget
(``streams.facecode.frames_for_rate``): one frame per packet needs a rate target of 8 kbps, which the coder does
not reach (it is lossless below it), so the stream costs what lossless single-frame packets cost (docs/live.md).

Kept light (no numpy, no mode) so the command line can show these defaults without importing the call.
"""

from __future__ import annotations

FEC_K = 2  # source packets per RS block (3 measured 40 ms slower at p50 and no better elsewhere: docs/live.md)
FRAMES_PER_PACKET = 1
VIDEO_KBPS = 8.0  # the least target at which frames_for_rate keeps one frame per packet at 25 fps
FLOW_GRID = 0  # no motion field: one per packet would double the packets' frames, and fitting it costs the sender
# ≈ 35 ms a frame (rendering + fit), more than a live frame's share of one core (docs/face-rate.md)
SKIP_AFTER_S = 0.08  # two frame periods: a frame still unrendered when the one after next is due is skipped
# (one period skipped 1–5 of 200 frames on an idle machine after a scheduling hiccup; two skipped none and kept
# p95 latency 150–220 ms, under the 300 ms budget: docs/live.md)
LATENCY_TARGET_S = 0.3  # issue 23: video capture-to-render p95 at 0 loss on loopback
STRUCTURAL_BUDGET_S = 0.2  # the FEC block's share of it; the rest: network margin, rendering, the loop's polling
