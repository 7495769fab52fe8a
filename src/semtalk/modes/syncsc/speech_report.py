"""The ``speech`` section of ``report.json``: rates, text fidelity, audio quality, identity, sync, speed.

Audio measures compare the receiver's speech with the original input; speaker similarity uses only
audio after the voice-enrollment segment when at least 1.5 s of it remains, so the KB never scores
on the speech it was built from (``speaker_heldout`` says which was used).
"""

from __future__ import annotations

import time

import numpy as np

from semtalk.memory import release
from semtalk.modes.syncsc.speech import RATE, SpeechOutcome
from semtalk.records import Word, rounded

MIN_HELDOUT = 1.5  # seconds of held-out speech needed for a meaningful speaker embedding


def text_of(words: list[Word]) -> str:
    return " ".join(w.text for w in words)


def speech_report(outcome: SpeechOutcome, original: np.ndarray, duration: float, *, transcript: str | None,
                  voice_seconds: float, mouth_out: np.ndarray,
                  mouth_original: np.ndarray, fps: float, adapted: bool, score: bool = True) -> dict:
    """All ``speech.*`` keys; metrics a signal cannot support (e.g. PESQ on silence) are null, not errors.

    ``score`` False (``--no-metrics``) keeps what was sent and received — counts, rates, text against text — and
    leaves every listening score (re-ASR, MCD, PESQ, STOI, speaker similarity, AV offset) null: those cost more
    than the call itself on a long input.
    """
    from semtalk.metrics import text as tm

    sent, received = text_of(outcome.sent), text_of(outcome.received)
    seconds = max(duration, 1e-9)
    report = {
        "mode": "semantic",
        "scored": score,
        "words_sent": len(outcome.sent),
        "words_received": sum(not w.concealed for w in outcome.received),
        "concealed_words": sum(w.concealed for w in outcome.received),
        "concealed": [i for i, w in enumerate(outcome.received) if w.concealed],
        "sent_text": sent,
        "sent_words": [[w.text, round(w.start, 3), round(w.end, 3)] for w in outcome.sent],
        "received_text": received,
        "text_bps": round(outcome.bits["text"] / seconds, 2),
        "timing_bps": round(outcome.bits["timing"] / seconds, 2),
        "prosody_bps": round(outcome.bits["prosody"] / seconds, 2),
        "packets": outcome.packets,
        "asr_wer": None if transcript is None else round(tm.wer(transcript, sent), 4),
        "received_wer": round(tm.wer(sent, received), 4),
        "bleu": round(tm.bleu(sent, received), 4),
        "voice_adapted": adapted,
        "lip_shift_ms": round(1000 * outcome.lip_shift, 1),
        "rtf": {k: round(v / seconds, 3) for k, v in outcome.seconds.items()},
    }
    if score:
        scores = _scores(outcome, original, duration, voice_seconds, mouth_out, mouth_original, fps, adapted)
        report["rtf"].update(scores.pop("rtf"))
    else:
        scores = dict.fromkeys(SCORE_KEYS)
    return {**report, **scores}


SCORE_KEYS = ("semantic_similarity", "resynth_wer", "resynth_text", "resynth_wer_plain", "resynth_wer_original",
              "mcd_db", "pesq_wb", "stoi", "speaker_similarity", "speaker_similarity_adapted",
              "speaker_similarity_unadapted", "resynth_wer_adapted", "resynth_wer_unadapted", "speaker_heldout",
              "av_offset_ms", "av_offset_ms_original")


def _scores(outcome: SpeechOutcome, original: np.ndarray, duration: float, voice_seconds: float,
            mouth_out: np.ndarray, mouth_original: np.ndarray, fps: float, adapted: bool) -> dict:
    """The listening scores (``SCORE_KEYS``) and the re-ASR's real-time factor."""
    from semtalk.dsp.sync import av_offset_ms
    from semtalk.metrics import audio as am
    from semtalk.metrics import text as tm
    from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer

    sent, received = text_of(outcome.sent), text_of(outcome.received)
    # The output is heard by the sender's own recognizer: prompted with the KB's domain sentences when the
    # KB has a domain LM, as a GRID listening test hands listeners the grammar. Only words are scored, so
    # no timing refinement. ``resynth_wer_plain`` is the same without the prompt; ``resynth_wer_original``
    # is this listener on the input speech, its own floor (Whisper tiny hears GRID's "bin" as "been" too).
    recognizer = SpeechRecognizer(AsrConfig(align=False, prompt=outcome.asr_prompt))
    plain = recognizer if outcome.asr_prompt is None else SpeechRecognizer(AsrConfig(align=False))
    t = time.perf_counter()
    heard = recognizer.transcribe(outcome.audio, RATE)
    resynth_seconds = time.perf_counter() - t
    start = int(voice_seconds * RATE) if duration - voice_seconds >= MIN_HELDOUT else 0
    has_speech = bool(outcome.sent)

    def similarity(audio: np.ndarray | None) -> float | None:
        if audio is None or not has_speech:
            return None
        return am.or_none(am.speaker_similarity, original[start:], audio[start:], RATE)

    def resynth_wer(audio: np.ndarray | None) -> float | None:
        if audio is None or not has_speech:
            return None
        return round(tm.wer(sent, text_of(recognizer.transcribe(audio, RATE))), 4)

    # The same words spoken with and without voice conversion: what adaptation buys and costs.
    main_wer = round(tm.wer(sent, text_of(heard)), 4) if has_speech else None
    plain_wer = main_wer if plain is recognizer or not has_speech else round(
        tm.wer(sent, text_of(plain.transcribe(outcome.audio, RATE))), 4)
    other_wer = resynth_wer(outcome.alternate)
    original_wer = resynth_wer(original)

    def measured(metric, *args, digits: int = 3) -> float | None:
        """One signal measure, then its freed buffers handed back (``semtalk.memory``): on a long call each
        measure's temporaries are hundreds of MB, and the next must not start on top of them."""
        if not has_speech:
            return None
        value = rounded(am.or_none(metric, *args), digits)
        release()
        return value

    release()  # the recognisers' buffers are freed: the signal measures below start from what is live
    # The signal measures run before the speaker and sentence encoders are loaded (0.35 GB together): on a long
    # call their temporaries are the peak, and they need none of those models.
    signal = {
        "mcd_db": measured(am.mcd_db, original, outcome.audio, RATE),
        "pesq_wb": measured(am.pesq_wb, original, outcome.audio, RATE),
        "stoi": measured(am.stoi, original, outcome.audio, RATE),
        "av_offset_ms": measured(av_offset_ms, mouth_out, fps, outcome.audio, RATE, digits=1),
        "av_offset_ms_original": measured(av_offset_ms, mouth_original, fps, original, RATE, digits=1),
    }
    main_sim, other_sim = rounded(similarity(outcome.audio)), rounded(similarity(outcome.alternate))
    return {
        "semantic_similarity": round(tm.semantic_similarity(sent, received), 4),
        "resynth_wer": main_wer,
        "resynth_text": text_of(heard),
        "resynth_wer_plain": plain_wer,
        "resynth_wer_original": original_wer,
        "speaker_similarity": main_sim,
        "speaker_similarity_adapted": main_sim if adapted else other_sim,
        "speaker_similarity_unadapted": other_sim if adapted else main_sim,
        "resynth_wer_adapted": main_wer if adapted else other_wer,
        "resynth_wer_unadapted": other_wer if adapted else main_wer,
        "speaker_heldout": start > 0,
        **signal,
        "rtf": {"resynth_asr": round(resynth_seconds / max(duration, 1e-9), 3)},
    }
