"""Rate matching: make a codec's ACTUAL bitrate meet a target, as SyncSC's Table I compares at equal rates.

A codec's rate control only aims at its bitrate knob; on a short clip with one I-frame it misses by
tens of percent (SVT-AV1 overshoots, x264 undershoots). ``rate_match`` therefore searches the knob
(the target bitrate handed to the encoder) until the bitrate actually produced is at most
``TOLERANCE`` × target and as close to it as the search finds (it stops inside [0.95, 1.05] × target).
A codec whose coarsest setting (knob at ``KNOB_FLOOR_KBPS``: rate control pinned at its maximum
quantiser) still exceeds the bound cannot reach the rate: its floor point -- the cheapest encoding
the search met -- is returned with ``floor=True``, and must be reported as such, not as a point at
the target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semtalk.media.video_codec import EncodedVideo, YuvClip, encode_video

TOLERANCE = 1.05  # the bound: actual ≤ 1.05 × target
GOOD_ENOUGH = 0.95  # stop searching once actual is within [0.95, 1.05] × target
KNOB_FLOOR_KBPS = 1.0  # pins every rate control at its coarsest quantiser (below 1 kbps x265 drops its VBV)
MAX_ENCODES = 8


@dataclass(frozen=True)
class RatePoint:
    """The encoding chosen for one (codec, target) point of the ladder."""

    codec: str
    target_kbps: float
    kbps: float  # actually produced
    floor: bool  # True: the codec cannot get down to the target; this is its coarsest encoding
    knob_kbps: float  # the bitrate handed to the encoder
    encodes: int  # trial encodes the search took
    encoded: EncodedVideo


def rate_match(
    frames: Sequence[np.ndarray] | YuvClip,
    codec: str,
    target_kbps: float,
    fps: float = 25.0,
    gop: int | None = None,
) -> RatePoint:
    """Search the knob (secant in log-log, kept inside a bracket) for the best encoding within the bound."""
    if not target_kbps > 0:
        raise ValueError(f"target bitrate must be positive, got {target_kbps} kbps")
    clip = frames if isinstance(frames, YuvClip) else YuvClip.from_rgb(frames, fps)
    limit = TOLERANCE * target_kbps
    tried: dict[float, EncodedVideo] = {}

    def encode(knob: float) -> EncodedVideo:
        if knob not in tried:
            tried[knob] = encode_video(clip, codec, knob, gop=gop)
        return tried[knob]

    knob = target_kbps
    for _ in range(MAX_ENCODES - 1):
        rate = encode(knob).kbps
        if GOOD_ENOUGH * target_kbps <= rate <= limit:
            break
        knob = _next_knob(tried, target_kbps, limit)
        if knob is None or knob in tried:
            break
    feasible = [k for k, e in tried.items() if e.kbps <= limit]
    if not feasible:  # nothing tried meets the bound: is the codec able to get there at all?
        encode(KNOB_FLOOR_KBPS)
        cheapest = min(tried, key=lambda k: tried[k].kbps)  # rate control is not monotone at its extremes
        if tried[cheapest].kbps > limit:
            return RatePoint(codec, target_kbps, tried[cheapest].kbps, True, cheapest, len(tried), tried[cheapest])
        feasible = [cheapest]
    best = max(feasible, key=lambda k: tried[k].kbps)
    return RatePoint(codec, target_kbps, tried[best].kbps, False, best, len(tried), tried[best])


def _next_knob(tried: dict[float, EncodedVideo], target: float, limit: float) -> float | None:
    """Next knob: the log-log secant through the closest points on either side of the target,
    clamped into the bracket (bisection when the secant leaves it); None when the bracket is closed."""
    aim = 0.99 * target  # aim a little under, the bound is one-sided
    points = sorted((k, e.kbps) for k, e in tried.items())
    below = [(k, r) for k, r in points if r <= limit]
    above = [(k, r) for k, r in points if r > limit]
    lo = max(below, key=lambda p: p[1]) if below else None  # best feasible so far
    hi = min(above, key=lambda p: p[1]) if above else None  # cheapest infeasible so far
    if lo is not None and hi is not None:
        if hi[0] <= lo[0] or hi[0] / lo[0] < 1.02:
            return None  # the knob no longer moves the rate enough to matter (or the rate is not monotone)
        slope = (math.log(hi[1]) - math.log(lo[1])) / (math.log(hi[0]) - math.log(lo[0]))
        knob = math.exp(math.log(lo[0]) + (math.log(aim) - math.log(lo[1])) / slope) if slope > 0 else math.nan
        if not lo[0] < knob < hi[0]:
            knob = math.sqrt(lo[0] * hi[0])
        return knob
    k, r = lo or hi  # one side only: scale the knob by how far off the rate is
    knob = k * aim / r
    if hi is not None and knob <= KNOB_FLOOR_KBPS:
        return None  # even the coarsest knob is needed: let the floor check decide
    return max(knob, KNOB_FLOOR_KBPS)
