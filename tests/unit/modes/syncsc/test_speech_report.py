"""The speech report hears the output with the sender's own recognizer, domain prompt included."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from semtalk.records import Word

RATE = 16000


def _outcome(prompt: str | None, lip_shift: float = 0.0):
    from semtalk.modes.syncsc.speech import SpeechOutcome

    sent = [Word("set", 0.5, 0.8), Word("white", 0.8, 1.1)]
    audio = (0.3 * np.sin(np.arange(2 * RATE) / 9)).astype(np.float32)
    return SpeechOutcome(sent=sent, received=sent, audio=audio, bits={"text": 10, "timing": 4, "prosody": 2},
                         packets={}, asr_prompt=prompt, lip_shift=lip_shift)


def test_re_asr_uses_the_senders_prompt_and_reports_the_plain_recognizer_beside_it(monkeypatch):
    from semtalk.dsp import sync
    from semtalk.metrics import audio as am
    from semtalk.metrics import text as tm
    from semtalk.modes.syncsc.speech_report import speech_report
    from semtalk.semantics.speech import asr

    prompts = []

    class FakeWhisper:
        def transcribe(self, audio, **kwargs):
            prompts.append(kwargs.get("initial_prompt"))
            text = "set white" if kwargs.get("initial_prompt") else "is that white"
            words = [SimpleNamespace(word=f" {w}", start=0.5 + 0.2 * i, end=0.65 + 0.2 * i)
                     for i, w in enumerate(text.split())]
            return iter([SimpleNamespace(words=words, compression_ratio=1.0)]), None

    monkeypatch.setattr(asr, "_whisper", lambda threads: FakeWhisper())
    monkeypatch.setattr(tm, "semantic_similarity", lambda a, b: 1.0)
    for name in ("speaker_similarity", "mcd_db", "pesq_wb", "stoi"):
        monkeypatch.setattr(am, name, lambda *args: 0.0)
    monkeypatch.setattr(sync, "av_offset_ms", lambda *args: 0.0)
    kwargs = dict(transcript=None, voice_seconds=0.0, mouth_out=np.zeros(50), mouth_original=np.zeros(50), fps=25.0,
                  adapted=False)
    original = _outcome(None).audio
    s = speech_report(_outcome("Bin blue at f two now.", lip_shift=-0.03), original, 2.0, **kwargs)
    assert prompts == ["Bin blue at f two now.", None, "Bin blue at f two now."]  # output, plain, original
    assert s["resynth_wer"] == 0.0 and s["resynth_wer_plain"] == 1.0  # "is that white": 1 sub + 1 ins over 2
    assert s["resynth_wer_original"] == 0.0  # the same prompted listener on the input speech
    assert s["lip_shift_ms"] == -30.0  # the receiver moved its speech 30 ms earlier to meet the lips
    prompts.clear()
    s = speech_report(_outcome(None), np.zeros(2 * RATE, np.float32), 2.0, **kwargs)
    assert prompts == [None] and s["resynth_wer"] == s["resynth_wer_plain"] == 1.0
    assert s["resynth_wer_original"] == 1.0  # a silent original: nothing heard
