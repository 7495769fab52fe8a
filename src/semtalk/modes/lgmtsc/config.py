"""LGM-TSC's settings, apart from its ends so the CLI can read the defaults without importing numpy."""

from __future__ import annotations

from dataclasses import dataclass

LENGTH_CHOICES = ("auto", "full", "medium", "short")
MAX_SENTENCE_S = 8.0  # a sentence is closed after this long even without a pause
PAUSE_S = 0.5  # a pause this long between words ends a sentence
ASR_WINDOW_S = 10.0  # the recogniser's window (``semantics.speech.asr.AsrConfig.chunk_seconds``)


@dataclass(frozen=True)
class LgmtscConfig:
    """Both ends' settings.

    ``lm``: the language-model knowledge base (registry kind ``lm``; ``none``: no LM, so no shortening and no
    correction); ``text_coder``: ``learned`` (the text JSCC's analog symbols) or a digital code over the radio;
    ``length_class``: ``auto`` lets the ANFIS controller choose from ``snr`` (the channel SNR the sender reads);
    ``symbol_budget``: a shortened sentence repeats its symbols to fill the full sentence's slot (the energy the
    full text would have had), so shortening buys robustness at low SNR; ``lm_correct``: the receiver's KB
    correction of what the decoder was unsure of.
    """

    lm: str = "ngram"
    lm_endpoint: str | None = None
    lm_model: str | None = None
    lm_correct: bool = True
    text_coder: str = "learned"
    length_class: str = "auto"
    symbol_budget: bool = True
    snr: float = 10.0
    adapt_voice: bool = True  # speak in the KB voice profile's timbre (WORLD conversion of piper)
    seed: int = 0
    playout_margin: float = 0.0

    @property
    def latency(self) -> float:
        """The receiver's play-out delay (s): a sentence is sent once it is recognised and closed, which is at most
        its longest length, the closing pause and one recogniser window after it began; plus the lips' look-ahead
        (0.4 s), the head nod's context (0.36 s) and a frame on each side."""
        return MAX_SENTENCE_S + PAUSE_S + ASR_WINDOW_S + 0.4 + 0.36 + 2 / 25 + self.playout_margin
