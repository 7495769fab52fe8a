"""Deletion-based sentence compression: the spans a sentence can lose, and the text without them.

Compression by deletion keeps the speaker's own words in order (Knight & Marcu, AIJ 139(1), 2002; Clarke &
Lapata, JAIR 31, 2008): the shorter sentence is a subsequence of the longer. The units that can go are
single words, adjacent pairs ("you know", "kind of", "very big"), bracketed and dash-delimited
parentheticals, and short asides between commas. A unit that holds a protected word (a keyword) or a
negation (deleting "not" keeps the words and inverts the meaning) never goes. Removing a unit also mends
the punctuation and capitals around it, so that what the language model scores, and what is sent, is a
written sentence: a sentence-final "." moves onto the new last word, an aside takes one of its two
commas with it (unless the comma ends an opening word: "Well, you know, I" becomes "Well, I"), and a new
first word is capitalised.

This module only knows text; which unit goes is the language model's choice (``base.ScoringKB.shorten``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from semtalk.language.keywords import core

MAX_ASIDE = 4  # words in a comma-delimited aside (", of course,", ", for example,")
_TRAIL = re.compile(r"[.,;:!?]+$")
_DASHES = {"-", "–", "—", "--"}
_BRACKETS = set("()[]")  # a chunk holding one goes only with its whole parenthetical
NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "cannot", "without", "nothing", "nobody", "none"})


@dataclass(frozen=True, order=True)
class Unit:
    """Original chunk indices ``first..last`` that go together."""

    first: int
    last: int

    @property
    def indices(self) -> range:
        return range(self.first, self.last + 1)


Chunks = tuple[tuple[int, str], ...]  # (original index, text as it now reads) of the words still there


def units(chunks: Sequence[str], protected: Collection[int]) -> list[Unit]:
    """Every unit of the whitespace chunks of a sentence that holds no protected index, in text order."""
    out: list[Unit] = []
    n = len(chunks)
    fixed = {i for i, c in enumerate(chunks) if _negation(core(c).lower())} | set(protected)
    free = [i not in fixed and bool(core(c)) and not _BRACKETS & set(c) for i, c in enumerate(chunks)]
    for i in range(n):
        if free[i]:
            out.append(Unit(i, i))
        if i + 1 < n and free[i] and free[i + 1] and not _TRAIL.search(chunks[i]):
            out.append(Unit(i, i + 1))
        last = _closing(chunks, i)
        if last is not None and all(j not in fixed for j in range(i, last + 1)):
            out.append(Unit(i, last))
    return sorted(set(out))


def _negation(word: str) -> bool:
    return word in NEGATIONS or word.endswith("n't")


def _closing(chunks: Sequence[str], i: int) -> int | None:
    """The last chunk of a parenthetical or comma aside that opens at chunk ``i``, or None."""
    c = chunks[i]
    if c.startswith(("(", "[")):
        close = ")" if c[0] == "(" else "]"
        return next((j for j in range(i, len(chunks)) if close in chunks[j]), None)
    if c in _DASHES:
        return next((j for j in range(i + 1, len(chunks)) if chunks[j] in _DASHES), None)
    if i > 0 and chunks[i - 1].endswith(","):
        for j in range(i, min(i + MAX_ASIDE, len(chunks) - 1)):
            if _TRAIL.search(chunks[j]):
                return j if chunks[j].endswith(",") else None
    return None


def applicable(state: Chunks, unit: Unit) -> bool:
    """Whether every chunk of ``unit`` is still in the sentence."""
    present = {i for i, _ in state}
    return all(i in present for i in unit.indices)


def delete(state: Chunks, unit: Unit) -> Chunks:
    """``state`` without ``unit``, its punctuation and capitals mended."""
    at = next(k for k, (i, _) in enumerate(state) if i == unit.first)
    end = at + len(unit.indices)
    before, gone, after = list(state[:at]), state[at:end], list(state[end:])
    trail = _TRAIL.search(gone[-1][1].rstrip(")]\"'"))
    stop = "".join(ch for ch in trail.group() if ch != ",") if trail else ""
    aside = len(before) > 1 and gone[-1][1].endswith(",") and before[-1][1].endswith(",")  # not "Well, …"
    if before and (stop or aside):
        i, text = before[-1]
        text = text.rstrip(",")
        before[-1] = (i, text if _TRAIL.search(text) else text + stop)
    if not before and after and gone[0][1][:1].isupper():
        i, text = after[0]
        after[0] = (i, text[:1].upper() + text[1:])
    return (*before, *after)


def render(state: Chunks) -> str:
    return " ".join(text for _, text in state)
