"""Word-boundary refinement by forced alignment: Whisper says *which* words, pocketsphinx says *when*.

Whisper's word timestamps come from cross-attention and run late: on the corpus's hand alignments
(GRID ``.align``, LRS2 ``.orig.txt``) its onsets were 50–190 ms after the sound, which the receiver's
lip-guided synthesis turns straight into AV offset. The CMU acoustic model that ships inside
``pocketsphinx`` (with its 130k-word dictionary) aligns a known word sequence to 10 ms frames; its
onsets land within ~30 ms of the hand marks. Words outside the dictionary get phones from piper's
espeak-ng phonemiser (the same one the receiver speaks with), mapped IPA → ARPAbet.

Alignment is a refinement, never a replacement: a word whose aligned span strays more than
``max_shift`` from Whisper's is kept as Whisper placed it (a failed alignment on noise or music is
the one case where Whisper's coarse time is the better guess). Against the corpus hand marks
(``semtalk bench --suite speech``, columns ``onset_error_ms``), the mean onset error on GRID swwp2s,
LRS2 00016 and 00019 goes from +72/+87/+118 ms (Whisper, edges snapped to the sound) to about +10/+1/+7.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np

from semtalk.errors import MissingDependencyError
from semtalk.records import Word

FRAME = 0.01  # seconds per pocketsphinx frame
RATE = 16_000  # the acoustic model's sample rate

# espeak-ng IPA (as piper emits it) → CMU ARPAbet; two-symbol entries are matched first
_IPA = {"aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY", "dʒ": "JH", "tʃ": "CH", "ɑ": "AA",
        "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɔ": "AO", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH",
        "i": "IY", "ʊ": "UH", "u": "UW", "o": "OW", "a": "AA", "ɚ": "ER", "ɜ": "ER", "ɝ": "ER",
        "b": "B", "d": "D", "f": "F", "g": "G", "ɡ": "G", "h": "HH", "k": "K", "x": "K", "l": "L", "m": "M",
        "n": "N", "ŋ": "NG", "p": "P", "s": "S", "t": "T", "ɾ": "T", "v": "V", "w": "W", "j": "Y", "z": "Z",
        "θ": "TH", "ð": "DH", "ʃ": "SH", "ʒ": "ZH", "ɹ": "R", "r": "R"}


def ipa_to_arpabet(phonemes: list[str]) -> list[str]:
    """ARPAbet phones for an espeak-ng phoneme list; stress, length and unknown symbols are skipped."""
    out, i = [], 0
    while i < len(phonemes):
        pair = "".join(phonemes[i:i + 2])
        if len(phonemes) > i + 1 and pair in _IPA:
            out.append(_IPA[pair])
            i += 2
            continue
        if phonemes[i] in _IPA:
            out.append(_IPA[phonemes[i]])
        i += 1
    return out


@lru_cache(maxsize=1)
def _decoder() -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:
        raise MissingDependencyError("pocketsphinx", "word alignment") from exc
    return Decoder(samprate=RATE, loglevel="FATAL")


def _spoken(word: str) -> list[str]:
    """The dictionary words a sent word is spoken as: '10' → ['ten'], 'x4' → ['x', 'four']."""
    from semtalk.metrics.text import normalize

    return normalize(word).split()


@lru_cache(maxsize=8192)
def pronounce(word: str) -> tuple[str, ...]:
    """ARPAbet phones of a sent word as spoken: the CMU dictionary's first pronunciation of each spoken
    token, else espeak-ng's (``ipa_to_arpabet``), so that known words and coinages compare alike."""
    from semtalk.generators.tts import phonemize

    decoder, phones = _decoder(), []
    for tok in _spoken(word):
        known = decoder.lookup_word(tok)
        phones += known.split() if known else ipa_to_arpabet(phonemize(tok))
    return tuple(phones)


def _ensure_in_dictionary(decoder: Any, token: str) -> bool:
    if decoder.lookup_word(token) is not None:
        return True
    from semtalk.generators.tts import phonemize

    phones = ipa_to_arpabet(phonemize(token))
    if not phones:
        return False
    decoder.add_word(token, " ".join(phones), True)
    return True


EDGE = 0.1  # seconds: a word ending (starting) this close to a cut end (start) may be cut in half
RETRIES = 2


def align_words(audio: np.ndarray, words: list[Word], offset: float = 0.0, max_shift: float = 0.4,
                cut: tuple[bool, bool] = (False, False)) -> list[Word]:
    """``words`` (times in seconds from the start of the input) with onsets and ends from a forced
    alignment of ``audio`` (16 kHz mono float, starting at ``offset``); a word whose aligned start or
    end moves more than ``max_shift`` seconds, or all of them when the alignment fails, stay as given.

    ``cut`` says whether the audio was cut out of a longer input at its start and at its end (an ASR
    window). A word cut in half there makes the whole alignment fail, so words within ``EDGE`` of such
    an edge keep their times (the neighbouring window places them) and the audio is cut at their
    Whisper times; if it still fails, up to ``RETRIES`` more words are left out at the cut end.
    """
    seconds = len(audio) / RATE
    inside = [i for i, w in enumerate(words) if (not cut[0] or w.start - offset >= EDGE)
              and (not cut[1] or offset + seconds - w.end >= EDGE)]
    if not inside:
        return words
    i0, last = inside[0], inside[-1] + 1
    for i1 in range(last, max(i0, last - (RETRIES + 1 if cut[1] else 1)), -1):
        lo = words[i0 - 1].end - offset if i0 > 0 else 0.0
        hi = words[i1].start - offset if i1 < len(words) else seconds
        if hi - lo < 0.1:
            break
        got = _align(audio[max(0, int(lo * RATE)):int(hi * RATE)], words[i0:i1], offset + max(lo, 0.0), max_shift)
        if got is not None:
            return [*words[:i0], *got, *words[i1:]]
    return words


def _align(audio: np.ndarray, words: list[Word], offset: float, max_shift: float) -> list[Word] | None:
    """The aligned words, or None when pocketsphinx finds no path through the audio."""
    pieces = [(i, tok) for i, w in enumerate(words) for tok in _spoken(w.text)]
    if not pieces or len(audio) < RATE // 10:
        return None
    decoder = _decoder()
    if not all(_ensure_in_dictionary(decoder, tok) for _, tok in pieces):
        return None
    pcm = (np.clip(np.asarray(audio, np.float32), -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()
    try:
        decoder.set_align_text(" ".join(tok for _, tok in pieces))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        segs = [s for s in decoder.seg() or () if s.word.split("(")[0] in {tok for _, tok in pieces}]
    except RuntimeError:  # no path through the audio
        return None
    if len(segs) != len(pieces):
        return None
    spans: dict[int, tuple[float, float]] = {}
    for (i, _), seg in zip(pieces, segs, strict=True):
        start, end = offset + seg.start_frame * FRAME, offset + (seg.end_frame + 1) * FRAME
        lo, _ = spans.get(i, (start, end))
        spans[i] = (lo, end)
    out = []
    for i, w in enumerate(words):
        start, end = spans[i]
        ok = abs(start - w.start) <= max_shift and abs(end - w.end) <= max_shift
        out.append(replace(w, start=start, end=end) if ok and end > start else w)
    return out
