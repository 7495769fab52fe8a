"""Audio quality, speaker identity and audio-video sync of regenerated speech: numpy in, float out.

SyncSC regenerates the caller's speech from words and timing, so the received waveform is never
sample-aligned with the sent one. PESQ and STOI (which align or assume alignment over short
windows) are reported for completeness; mel-cepstral distortion with DTW and speaker similarity
are the measures that tolerate re-timing, and ``av_offset_ms`` checks the regenerated audio still
lines up with the mouth. Every function resamples internally to the rate its measure is defined at.
"""

from __future__ import annotations

import math

import numpy as np

from semtalk.dsp.dtw import dtw_path
from semtalk.dsp.signal import bandwidth_hz, resample, windows
from semtalk.dsp.speaker import MIN_SPEECH_S, embed_speech, voice_activity
from semtalk.dsp.world import ANALYSIS_RATE, FRAME_MS, band_mel_cepstrum, envelopes, mel_cepstrum, speech_frames
from semtalk.errors import MissingDependencyError

PESQ_RATE = 16000  # ITU-T P.862.2 wide-band is defined at 16 kHz
MCD_ORDER = 24  # c1..c24; c0 (energy) is excluded as is standard
_MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)
PESQ_WINDOW_S = 20.0  # the longest signal P.862 is specified for; longer pairs are scored window by window
STOI_WINDOW_S = 30.0  # a long pair's STOI is the length-weighted mean over windows this long
MCD_WINDOW_S = 30.0  # a long call's MCD is aligned and averaged over windows this long
MCD_BAND_S = 2.0  # DTW may drift this far from the scaled diagonal: more than speech re-timing needs
MCD_GUARD = 0.95  # the common band ends this far into the narrower bandwidth, short of its transition band


def _trim_pair(ref: np.ndarray, deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(ref.size, deg.size)
    return ref[:n], deg[:n]


def or_none(fn, *args):
    """A metric's value, or None where the signal cannot support it (the reason is a ValueError): PESQ of a
    silent output, a speaker embedding of no speech. Tables then show a gap, not a made-up score."""
    try:
        value = fn(*args)
    except ValueError:
        return None
    return None if value is None or not math.isfinite(value) else value


def pesq_wb(ref: np.ndarray, deg: np.ndarray, rate: int) -> float:
    """Wide-band PESQ MOS-LQO (P.862.2), about 1.0 (bad) to 4.64 (identical).

    Both signals are resampled to 16 kHz and cut to the shorter one. P.862 is specified for 8–20 s of speech, and
    the reference code behind ``pesq`` fails to allocate on long signals (a 10-min call printed "malloc failed!"
    and crashed the process), so a longer pair is scored in consecutive ``PESQ_WINDOW_S`` windows and the scores
    averaged, each weighted by its length; a window PESQ cannot score (no speech in it) is left out. Raises
    ``ValueError`` when PESQ cannot score the pair (under 0.25 s, no speech found in the reference, a silent
    output) — a benchmark should record that as missing rather than as a made-up score.
    """
    try:
        from pesq import PesqError, pesq
    except ImportError as exc:
        raise MissingDependencyError("pesq", "PESQ scores") from exc
    r, d = _trim_pair(resample(ref, rate, PESQ_RATE), resample(deg, rate, PESQ_RATE))
    if r.size < PESQ_RATE // 4:
        raise ValueError(f"PESQ needs at least 0.25 s of audio, got {r.size / PESQ_RATE:.3f} s")
    if not np.any(d):
        raise ValueError("PESQ cannot score a silent output")
    scores, weights, failure = [], [], None
    for a, b in windows(r.size, round(PESQ_WINDOW_S * PESQ_RATE)):
        if b - a < PESQ_RATE // 4 or not np.any(d[a:b]):
            continue
        try:
            scores.append(float(pesq(PESQ_RATE, r[a:b], d[a:b], "wb")))
            weights.append(b - a)
        except PesqError as exc:
            failure = exc
    if not scores:
        raise ValueError(f"PESQ cannot score this pair: {type(failure).__name__}")
    return float(np.average(scores, weights=weights))


def stoi(ref: np.ndarray, deg: np.ndarray, rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), 0..1; signals cut to the shorter.

    STOI is the mean of short-segment correlations, so a long pair is scored in ``STOI_WINDOW_S`` windows and the
    windows' scores averaged by length: pystoi holds the whole signal's spectrogram and segment matrices (1.4 GB
    for 10 min). A window too silent to score is left out.
    """
    try:
        from pystoi import stoi as _stoi
    except ImportError as exc:
        raise MissingDependencyError("pystoi", "STOI scores") from exc
    r, d = _trim_pair(np.asarray(ref, np.float64), np.asarray(deg, np.float64))
    scores, weights = [], []
    for a, b in windows(r.size, round(STOI_WINDOW_S * rate)):
        with np.errstate(all="ignore"):
            value = float(_stoi(r[a:b], d[a:b], rate, extended=False))
        if math.isfinite(value):
            scores.append(value)
            weights.append(b - a)
    if not scores:
        raise ValueError("STOI cannot score this pair (no speech frames)")
    return float(np.average(scores, weights=weights))


def mcd_db(ref: np.ndarray, deg: np.ndarray, rate: int) -> float:
    """Mel-cepstral distortion in dB over DTW-aligned speech frames, on the band both signals carry.

    ``MCD = 10/ln10 · sqrt(2 · Σ_{d=1..24} (c_d − ĉ_d)²)`` (Kubichek 1993) averaged over the aligned pairs, on
    all-pass-warped mel-cepstra of WORLD envelopes (``semtalk.dsp.world``), c0 excluded. The cepstra cover the
    **common band**: 0 Hz to ``MCD_GUARD`` × the narrower of the two effective bandwidths
    (``semtalk.dsp.signal.bandwidth_hz``), the guard keeping the cut's transition band out. Otherwise a
    band-limited copy scores the log of its empty stop band: on four real clips a 4 kHz low-pass of the input
    scored 15–17 dB and Opus 8 / AAC 16 kbps 11–17 dB, worse than another speaker's voice (4.8–5.6 dB); on the
    common band 0.1–0.3, 1.6–2.5 and 4.6–5.6 dB. Scores measured on different bands are not on one scale (a
    full-band codec is judged on more of the spectrum), and losing band is not itself penalised. Silent frames
    of each signal are dropped before alignment so pauses do not dilute the score. The alignment is banded
    (``MCD_BAND_S``) and, on a call longer than two ``MCD_WINDOW_S``, done window by window on the common
    timeline (the regenerated speech keeps the original's timing), so memory stays that of one window: a 10-min
    call's whole banded alignment held 2.3 GB. Raises ``ValueError`` when either signal is silent.
    """
    x, y = resample(ref, rate, ANALYSIS_RATE), resample(deg, rate, ANALYSIS_RATE)
    band = MCD_GUARD * min(bandwidth_hz(x, ANALYSIS_RATE), bandwidth_hz(y, ANALYSIS_RATE))
    (ca, sa), (cb, sb) = (_cepstra(s, band) for s in (x, y))
    distances = []
    for lo, hi in windows(max(len(ca), len(cb)), round(1000 * MCD_WINDOW_S / FRAME_MS)):
        a, b = ca[lo:hi][sa[lo:hi]], cb[lo:hi][sb[lo:hi]]
        if len(a) and len(b):
            i, j = dtw_path(a, b, band=round(1000 * MCD_BAND_S / FRAME_MS))
            distances.append(_MCD_SCALE * np.sqrt(((a[i] - b[j]) ** 2).sum(1)))
    if not distances:
        raise ValueError("MCD needs speech in both signals")
    return float(np.mean(np.concatenate(distances)))


def _cepstra(audio: np.ndarray, band_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """c1..c24 over 0..``band_hz`` of every frame and which frames hold speech (judged on the full-band energy
    c0 over the whole signal), from WORLD envelopes analysed a chunk at a time (``dsp.world.envelopes``)."""
    # copies, not views: a view keeps each chunk's whole cepstrum array (every quefrency) alive, 0.8 GB for 4 min
    parts = [(band_mel_cepstrum(sp, band_hz)[:, 1:MCD_ORDER + 1].copy(), mel_cepstrum(sp)[:, :1].copy())
             for sp in envelopes(audio, ANALYSIS_RATE)]
    cepstra, energy = (np.concatenate(p) for p in zip(*parts, strict=True))
    return cepstra, speech_frames(energy)


def speaker_similarity(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Cosine similarity of resemblyzer d-vectors (same encoder as the KB voice profile), -1..1.

    Undefined (``ValueError``) when the encoder's own VAD (``semtalk.dsp.speaker.voice_activity``) finds under
    ``MIN_SPEECH_S`` of speech in either signal: the embedding of silence is one fixed vector, so silence against
    silence would score 1.0.
    """
    speech = [voice_activity(x, rate) for x in (a, b)]
    for name, s in zip(("reference", "output"), speech, strict=True):
        if s.size < MIN_SPEECH_S * ANALYSIS_RATE:
            raise ValueError(f"speaker similarity needs speech: the {name} has {s.size / ANALYSIS_RATE:.2f} s")
    return float(np.dot(embed_speech(speech[0]), embed_speech(speech[1])))
