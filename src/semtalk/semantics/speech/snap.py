"""Word edges snapped to the sound: Whisper's word times absorb pauses, so the sender trims silent edges."""

from __future__ import annotations

import numpy as np

from semtalk.records import Word

ASR_RATE = 16_000  # Whisper's input rate, and the rate these frames are measured at
SNAP_HOP = 0.01  # seconds per energy frame
SNAP_PAD = 0.02  # seconds of sound kept before the first and after the last loud frame of a word
ALIGN_PAD = 0.05  # the same after forced alignment: only a pause it let a word absorb is trimmed


def snap_to_speech(audio: np.ndarray, words: list[Word], offset: float = 0.0, pad: float = SNAP_PAD) -> list[Word]:
    """Trim the silent edges off each word, so its times follow the sound and not Whisper's guess.

    Whisper's word timestamps absorb the pause before a phrase: on GRID the first word started 0.28 s
    before its sound (checked against the corpus's hand alignment), which a receiver aligning speech to
    the lips turns straight into AV offset. Edges only move inward, and only over frames quieter than
    40 % of the way from the window's noise floor to its peak (in dB), so words in running speech keep
    their times; ``pad`` seconds of sound are kept before the first and after the last loud frame.
    """
    loud = loud_frames(audio) if words else None
    if loud is None:  # no clear speech/silence contrast: leave Whisper's times
        return words
    out = []
    for w in words:
        i0, i1 = word_frames(w, offset, len(loud))
        hits = np.flatnonzero(loud[i0:i1])
        if hits.size == 0:
            out.append(w)
            continue
        start = float(max(w.start, offset + (i0 + hits[0]) * SNAP_HOP - pad))
        end = float(min(w.end, offset + (i0 + hits[-1] + 1) * SNAP_HOP + pad))
        out.append(Word(w.text, start, max(end, start + SNAP_HOP)) if end > start else w)
    return out


def loud_frames(audio: np.ndarray) -> np.ndarray | None:
    """Per ``SNAP_HOP`` frame of 16 kHz ``audio``: louder than 40 % of the way (in dB) from its noise floor
    (10th percentile) to its peak (99th)? None when there is no clear speech/silence contrast (< 10 dB)."""
    hop = round(SNAP_HOP * ASR_RATE)
    n = len(audio) // hop
    if n < 3:
        return None
    frames = np.asarray(audio[: n * hop], np.float64).reshape(n, hop)
    db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    floor, peak = np.percentile(db, 10), np.percentile(db, 99)
    return db > floor + 0.4 * (peak - floor) if peak - floor >= 10.0 else None


def word_frames(w: Word, offset: float, n: int) -> tuple[int, int]:
    """The ``SNAP_HOP`` frames [i0, i1) of ``loud_frames`` that word ``w`` covers (audio starting at ``offset``)."""
    return max(0, int((w.start - offset) / SNAP_HOP)), max(0, min(n, int(np.ceil((w.end - offset) / SNAP_HOP))))
