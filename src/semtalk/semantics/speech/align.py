"""Word-boundary refinement by forced alignment: Whisper says *which* words, pocketsphinx says *when*.

Whisper's word timestamps come from cross-attention and run late: on the corpus's hand alignments
(GRID ``.align``, LRS2 ``.orig.txt``) its onsets were 50–190 ms after the sound, which the receiver's
lip-guided synthesis turns straight into AV offset. The CMU acoustic model that ships inside
``pocketsphinx`` (with its 130k-word dictionary) aligns a known word sequence to 10 ms frames; its
onsets land within ~30 ms of the hand marks. Words outside the dictionary get phones from piper's
espeak-ng phonemiser (the same one the receiver speaks with), mapped IPA → ARPAbet.

Alignment is a refinement, never a replacement: a word whose aligned span strays more than
``max_shift`` from Whisper's is kept as Whisper placed it (a failed alignment on noise or music is
the one case where Whisper's coarse time is the better guess). Two exceptions, both from LRS2 00016:

* Whisper now and then puts a word where it cannot be: in silence (the second "it's", 0.65 s late in a
  pause) or in less than ``MIN_PHONE`` per phone ("supermarket" in 40 ms after a 440 ms "the"). A run
  of strays holding such a word, with accepted words on both sides, takes the aligned times: the
  accepted neighbours pin it, and Whisper's times are known wrong.
* Strays at the edge of the aligned run mean the alignment went astray there, typically on speech
  nobody transcribed (Whisper drops "you know, I"; the aligner gives it to the next words, pulling
  "have" 0.27 s early while still inside ``max_shift``). The words between them are aligned once more
  in the audio between the strays' times, as words next to a window cut are.

Against the corpus hand marks
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
    from semtalk.text.normalize import normalize

    return normalize(word).split()


@lru_cache(maxsize=8192)
def pronounce(word: str) -> tuple[str, ...]:
    """ARPAbet phones of a sent word as spoken: the CMU dictionary's first pronunciation of each spoken
    token, else espeak-ng's (``ipa_to_arpabet``), so that known words and coinages compare alike."""
    from semtalk.text.phones import phonemize

    decoder, phones = _decoder(), []
    for tok in _spoken(word):
        known = decoder.lookup_word(tok)
        phones += known.split() if known else ipa_to_arpabet(phonemize(tok))
    return tuple(phones)


def _ensure_in_dictionary(decoder: Any, token: str) -> bool:
    if decoder.lookup_word(token) is not None:
        return True
    from semtalk.text.phones import phonemize

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
    end moves more than ``max_shift`` seconds (unless pinned, see the module docstring), or all of them
    when the alignment fails, stay as given.

    ``cut`` says whether the audio was cut out of a longer input at its start and at its end (an ASR
    window). A word cut in half there makes the whole alignment fail, so words within ``EDGE`` of such
    an edge keep their times (the neighbouring window places them) and the audio is cut at their
    Whisper times. The input itself may be an excerpt too (an 8 s HDTF clip ends inside "illegal", and
    that one word left all 21 at Whisper's times, "initiated" in 0.12 s), so when the alignment fails,
    up to ``RETRIES`` words are left out at the end, then at the start, whatever ``cut`` says.
    """
    from semtalk.semantics.speech.snap import loud_frames

    seconds = len(audio) / RATE
    # A first word given at the very start may have begun before the input did (a clip cut mid-word): aligned
    # whole, it takes the next words' sound and drags them up to 0.35 s late, and the alignment still succeeds,
    # so the retries below never see it. It is treated as cut: it keeps its times and the rest are aligned.
    cut = (cut[0] or (bool(words) and words[0].start - offset < EDGE), cut[1])
    inside = [i for i, w in enumerate(words) if (not cut[0] or w.start - offset >= EDGE)
              and (not cut[1] or offset + seconds - w.end >= EDGE)]
    if not inside:
        return words
    loud = loud_frames(audio)
    i0, last = inside[0], inside[-1] + 1
    runs = [(i0, i1) for i1 in range(last, max(i0, last - RETRIES - 1), -1)]
    runs += [(j0, last) for j0 in range(i0 + 1, min(last, i0 + RETRIES + 1))]
    for run in runs:
        got = _align_run(audio, words, offset, run, max_shift, loud)
        if got is not None:
            return [*words[:run[0]], *got, *words[run[1]:]]
    return words


def _bounds(words: list[Word], offset: float, seconds: float, i0: int, i1: int) -> tuple[float, float]:
    """The audio (s from ``offset``) that words[i0:i1] are aligned in: from the end of the word before
    to the start of the word after (the whole audio at the ends)."""
    lo = words[i0 - 1].end - offset if i0 > 0 else 0.0
    hi = words[i1].start - offset if i1 < len(words) else seconds
    return max(lo, 0.0), min(hi, seconds)


def _align_run(audio: np.ndarray, words: list[Word], offset: float, run: tuple[int, int], max_shift: float,
               loud: np.ndarray | None, again: bool = True) -> list[Word] | None:
    """words[run[0]:run[1]] aligned between their neighbours, strays kept or pinned, the part between
    edge strays aligned ``again`` once (module docstring); None when the alignment fails."""
    i0, i1 = run
    lo, hi = _bounds(words, offset, len(audio) / RATE, i0, i1)
    if hi - lo < 0.1:
        return None
    given = words[i0:i1]
    spans = _align(audio[int(lo * RATE):int(hi * RATE)], given, offset + lo)
    if spans is None:
        return None
    ok = [abs(a - w.start) <= max_shift and abs(b - w.end) <= max_shift and b > a
          for w, (a, b) in zip(given, spans, strict=True)]
    accepted = np.flatnonzero(ok)
    if not accepted.size:
        return given
    first, last = int(accepted[0]), int(accepted[-1])
    k = first
    while k < last:  # runs of strays between accepted words
        if ok[k]:
            k += 1
            continue
        j = k
        while not ok[j]:
            j += 1
        if any(_misplaced(w, offset, loud) for w in given[k:j]) and all(b > a for a, b in spans[k:j]):
            ok[k:j] = [True] * (j - k)
        k = j
    out = [replace(w, start=a, end=b) if good else w for w, (a, b), good in zip(given, spans, ok, strict=True)]
    if again and (first > 0 or last < len(given) - 1):
        inner = _align_run(audio, [*words[:i0], *out, *words[i1:]], offset, (i0 + first, i0 + last + 1),
                           max_shift, loud, again=False)
        if inner is not None:
            out[first:last + 1] = inner
    return out


MIN_PHONE = 0.02  # s: Whisper's span for a word must allow at least this per phone


def _misplaced(w: Word, offset: float, loud: np.ndarray | None) -> bool:
    """Whisper's span for ``w`` cannot hold it: shorter than ``MIN_PHONE`` per phone, or mostly silent."""
    if w.end - w.start < MIN_PHONE * len(pronounce(w.text)):
        return True
    if loud is None:
        return False
    from semtalk.semantics.speech.snap import word_frames

    i0, i1 = word_frames(w, offset, len(loud))
    return i1 > i0 and loud[i0:i1].mean() < 0.5


def _align(audio: np.ndarray, words: list[Word], offset: float) -> list[tuple[float, float]] | None:
    """Each word's aligned (start, end) in seconds, or None when pocketsphinx finds no path through the audio."""
    pieces = [(i, tok) for i, w in enumerate(words) for tok in _spoken(w.text)]
    if not pieces or len(audio) < RATE // 10:
        return None
    decoder = _decoder()
    if not all(_ensure_in_dictionary(decoder, tok) for _, tok in pieces):
        return None
    pcm = (np.clip(np.asarray(audio, np.float32), -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()
    try:
        decoder.set_align_text(" ".join(tok for _, tok in pieces))
        # the noise estimate (remove_noise) carries over from the last utterance, which made a word's
        # times depend on whatever was aligned before (10 ms on a piper "hello"); each alignment starts afresh
        decoder.start_stream()
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
    return [spans[i] for i in range(len(words))]
