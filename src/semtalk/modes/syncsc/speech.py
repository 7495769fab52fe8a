"""SyncSC's speech half (§III-C, §III-D), one stream of the call: the sender's and the receiver's ends.

    sender:   audio → ASR words + timing (+ prosody) → interleave → Huffman → RTP → packet FEC
    receiver: packet FEC → de-interleave → TextPC concealment → TTS aligned to the word timing and the
              received lip motion (+ voice conversion from the KB) → audio of exactly the call's length

The words are their own RTP session (own SSRC and FEC blocks) on the call's link. PacSC codes face
coefficients only, so the words keep the packet FEC the face code names (``packet_code``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from semtalk.fec.base import StreamCode
from semtalk.records import Word

RATE = 16000  # the speech path's sample rate: what ASR, PESQ-WB and STOI expect
MAX_WORDS_PER_S = 8.0  # twice a fast talker's rate (auctioneers reach ~6): no call holds more word slots than this


@dataclass
class SpeechOutcome:
    """What one call's speech path sent, received and produced (inputs to the report)."""

    sent: list[Word]
    received: list[Word]  # after concealment; ``concealed`` marks predicted words
    audio: np.ndarray  # the receiver's speech, RATE, the input's exact length
    bits: dict[str, int]  # text / timing / prosody payload bits
    packets: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)  # compute time per stage
    alternate: np.ndarray | None = None  # the same words with the other voice choice (adapted ↔ plain)
    asr_prompt: str | None = None  # the domain sentences the sender's ASR was prompted with (KB domain LM)
    lip_shift: float = 0.0  # s the receiver moved its speech to meet the received lips (negative: earlier)


@dataclass(frozen=True)
class SpeechConfig:
    """The text stream's settings; ``seed`` draws its interleaving (both ends know it)."""

    window: int = 12
    fec_k: int = 4  # words are interleaved across blocks of this many packets
    prosody: bool = True
    voice_adapt: bool = False
    seed: int = 0


def _predictor(language: bytes | None):
    """TextPC's language model, with the KB's domain LM mixed in when it has one."""
    from semtalk.kb.language import DomainLM
    from semtalk.text.lm import NGramPredictor

    domain = DomainLM.parse(language) if language is not None else None
    return NGramPredictor(domain=domain), domain


def _text_format(config: SpeechConfig, kb_tag: int):
    from semtalk.streams.text import TextStreamFormat

    return TextStreamFormat(window=config.window, fec_k=config.fec_k, prosody=config.prosody, kb_tag=kb_tag,
                            seed=config.seed)


class SpeechSender:
    """Recognises the words of the call's audio and sends them, each when it has been said.

    ``language``: the KB's domain LM (``kb.language``), which prompts the ASR with domain sentences and
    corrects what it heard (``semantics.speech.correct``).
    """

    def __init__(self, config: SpeechConfig, code: StreamCode, kb_tag: int, language: bytes | None):
        from semtalk.streams.text import TextPacketizer

        self.config = config
        self.language = language
        self.stream = code.packet_code().sender(TextPacketizer(_text_format(config, kb_tag)))
        self.words: list[Word] = []
        self.asr_prompt: str | None = None
        self.seconds: dict[str, float] = {}

    def send(self, audio: np.ndarray, duration: float) -> list[tuple[list[bytes], float]]:
        """Recognise the words of ``audio`` and send them (``send_words``)."""
        return self.send_words(self.recognise(audio), duration)

    def recognise(self, audio: np.ndarray) -> list[Word]:
        from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer
        from semtalk.semantics.speech.correct import DomainCorrector
        from semtalk.semantics.speech.prosody import measure_prosody

        t = time.perf_counter()
        predictor, domain = _predictor(self.language)
        asr_config = AsrConfig(prompt=domain.prompt() if domain is not None else None)
        correct = DomainCorrector(predictor, domain.vocab) if domain is not None else None
        words = list(SpeechRecognizer(asr_config, correct)(_chunks(audio), RATE))
        self.seconds["asr"] = time.perf_counter() - t
        if self.config.prosody:
            t = time.perf_counter()
            words = measure_prosody(audio, RATE, words)
            self.seconds["prosody"] = time.perf_counter() - t
        self.asr_prompt = asr_config.prompt
        return words

    def send_words(self, words: list[Word], duration: float) -> list[tuple[list[bytes], float]]:
        """Batches of datagrams and their send times: a word goes when it ends, the rest at ``duration``."""
        self.words = list(words)
        out = [(self.stream.push(w), w.end) for w in words]
        return [*out, (self.stream.flush(), duration)]

    @property
    def bits(self) -> dict[str, int]:
        p = self.stream.packetizer
        return {"text": p.text_bits, "timing": p.timing_bits, "prosody": p.prosody_bits}


class SpeechReceiver:
    """Collects the words that arrive, conceals the lost ones and speaks them in sync with the lips.

    Everything it decides comes from received packets and the KB: the number of word slots is what the
    packets tell (``TextDepacketizer.n_slots``), never the sender's count.
    """

    def __init__(self, config: SpeechConfig, code: StreamCode, kb_tag: int, language: bytes | None,
                 voice_profile=None):
        from semtalk.streams.text import TextDepacketizer

        self.config = config
        self.language = language
        self.depacketizer = TextDepacketizer(_text_format(config, kb_tag))
        self.stream = code.packet_code().receiver(self.depacketizer)
        self.voice_profile = voice_profile
        self.slots: dict[int, Word] = {}
        self.seconds: dict[str, float] = {}

    def receive(self, datagram: bytes) -> None:
        for slot, word in self.stream.push(datagram):
            self.slots[slot] = word

    def words(self, concealer=None, duration: float | None = None) -> list[Word]:
        """The received words in order; lost slots dropped, or filled by ``concealer`` (TextPC). The slots are
        those the received packets tell of (each carries its window's word count), and with the call's
        ``duration`` no more than anyone can say in it: a forged pair of packets that confirms a jump after the
        stream's last packet claims thousands of slots, and no honest packet comes after it to set the count back
        (``streams.text``), so the receiver's own clock bounds what TextPC is asked to fill."""
        n = self.depacketizer.n_slots
        if duration is not None:
            n = min(n, math.ceil(MAX_WORDS_PER_S * duration) + self.depacketizer.fmt.window)
        slots = [self.slots.get(i) for i in range(n)]
        return concealer.fill(slots) if concealer is not None else [w for w in slots if w is not None]

    def speak(self, duration: float, lip_curve: np.ndarray, fps: float
              ) -> tuple[list[Word], np.ndarray, np.ndarray | None, float]:
        """Received words (lost ones predicted), the speech, the same words in the other voice (for the
        report: adapted ↔ plain; None without a voice profile) and the lip shift applied (s)."""
        from semtalk.generators.speech import SpeechSynthesizer, SynthConfig
        from semtalk.generators.voice import voice_adapter
        from semtalk.text.concealment import TextConcealer

        t = time.perf_counter()
        received = self.words(TextConcealer(_predictor(self.language)[0]), duration)
        self.seconds["conceal"] = time.perf_counter() - t

        adapter = voice_adapter(self.voice_profile) if self.voice_profile is not None else None
        adapt = adapter if self.config.voice_adapt else None
        t = time.perf_counter()
        synth_config = SynthConfig(rate=RATE, prosody=self.config.prosody)
        rendered = SpeechSynthesizer(synth_config, adapt=adapt).render(received, duration, lip_curve, fps)
        self.seconds["synthesis"] = time.perf_counter() - t
        other = None
        if adapter is not None:  # the same words with the other voice choice, to measure what adaptation buys
            other = SpeechSynthesizer(synth_config, adapt=None if adapt else adapter)(received, duration,
                                                                                       lip_curve, fps)
        return received, rendered.audio, other, rendered.lip_shift


def _chunks(audio: np.ndarray, seconds: float = 5.0):
    step = int(seconds * RATE)
    for i in range(0, len(audio), step):
        yield audio[i:i + step]
