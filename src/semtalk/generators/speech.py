"""The receiver's speech: the received words spoken by piper, aligned to their transmitted timing (SyncSC §III-D).

SyncSC sends words, their timing and prosody instead of audio; the receiver regenerates speech whose
words start and end where the sender's did, so they stay in sync with the regenerated lips. Per group
of words spoken without a pause (gap < ``max_gap``)::

    words ─▶ piper, one utterance (coarticulation across words) ─▶ adapt(audio, piper rate) ─▶ 16 kHz
          ─▶ word spans: the sender's forced aligner run on piper's audio ─▶ TimeMap: word i's span → [start_i, end_i]
          ─▶ PSOLA (stretch.warp): one pass along the map, F0 ← transmitted f0 ─▶ gain ← energy
          ─▶ added at its place in an all-zero track of exactly round(duration · rate) samples,
             every group moved by one call-wide lag to meet the received lips (:func:`lip_shift`)

Words whose timing was lost (``timed=False``) are first placed in the gap between their timed
neighbours where the received lip motion is most open (:func:`place_untimed`).

The transmitted times are where the sender's aligner (``semantics.speech.align``, pocketsphinx) marks
each word, so piper's words are measured with the same aligner: on the LRS2/GRID bench words it marks
onsets ~35 ms before the -35 dB level crossing of a group's first word and 20-80 ms (mean 35 ms) before
the midpoints of piper's inter-word gaps. Mapping piper's own bounds onto the transmitted starts
played every word that much early: the aligner found the received words 12-35 ms before their
transmitted starts, and the output audio's envelope led the original's by 10-40 ms (0-5 ms after).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from itertools import pairwise

import numpy as np

from semtalk.generators import stretch
from semtalk.records import Word

Adapt = Callable[[np.ndarray, int], np.ndarray]

# phoneme symbols that are not sounds: word gaps, utterance start/end, espeak punctuation
_SEPARATORS = frozenset(" ^$_.,;:!?¡¿—…\"«»()-")
_MIN_WORD = 0.01  # s: an untimed run with less room than this is dropped, a timed group with a shorter slot untimed
_FRAME = 0.005  # s: grid of the prosody corrections and of the level envelopes
_HEARD_DB = -30.0  # level re the utterance peak below which a voiced point is not heard (no F0 measure)
_KNOT_TOL = 1e-4  # s: time-map knots closer than this are one (no sub-0.1 ms silences)
_ALIGN_PAD = 0.3  # s of near silence put before piper's speech when aligning it


@dataclass(frozen=True)
class SynthConfig:
    """Settings of :class:`SpeechSynthesizer`.

    ``max_gap``: words closer than this (s) are one piper utterance, so they coarticulate; a longer gap is
    silence. ``max_stretch`` / ``max_squeeze``: the most a word is slowed down / sped up against piper's
    pace (:func:`word_time_map`); the rest of a longer slot is silence, a shorter one borrows from its neighbours.
    The group as a whole is already re-spoken at the transmitted pace (``tempo_tolerance``), so the squeeze
    only bounds one word against its neighbours: at 1.6 the fast GRID talkers' short words were crushed
    (the speech bench's re-ASR WER pooled over its 8 clips 0.125); at 1.15 it is 0.098, |AV offset|
    moving by ≤ 14 ms.
    ``tempo_tolerance``: a group whose piper pace differs more from the transmitted one is re-spoken faster/slower.
    ``align_max_shift``: how far (s) the aligner may move a word from piper's own span; a word it moves
    further, or all of them when it fails, keep piper's span, its outer edges at ``onset_db``, the level
    re the utterance peak where piper's speech starts and ends.
    ``f0_range``: F0 targets and results are clipped to it (Hz). ``max_gain_db``: bound of the energy gain.
    ``f0_spread`` (semitones) / ``energy_spread`` (dB): how far one word's F0 / level correction may stray
    from the group's median one; ``prosody_smooth``: the corrections' moving-average window (s), so they
    glide across word joins instead of stepping. Unbounded per-word imposition cost re-ASR words (GRID
    lbax4n sends "at" at 74 Hz between 111–118 Hz words: 7 semitones down for one short word).
    ``fade``: raised-cosine fade (s) just outside each group's edges against clicks.
    ``lip_sync``: the most (s) the speech is moved to line up with the received lips (:func:`lip_shift`),
    only where their correlation peaks at ``lip_sync_corr`` or more; 0 turns it off.
    """

    rate: int = 16000
    prosody: bool = True
    max_gap: float = 0.15
    max_stretch: float = 1.4
    max_squeeze: float = 1.15
    tempo_tolerance: float = 1.15
    align_max_shift: float = 0.15
    onset_db: float = -35.0
    f0_range: tuple[float, float] = (50.0, 500.0)
    f0_spread: float = 4.0
    energy_spread: float = 6.0
    prosody_smooth: float = 0.1
    max_gain_db: float = 30.0
    fade: float = 0.005
    lip_sync: float = 0.05
    lip_sync_corr: float = 0.3


@dataclass(frozen=True)
class Rendered:
    """The receiver's speech and how far it was moved to meet the lips (s, negative: earlier; :func:`lip_shift`)."""

    audio: np.ndarray
    lip_shift: float = 0.0


@dataclass(frozen=True)
class Utterance:
    """Piper's speech of some words at the output rate, and where each word lies in it.

    ``bounds`` (s, one more than the words): word i spans ``bounds[i]..bounds[i+1]``; inner bounds sit
    midway between two words' aligned spans, the outer ones at the first word's aligned onset and the
    last one's aligned end, cut ``asr.ALIGN_PAD`` after the ``onset_db`` crossing (:meth:`SpeechSynthesizer._bounds`).
    """

    audio: np.ndarray
    bounds: tuple[float, ...]


def clean_text(text: str) -> str:
    """A word as piper should read it: lower case (no spelt-out acronyms), no punctuation (no sentence split)."""
    return re.sub(r"[^\w']+", " ", text.lower()).strip()


def word_spans(phonemes: Sequence[tuple[str, int]], words: Sequence[Sequence[str]]) -> list[tuple[int, int]] | None:
    """Sample span ``[start, end)`` of each word in piper's aligned ``(phoneme, n_samples)`` stream.

    espeak phonemises a sentence with some words merged (``"in the"`` → ``ɪnðə``) or reduced
    (``"wouldn't have"`` → ``wʊdəntəv``), so spaces do not reliably mark words. Instead the utterance's
    sounding phonemes are matched (difflib, in order) to the words' own phonemes (``words``, one list per
    word); an unmatched phoneme belongs to the word before it. A word left with no phoneme gets an empty
    span where it would be. None when the utterance has no sounding phoneme.
    """
    sounding, pos = [], 0
    for symbol, n in phonemes:
        if symbol not in _SEPARATORS:
            sounding.append((symbol, pos, pos + n))
        pos += n
    if not sounding:
        return None
    ref = [(p, i) for i, word in enumerate(words) for p in word if p not in _SEPARATORS]
    label = np.full(len(sounding), -1)
    matcher = SequenceMatcher(None, [p for p, _, _ in sounding], [p for p, _ in ref], autojunk=False)
    for block in matcher.get_matching_blocks():
        label[block.a:block.a + block.size] = [ref[block.b + k][1] for k in range(block.size)]
    label = np.maximum.accumulate(np.maximum(label, 0))
    spans, end = [], sounding[0][1]
    for i in range(len(words)):
        mine = np.flatnonzero(label == i)
        if len(mine):
            spans.append((sounding[mine[0]][1], sounding[mine[-1]][2]))
            end = spans[-1][1]
        else:
            spans.append((end, end))
    return spans


def dst_bounds(words: Sequence[Word]) -> np.ndarray:
    """Output-time word bounds of a group: its first start, the midpoints of the gaps between words, its last end."""
    inner = [(a.end + b.start) / 2 for a, b in pairwise(words)]
    return np.array([words[0].start, *inner, words[-1].end])


def word_time_map(src: Sequence[float], words: Sequence[Word], max_stretch: float,
                  max_squeeze: float = math.inf) -> stretch.TimeMap:
    """The duration alignment of SyncSC §III-D as a time map: word i's source span → its transmitted slot.

    ``src`` are the source bounds (``Utterance.bounds``), ``dst_bounds(words)`` the output ones. Each word's
    rate is bounded, ``pace/max_squeeze ≤ output / piper duration ≤ max_stretch``: the sender's word edges
    (Whisper's) are ~0.1 s rough, and following them exactly squeezes a word into a 40 ms slot or drawls
    a short one over a pause it absorbed, which makes it unintelligible. Within those bounds the onsets
    ``o_i`` and ends ``e_i`` are the least-squares fit to the transmitted bounds (a bounded linear least
    squares in the group onset, the word lengths and the silences between words)::

        min Σ_i (o_i − dst_i)² + (e_i − dst_{i+1})²,   e_i = o_i + x_i,  o_{i+1} = e_i + g_i,
        x_i ∈ [ds_i / max_squeeze, ds_i · max_stretch],  g_i ≥ 0

    so the words land exactly on their slots whenever the bounds allow it, a too-long slot keeps the word
    at ``max_stretch`` centred in it (silence around it), and a too-short one spills evenly into its
    neighbours' slots instead of being crushed. ``pace`` is the group's own squeeze (its slot over its
    source length, at most 1), so the group always fits its slot and ``max_squeeze`` bounds how much
    faster one word goes than the rest.
    """
    from scipy.optimize import lsq_linear

    dst = dst_bounds(words)
    ds = np.maximum(np.diff(np.asarray(src, np.float64)), 0.0)
    pace = min(1.0, (dst[-1] - dst[0]) / max(float(ds.sum()), 1e-9))
    n = len(words)
    # rows: o_0, e_0, o_1, e_1, ... ; columns: o_0, x_0..x_{n-1}, g_0..g_{n-2}
    a = np.zeros((2 * n, 2 * n))
    a[:, 0] = 1.0
    for i in range(n):
        a[2 * i + 1:, 1 + i] = 1.0  # x_i lies before e_i and every later bound
        if i < n - 1:
            a[2 * i + 2:, 1 + n + i] = 1.0  # g_i lies before o_{i+1}
    target = np.repeat(dst, 2)[1:-1]
    lo = np.concatenate([[-np.inf], ds * pace / max_squeeze, np.zeros(n - 1)])
    hi = np.concatenate([[np.inf], ds * max_stretch, np.full(n - 1, np.inf)])
    hi = np.maximum(hi, lo + 1e-9)
    fit = lsq_linear(a, target, bounds=(lo, hi), method="bvls").x
    times = a @ fit
    knots = [(times[0], src[0])]
    for i in range(n):
        knots.append((times[2 * i + 1], src[i + 1]))
        if i < n - 1:
            knots.append((times[2 * i + 2], src[i + 1]))  # silence between e_i and o_{i+1}
    kept = [knots[0]]
    for k in knots[1:]:
        if k[0] > kept[-1][0] + _KNOT_TOL:
            kept.append(k)
    return stretch.TimeMap(np.array([k[0] for k in kept]), np.array([k[1] for k in kept]))


def place_untimed(words: Sequence[Word], duration: float, lip_curve: np.ndarray | None, fps: float,
                  natural: Callable[[Sequence[Word]], Sequence[float]]) -> list[Word]:
    """Give words with lost timing a slot: the most lip-active stretch of the gap between timed neighbours.

    A run of consecutive untimed words shares the gap ``[previous timed end, next timed start]`` (0 and
    ``duration`` at the ends). It lasts as long as piper says it (``natural`` gives per-word seconds),
    clipped to the gap, and is slid on a 10 ms grid to where the mouth-opening curve (one value per video
    frame, higher = more open) rises most above its 20th percentile (the closed mouth), summed over the
    slot. Without a curve, or with a still mouth in the gap, the run is centred on its rough transmitted
    position. The words split the slot in proportion to their natural durations. A run with no gap left
    is dropped.
    """
    out = list(words)
    i = 0
    while i < len(out):
        if out[i].timed:
            i += 1
            continue
        j = i
        while j < len(out) and not out[j].timed:
            j += 1
        run = out[i:j]
        lo = out[i - 1].end if i > 0 else 0.0
        hi = out[j].start if j < len(out) else duration
        nat = np.maximum(np.asarray(natural(run), np.float64), 1e-3)
        length = min(float(nat.sum()), hi - lo)
        if length < _MIN_WORD:
            del out[i:j]
            continue
        start = _active_start(lip_curve, fps, lo, hi, length)
        if start is None:
            centre = (run[0].start + run[-1].end) / 2
            start = min(max(centre - length / 2, lo), hi - length)
        edges = start + length * np.concatenate([[0.0], np.cumsum(nat) / nat.sum()])
        out[i:j] = [replace(w, start=float(a), end=float(b), timed=True)
                    for w, a, b in zip(run, edges[:-1], edges[1:], strict=True)]
        i = j
    return out


def _active_start(lip: np.ndarray | None, fps: float, lo: float, hi: float, length: float) -> float | None:
    """Start of the ``length`` s window in ``[lo, hi]`` with the most mouth opening; None if none opens."""
    if lip is None or len(lip) == 0:
        return None
    lip = np.asarray(lip, np.float64)
    activity = np.maximum(lip - np.percentile(lip, 20), 0.0)
    step = 0.01
    grid = np.arange(lo, hi + step / 2, step)
    a = np.interp(grid, (np.arange(len(lip)) + 0.5) / fps, activity, left=0.0, right=0.0)
    width = max(1, round(length / step))
    csum = np.concatenate([[0.0], np.cumsum(a)])
    starts = np.arange(max(1, len(grid) - width + 1))
    score = csum[np.minimum(starts + width, len(grid))] - csum[starts]
    if score.max() <= 0:
        return None
    return float(min(grid[int(np.argmax(score))], hi - length))


def _piper(words: Sequence[Word], length_scale: float):
    """Piper's deterministic speech of the words as one utterance and each word's sample span, or None."""
    from semtalk.generators import tts
    from semtalk.text.phones import phonemize

    syn = tts.synthesize(" ".join(w.text for w in words), length_scale=length_scale, deterministic=True)
    spans = word_spans(syn.phonemes, [phonemize(w.text) for w in words])
    return None if spans is None else (syn, spans)


class SpeechSynthesizer:
    """Regenerate the speech of received words, time-aligned to their transmitted timing (SyncSC §III-D).

    ``adapt`` (voice conversion toward the speaker, e.g. from the KB) gets piper's audio at piper's own
    rate (22 050 Hz) and must return as many samples; it runs before the time warp and prosody, which
    change timing, F0 and level only, so the converted timbre is kept. Piper runs without sampled noise,
    so the output is deterministic.
    """

    def __init__(self, config: SynthConfig | None = None, adapt: Adapt | None = None):
        self.config = config or SynthConfig()
        self.adapt = adapt

    def __call__(self, words: Sequence[Word], duration: float, lip_curve: np.ndarray | None = None,
                 fps: float = 25.0) -> np.ndarray:
        """Float32 mono speech at ``config.rate``, exactly ``round(duration · rate)`` samples, zeros where silent."""
        return self.render(words, duration, lip_curve, fps).audio

    def render(self, words: Sequence[Word], duration: float, lip_curve: np.ndarray | None = None,
               fps: float = 25.0) -> Rendered:
        """The speech (as ``__call__``) with the lip shift applied to it; ``lip_curve`` is the received
        mouth opening, one value per frame at ``fps``, which places untimed words and the lip shift."""
        rate = self.config.rate
        total = max(0, round(duration * rate))
        kept = _untime_empty_groups(_sanitize(words, duration), self.config.max_gap)
        if any(not w.timed for w in kept):
            kept = place_untimed(kept, duration, lip_curve, fps, self._natural)
        pieces = [piece for group in _groups(kept, self.config.max_gap)
                  if (utterance := self._utterance(group)) is not None
                  and (piece := self._render(group, utterance, total)) is not None]
        shift = 0
        if lip_curve is not None and self.config.lip_sync > 0:
            shift = lip_shift(_laid(pieces, total), rate, lip_curve, fps, self.config.lip_sync,
                              self.config.lip_sync_corr)
        track = _laid(pieces, total, shift)
        np.clip(track, -1.0, 1.0, out=track)  # in place: on a long call each whole-track copy is 0.1 GB
        return Rendered(track.astype(np.float32), shift / rate)

    def _natural(self, words: Sequence[Word]) -> list[float]:
        """Piper's own duration of each word (s), spoken as one utterance."""
        utterance = self._utterance(words)
        return [0.0] * len(words) if utterance is None else np.diff(utterance.bounds).tolist()

    def _utterance(self, words: Sequence[Word]) -> Utterance | None:
        """Piper's speech of ``words`` as one utterance (adapted, at the output rate) with each word's span in it.

        When piper's pace is off the transmitted one by more than ``tempo_tolerance`` the group is spoken
        again with piper's own ``length_scale`` (0.5–2), so the PSOLA warp only has small corrections left.
        None when piper says nothing; a word it does not say gets an empty span, so its slot stays silent.
        """
        from semtalk.dsp.signal import resample

        spoken = _piper(words, 1.0)
        if spoken is None:
            return None
        syn, spans = spoken
        tempo = (words[-1].end - words[0].start) * syn.rate / max(spans[-1][1] - spans[0][0], 1)
        if tempo > 0 and abs(math.log(tempo)) > math.log(self.config.tempo_tolerance):
            syn, spans = _piper(words, min(max(tempo, 0.5), 2.0)) or spoken
        audio = syn.audio
        piper_rate = syn.rate
        if self.adapt is not None:
            adapted = np.asarray(self.adapt(audio, piper_rate), np.float32)
            if adapted.shape != audio.shape:
                raise ValueError(f"adapt must keep the audio's length: got {adapted.shape} from {audio.shape}")
            audio = adapted
        audio = resample(audio, piper_rate, self.config.rate)
        sec = [(a / piper_rate, b / piper_rate) for a, b in spans]
        return Utterance(audio, self._bounds(audio, words, sec))

    def _bounds(self, audio: np.ndarray, words: Sequence[Word], sec: Sequence[tuple[float, float]]
                ) -> tuple[float, ...]:
        """Word bounds in piper's speech (``audio`` at the output rate) as the sender's aligner marks them.

        Piper's phoneme spans (``sec``, s), outer edges at the ``onset_db`` crossings, are the aligner's
        starting guess and the fallback for a word it cannot place. Piper leaves only 30-60 ms of near
        silence around an utterance, and pocketsphinx then starts the first word at the first frame, so
        the audio is padded in front with ``_ALIGN_PAD`` s of that near silence (its first 20 ms
        repeated) and, as the sender does (``asr.snap_to_speech``), an onset that ran into it is trimmed
        back to the sound. The group ends at the aligned end but at most ``ALIGN_PAD`` after the
        ``onset_db`` crossing, the sender's own limit (``asr.ALIGN_PAD``): the aligner lets the last phone
        run on into the silence after it (90 ms on "hello"), and that faint, creaky tail spread over the
        end of the slot pulled an isolated "morning" 3 semitones off its F0 target.
        """
        from semtalk.dsp.signal import resample
        from semtalk.semantics.speech.align import RATE, align_words
        from semtalk.semantics.speech.snap import ALIGN_PAD, snap_to_speech

        inner = [(sec[i][1] + sec[i + 1][0]) / 2 for i in range(len(sec) - 1)]
        onset, offset = self._speech_edges(audio, sec[0], sec[-1])
        piper = (onset, *inner, offset)
        rate = self.config.rate
        speech = resample(audio, rate, RATE)
        guess = [Word(w.text, piper[i], piper[i + 1]) for i, w in enumerate(words)]
        edge, pad = round(0.02 * RATE), round(_ALIGN_PAD * RATE)
        padded = np.concatenate([np.resize(speech[:edge], pad), speech]).astype(np.float32)
        got = align_words(padded, guess, -_ALIGN_PAD, self.config.align_max_shift)
        got = snap_to_speech(padded, got, -_ALIGN_PAD, ALIGN_PAD)
        end = min(got[-1].end, offset + ALIGN_PAD, len(audio) / rate)
        bounds = [got[0].start, *((a.end + b.start) / 2 for a, b in pairwise(got)), end]
        return tuple(np.clip(np.maximum.accumulate(bounds), 0.0, end).tolist())

    def _speech_edges(self, audio: np.ndarray, first: tuple[float, float], last: tuple[float, float]
                      ) -> tuple[float, float]:
        """Where the speech really starts and ends: piper's aligned edges moved to the ``onset_db`` crossings.

        Piper's alignment of the first and last phoneme includes some of the silence around them (and
        misses a soft release), so the level, not the alignment, decides the outer edges.
        """
        rate = self.config.rate
        env = _level(audio, rate)
        loud = env > env.max() * 10 ** (self.config.onset_db / 20)
        a, b = round(first[1] * rate), round(last[0] * rate)
        head, tail = np.flatnonzero(loud[:a]), np.flatnonzero(loud[b:])
        onset = head[0] / rate if len(head) else first[0]
        offset = (b + tail[-1] + 1) / rate if len(tail) else last[1]
        return onset, max(offset, onset + _FRAME)

    def _render(self, words: Sequence[Word], utterance: Utterance, total: int) -> tuple[int, np.ndarray] | None:
        """The utterance warped onto its words' slots with their prosody, and its first sample in an
        output of ``total`` samples; None when its slots lie outside it."""
        cfg, rate = self.config, self.config.rate
        tmap = _with_fade_margins(word_time_map(utterance.bounds, words, cfg.max_stretch, cfg.max_squeeze), cfg.fade)
        first = max(0, round(tmap.dst[0] * rate))
        n = min(round(tmap.dst[-1] * rate), total) - first
        if n <= 0:
            return None
        pitch = self._f0_edit(utterance, words) if cfg.prosody else None
        y = stretch.warp(utterance.audio, rate, tmap, first, n, pitch)
        fade = min(round(cfg.fade * rate), n // 2)
        if fade > 0:
            ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
            y[:fade] *= ramp
            y[n - fade:] *= ramp[::-1]
        if cfg.prosody:
            y = self._impose_energy(y, first, words, dst_bounds(words))
        peak = float(np.abs(y).max())
        return first, y * (0.99 / peak if peak > 0.99 else 1.0)  # piper peaks at full scale

    def _f0_edit(self, utterance: Utterance, words: Sequence[Word]) -> stretch.PitchEdit:
        """Scale each word's F0 so its voiced geometric mean (``semantics.speech.prosody``'s measure) is the
        transmitted ``f0``; a scale keeps the contour's shape and its range in semitones.

        Words are found in piper's speech by ``utterance.bounds`` (source time). Words without an F0
        (unvoiced, not sent) take the log-ratio interpolated from their neighbours, and the ratio is
        smoothed over ``prosody_smooth`` so pitch does not jump at word joins.
        """
        lo, hi = self.config.f0_range
        bounds = np.asarray(utterance.bounds)
        rate = self.config.rate
        level = _level(utterance.audio, rate)
        grid = np.arange(0.0, len(utterance.audio) / rate, _FRAME)

        def which(t: np.ndarray) -> np.ndarray:
            return np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, len(words) - 1)

        def edit(times: np.ndarray, f0: np.ndarray) -> np.ndarray:
            at = np.clip(np.round(times * rate).astype(np.int64), 0, len(level) - 1)
            heard = level[at] > level.max() * 10 ** (_HEARD_DB / 20)  # not the faint voiced tails
            heard &= (times >= bounds[0]) & (times < bounds[-1])  # not the fade margins
            own_word = which(times)
            ratios = np.full(len(words), np.nan)
            for i, w in enumerate(words):
                own = heard & (own_word == i)
                if w.f0 is not None and w.f0 > 0 and own.any():
                    logs = np.log(f0[own])
                    typical = logs[np.abs(logs - np.median(logs)) < math.log(2) / 2]  # no creak or octave slips
                    if typical.size:  # else (an even split an octave apart) the word counts as unvoiced
                        ratios[i] = math.log(min(max(w.f0, lo), hi)) - float(typical.mean())
            ratios = _near_median(ratios, self.config.f0_spread * math.log(2) / 12)
            per_frame = _spread(ratios, which(grid), smooth=round(self.config.prosody_smooth / _FRAME))
            if per_frame is None:
                return f0
            return np.clip(f0 * np.exp(np.interp(times, grid, per_frame)), lo, hi)

        return edit

    def _impose_energy(self, y: np.ndarray, first: int, words: Sequence[Word], bounds: np.ndarray) -> np.ndarray:
        """Scale each word so its RMS over ``[start, end]`` is the transmitted ``energy`` (dB re full scale).

        The gain is set per word (neighbours' interpolated where not sent), held over the word's slot and
        smoothed over 15 ms, so level steps do not click.
        """
        rate = self.config.rate
        gains = np.full(len(words), np.nan)
        for i, w in enumerate(words):
            seg = y[max(0, round(w.start * rate) - first):max(0, round(w.end * rate) - first)]
            if w.energy is not None and len(seg):
                level = 10 * math.log10(float(np.mean(seg**2)) + 1e-12)
                gains[i] = np.clip(w.energy - level, -self.config.max_gain_db, self.config.max_gain_db)
        t = (first + np.arange(len(y))) / rate
        which = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, len(words) - 1)
        gains = _near_median(gains, self.config.energy_spread)
        per_sample = _spread(gains, which, smooth=round(self.config.prosody_smooth * rate))
        return y if per_sample is None else y * 10 ** (per_sample / 20)


def _laid(pieces: Sequence[tuple[int, np.ndarray]], total: int, shift: int = 0) -> np.ndarray:
    """The rendered groups added into ``total`` samples of silence, each moved by ``shift`` samples but
    kept inside (a group at the very start or end moves less rather than lose speech)."""
    out = np.zeros(total, np.float64)
    for first, y in pieces:
        at = min(max(first + shift, 0), total - len(y))
        out[at:at + len(y)] += y
    return out


def lip_shift(audio: np.ndarray, rate: int, lip: np.ndarray, fps: float, most: float, min_corr: float) -> int:
    """Samples to move the whole speech so it lines up with the lips (negative: earlier), at most ``most`` s.

    The transmitted word times place piper's words, but where in a word its loudness (the 1–3 kHz band
    the lips shape) rises is piper's, not the speaker's: on GRID lbbc2a the output's words sat within
    10 ms of the original's (by the sender's aligner), yet its audio lagged the mouth 20 ms more than the
    original audio did. That bias belongs to the voice, not to one word, so it is searched once over the
    call: the lag between the received mouth opening (``lip``, one value per frame, from the face
    coefficients) and the speech, by the AV-offset measure (``metrics.audio.av_sync``) within ±2 ``most``.
    A peak under ``min_corr``, on the search edge, or a still mouth moves nothing: per group of words
    (≤ 2 s on LRS2) the same search scattered ±80 ms at peaks up to 0.7, so one lag per call it is.
    """
    from semtalk.dsp.sync import av_sync

    lip = np.asarray(lip, np.float64)
    if len(lip) < 3 or np.ptp(lip) <= 0 or not np.any(audio):
        return 0
    found = av_sync(lip, fps, audio, rate, 2000 * most)
    if found.at_edge or found.peak < min_corr:
        return 0
    return -round(min(max(found.lag_ms / 1000, -most), most) * rate)


def _with_fade_margins(tmap: stretch.TimeMap, margin: float) -> stretch.TimeMap:
    """``tmap`` extended by ``margin`` s at both ends at the source's own pace, so the edge fades fall on
    piper's near-silence around the speech instead of on the first and last word. The head is shorter
    when the source starts sooner: a 5 ms margin onto the 4e-17 s of source before a first word aligned
    at 0 asked PSOLA for a rate of 1e14, and Praat never returned."""
    head = min(margin, float(tmap.src[0]))
    dst = np.concatenate([[tmap.dst[0] - head], tmap.dst, [tmap.dst[-1] + margin]])
    src = np.concatenate([[tmap.src[0] - head], tmap.src, [tmap.src[-1] + margin]])
    if head <= _KNOT_TOL:
        dst, src = dst[1:], src[1:]
    return stretch.TimeMap(dst, src)


def _level(audio: np.ndarray, rate: int) -> np.ndarray:
    """RMS of ``audio`` over ``_FRAME`` around each sample."""
    win = max(1, round(_FRAME * rate))
    return np.sqrt(np.convolve(np.square(audio), np.ones(win) / win, mode="same"))


def _near_median(values: np.ndarray, spread: float) -> np.ndarray:
    """Per-word corrections (NaN = unknown) clipped to ``median ± spread``: a word's own F0 or level is
    measured on ~0.2 s and an octave slip, creak or a breath moves it far from its neighbours'."""
    known = values[~np.isnan(values)]
    if not len(known):
        return values
    mid = float(np.median(known))
    return np.clip(values, mid - spread, mid + spread)


def _spread(values: np.ndarray, which: np.ndarray, smooth: int) -> np.ndarray | None:
    """Per-word values (NaN = unknown, filled from neighbours) laid out by ``which`` and moving-averaged."""
    known = ~np.isnan(values)
    if not known.any():
        return None
    idx = np.arange(len(values))
    filled = np.interp(idx, idx[known], values[known])
    x = filled[which]
    if smooth > 1 and len(x) > 1:
        pad = np.pad(x, (smooth // 2, smooth - 1 - smooth // 2), mode="edge")
        x = np.convolve(pad, np.ones(smooth) / smooth, mode="valid")
    return x


def _sanitize(words: Sequence[Word], duration: float) -> list[Word]:
    """Speakable words in order: clean text, timed ones clipped to ``[0, duration]`` and made not to overlap.

    A timed word with an empty slot is kept (Whisper gives short words like "i" zero length): the time
    map lets it borrow time from its neighbours (a lone one: :func:`_untime_empty_groups`). Only one
    that starts at the very end is dropped.
    """
    out: list[Word] = []
    prev_end = 0.0
    for w in words:
        text = clean_text(w.text)
        if not text:
            continue
        if not w.timed:
            out.append(replace(w, text=text))
            continue
        start = min(max(w.start, prev_end, 0.0), duration)
        end = min(max(w.end, start), duration)
        if start < duration:
            out.append(replace(w, text=text, start=start, end=end))
            prev_end = end
    return out


def _untime_empty_groups(words: list[Word], max_gap: float) -> list[Word]:
    """Timed words whose whole group spans less than ``_MIN_WORD`` marked untimed: a lone zero-length word
    (Whisper gives "i" or "y" no duration) has no slot to be stretched onto, and its time map had no
    knots left (a ValueError that ended the call). Untimed, it gets piper's length in its gap, by the
    lips or around where it was sent (:func:`place_untimed`)."""
    timed = [i for i, w in enumerate(words) if w.timed]
    sub = [words[i] for i in timed]
    empty = {timed[k] for run in _runs(sub, max_gap) if sub[run[-1]].end - sub[run[0]].start < _MIN_WORD
             for k in run}
    return [replace(w, timed=False) if i in empty else w for i, w in enumerate(words)]


def _groups(words: Sequence[Word], max_gap: float) -> list[list[Word]]:
    """Consecutive words split wherever the silence between two exceeds ``max_gap``."""
    return [list(words[run.start:run.stop]) for run in _runs(words, max_gap)]


def _runs(words: Sequence[Word], max_gap: float) -> list[range]:
    """Index ranges of :func:`_groups`."""
    cuts = [i for i in range(1, len(words)) if words[i].start - words[i - 1].end > max_gap]
    return [range(a, b) for a, b in pairwise([0, *cuts, len(words)]) if b > a]
