"""Text packet concealment (TextPC, SyncSC §III-C): fill lost words from the words around them.

The receiver knows from the RTP sequence numbers how many words are missing and where, and from the
timestamps of the received neighbours how long the hole lasts. ``TextConcealer`` cuts the slots into
runs of consecutive lost words and hands each run to a ``WordPredictor`` as a ``Gap``: left and right
context, the run length and its duration.
"""

from __future__ import annotations

from dataclasses import dataclass

from semtalk.records import Word
from semtalk.text.lm import BOS, EOS, GAP_WORD_SECONDS, Gap, WordPredictor


@dataclass(frozen=True)
class TextConcealer:
    """Fills each run of lost slots with the predictor's words; lost timing is shared out between the neighbours."""

    predictor: WordPredictor

    def fill(self, slots: list[Word | None]) -> list[Word]:
        out: list[Word | None] = list(slots)
        i = 0
        while i < len(slots):
            if slots[i] is not None:
                i += 1
                continue
            b = i
            while b + 1 < len(slots) and slots[b + 1] is None:
                b += 1
            for j, text in enumerate(self.predictor.predict(_gap(slots, i, b))):
                start, end = _gap_timing(out, slots, i + j, i, b)
                out[i + j] = Word(text, start, end, concealed=True, timed=False)
            i = b + 1
        return [w for w in out if w is not None]


def _gap(slots: list[Word | None], a: int, b: int) -> Gap:
    """The ``Gap`` of lost slots ``a`` … ``b``: received context on both sides and the hole's duration."""
    left: list[str] = []
    i = a - 1
    while i >= 0 and slots[i] is not None and len(left) < 2:
        left.insert(0, slots[i].text)
        i -= 1
    if i < 0 and len(left) < 2:
        left.insert(0, BOS)
    right: list[str] = []
    i = b + 1
    while i < len(slots) and slots[i] is not None and len(right) < 2:
        right.append(slots[i].text)
        i += 1
    if i == len(slots) and len(right) < 2:
        right.append(EOS)
    prev, nxt = (slots[a - 1] if a else None), (slots[b + 1] if b + 1 < len(slots) else None)
    seconds = nxt.start - prev.end if prev is not None and nxt is not None else None
    return Gap(tuple(left), tuple(right), b - a + 1, seconds)


def _gap_timing(filled: list[Word | None], slots: list[Word | None], i: int, a: int, b: int
                ) -> tuple[float, float]:
    """Start and end of lost slot ``i`` of the run ``a`` … ``b``: an equal share of the time between the
    received neighbours."""
    run = b - a + 1
    prev = filled[i - 1] if i else None
    t0 = prev.end if prev is not None else None
    nxt = slots[b + 1] if b + 1 < len(slots) else None
    if nxt is not None:
        t1 = nxt.start
        if t0 is None:
            t0 = max(0.0, t1 - GAP_WORD_SECONDS * run)
        share = max(t1 - t0, 0.0) / (b - i + 1)
        return t0, t0 + share
    t0 = t0 or 0.0
    return t0, t0 + GAP_WORD_SECONDS
