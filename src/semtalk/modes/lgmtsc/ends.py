"""The two ends of the LGM-TSC mode (seed paper 3): text only, and a talking head rebuilt from one portrait.

    sender:   audio → ASR (the KB's domain text as hot words) → sentences → the LM knowledge base shortens each to
              the length class the ANFIS controller picks from the channel SNR (eqs. 12–17) → the learned text
              coder's analog symbols (repeated to fill the full sentence's slot), or a digital code over LDPC + QAM
              (stream 0, one sentence a packet)
    receiver: symbols → tokens with their alternatives → the LM knowledge base corrects the uncertain words →
              TTS (piper, moved to the KB voice profile's timbre) placed at the sentence's time → lip track →
              talking head from the KB's one portrait (``generators.talking_head``)

Video frames are not sent: the sender only crops them (the originals the output is scored against). A sentence
goes once it is recognised and closed by a pause, so the receiver plays ``LgmtscConfig.latency`` behind; memory is
bounded by that delay (the speech of the whole call, 64 kB a second, is what ``finish`` returns).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from semtalk import registry
from semtalk.generators.tts import sentence_audio
from semtalk.kb.knowledge_base import KnowledgeBase, kb_tag
from semtalk.modes.base import Captured, Outgoing, Played, Speech
from semtalk.modes.lgmtsc.config import MAX_SENTENCE_S, PAUSE_S, LgmtscConfig
from semtalk.records import StageTimer, Word
from semtalk.semantics.face.mesh import mouth_opening
from semtalk.streams.sentence import (
    Sentence,
    SentenceDepacketizer,
    SentencePacketizer,
    combine,
    decode_text,
    encode_text,
    repeat,
)

TEXT = 0  # the one stream
FPS = 25.0
RATE = 16_000
MAX_WORDS = 40  # a sentence longer than this is cut (the coder takes ≤ 64 tokens a piece)


def language_kb(config: LgmtscConfig, domain: bytes | None):
    """The LM knowledge base the config names (None for ``--lm none``), holding the KB's private domain LM."""
    if config.lm == "none":
        return None
    options = {"endpoint": config.lm_endpoint, "model": config.lm_model} if config.lm == "openai" else {}
    return registry.get("lm", config.lm)(domain=domain, **options)


def length_class(config: LgmtscConfig) -> str:
    """The class the sender shortens to: forced by the config, or the ANFIS controller's choice at ``snr``;
    without a language model nothing can be shortened."""
    if config.lm == "none":
        return "full"
    if config.length_class != "auto":
        return config.length_class
    from semtalk.learned.anfis.model import load_anfis

    return load_anfis().choose(config.snr)


@dataclass
class SentCounts:
    """What the sender sent, for the report."""

    sentences: int = 0
    words_in: int = 0
    chars_in: int = 0
    chars_out: int = 0
    symbols: int = 0  # channel symbols of the learned coder, repeats included
    symbols_unique: int = 0
    text_bytes: int = 0  # bytes of a digital coder


class SentenceCutter:
    """Words in, sentences out: a sentence ends at a pause of ``PAUSE_S``, after ``MAX_SENTENCE_S`` or
    ``MAX_WORDS``; ``push(words, final_until)`` closes those whose end is final (no later word can join)."""

    def __init__(self) -> None:
        self._words: list[Word] = []

    def push(self, words: list[Word], final_until: float) -> list[list[Word]]:
        out = []
        for w in words:
            if self._words and (w.start - self._words[-1].end >= PAUSE_S or w.end - self._words[0].start
                                > MAX_SENTENCE_S or len(self._words) >= MAX_WORDS):
                out.append(self._words)
                self._words = []
            self._words.append(w)
        if self._words and final_until >= self._words[-1].end + PAUSE_S:
            out.append(self._words)
            self._words = []
        return out

    def finish(self) -> list[list[Word]]:
        out, self._words = ([self._words] if self._words else []), []
        return out


class LgmtscSender:
    """An ``AudioSender``: the call's audio is recognised as it comes; frames are only cropped for scoring."""

    def __init__(self, config: LgmtscConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer):
        from semtalk.kb.language import DomainLM
        from semtalk.semantics.face.encoder import FaceTracker
        from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer
        from semtalk.semantics.speech.correct import DomainCorrector
        from semtalk.text.lm import NGramPredictor

        self.config, self.kb, self.timer = config, kb, timer
        self.tracker = FaceTracker(kb.crop, kb.ref_box)
        domain = DomainLM.parse(kb.language) if kb.language is not None else None
        # The private KB at the sender: its domain text prompts the recogniser (hot words) and corrects it.
        correct = DomainCorrector(NGramPredictor(domain=domain), domain.vocab) if domain is not None else None
        self.asr = SpeechRecognizer(AsrConfig(prompt=domain.prompt() if domain else None), correct).stream(RATE)
        self.cutter = SentenceCutter()
        self.lm = language_kb(config, kb.language)
        self.length_class = length_class(config)
        self.coder = _text_coder() if config.text_coder == "learned" else None
        self.packets = SentencePacketizer(kb_tag(kb_bytes))
        self.counts = SentCounts()
        self.sent: list[tuple[float, str, str]] = []  # (start, recognised text, text sent) per sentence
        self.frames = 0
        self.no_face = 0
        self.last_tracked = None  # the latest frame's landmarks and crop (M3E's --fill face codes them too)

    def frame(self, index: int, rgb: np.ndarray, time_s: float) -> tuple[Captured, list[Outgoing]]:
        t = time.perf_counter()
        tracked = self.last_tracked = self.tracker.track(index, rgb)
        self.frames += 1
        self.no_face += tracked.points is None
        self.timer.add("landmarks", time.perf_counter() - t)
        mouth = np.nan if tracked.points is None else mouth_opening(tracked.points)
        return Captured(tracked.index, tracked.crop, mouth), []

    def audio(self, chunk: np.ndarray, time_s: float) -> list[Outgoing]:
        t = time.perf_counter()
        words = self.asr.push(chunk)
        self.timer.add("asr", time.perf_counter() - t)
        return self._send(self.cutter.push(words, self.asr.final_until), time_s)

    def finish(self, audio: np.ndarray | None, end: float) -> list[Outgoing]:
        self.tracker.close()
        t = time.perf_counter()
        words = self.asr.finish()
        self.timer.add("asr", time.perf_counter() - t)
        return self._send(self.cutter.push(words, math.inf) + self.cutter.finish(), end)

    def _send(self, sentences: list[list[Word]], time_s: float) -> list[Outgoing]:
        from semtalk.learned.anfis.model import LENGTH_RATIOS

        out = []
        for words in sentences:
            text = " ".join(w.text for w in words)
            t = time.perf_counter()
            short = self.lm.shorten(text, LENGTH_RATIOS[self.length_class]) if self.lm is not None else text
            short = short or text  # a one-word sentence ("yeah") may shorten to nothing: it goes whole
            self.timer.add("shorten", time.perf_counter() - t)
            t = time.perf_counter()
            c = self.counts
            if self.coder is not None:
                symbols = self.coder.encode(short)
                budget = self.coder.symbols_for(text) if self.config.symbol_budget else symbols.size
                payload, length = repeat(symbols, budget), symbols.size
                c.symbols += payload.size
                c.symbols_unique += symbols.size
            else:
                payload = encode_text(short, self.config.text_coder)
                length = len(payload)
                c.text_bytes += length
            packet = self.packets.push(Sentence(c.sentences, words[0].start, self.config.text_coder, payload, length))
            self.timer.add("encode", time.perf_counter() - t)
            c.sentences += 1
            c.words_in += len(words)
            c.chars_in += len(text)
            c.chars_out += len(short)
            self.sent.append((words[0].start, text, short))
            out.append(Outgoing(TEXT, [packet], time_s))
        return out

    def report(self) -> dict:
        return {"frames": self.frames, "no_face_frames": self.no_face, "clipped_frames": 0,
                "coefficients_per_frame": 0, "payload_bits": self.packets.payload_bits,
                "source_packets": self.packets.packets}


@dataclass
class _Heard:
    """A received sentence: its index and time, the text decoded and the text after the KB's correction."""

    index: int
    start: float
    decoded: str
    text: str


class LgmtscReceiver:
    def __init__(self, config: LgmtscConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer):
        from semtalk.generators.lips import LOOKAHEAD_S, MouthStream
        from semtalk.generators.talking_head import NOD_CONTEXT_S, PORTRAIT, TalkingHead

        self.config, self.kb, self.timer = config, kb, timer
        self.packets = SentenceDepacketizer(config.text_coder, kb_tag(kb_bytes))
        self.coder = _text_coder() if config.text_coder == "learned" else None
        self.lm = language_kb(config, kb.language) if config.lm_correct else None
        self.adapt = None
        if config.adapt_voice and kb.voice_profile is not None:
            from semtalk.generators.voice import voice_adapter

            self.adapt = voice_adapter(kb.voice_profile)
        self.head = TalkingHead(kb, seed=config.seed, config=PORTRAIT)
        self.mouth = MouthStream()
        self.nod_frames = round(NOD_CONTEXT_S * FPS)  # the nod of frame k reads the lip track this far around it
        self.lookahead = LOOKAHEAD_S + self.nod_frames / FPS
        self.latency = config.latency
        self.heard: dict[int, _Heard] = {}
        self._pending: list[_Heard] = []  # received, not yet spoken
        self._speech = np.zeros(0, np.float32)  # the call's speech so far (what the lips have been fed)
        self._fed = 0  # samples of it given to the lip track
        self._spoken_end = 0  # where the last sentence spoken ends (samples)
        self._mouths: list[float] = []
        self._next = 0
        self.late_sentences = 0
        self.undecodable = 0
        self.speech_audio = np.zeros(0, np.float32)

    def receive(self, stream: int, datagram: bytes) -> None:
        if stream != TEXT:
            return
        t = time.perf_counter()
        for sentence in self.packets(datagram):
            if sentence.index in self.heard:
                continue  # a duplicate
            heard = self._decode(sentence)
            if heard is None:
                self.undecodable += 1
                continue
            self.heard[sentence.index] = heard
            self._pending.append(heard)
        self.timer.add("decode", time.perf_counter() - t)

    def _decode(self, sentence: Sentence) -> _Heard | None:
        if self.coder is not None:
            from semtalk.learned.textcoder.code import LM_WEIGHT, unsure_alternatives

            try:
                decoded = self.coder.decode(combine(sentence.payload, sentence.length))
            except ValueError:  # no symbols, or not a whole number of tokens: not what a sender makes
                return None
            text = decoded.text
            if self.lm is not None and text.split():
                text = " ".join(self.lm.correct(text.split(), unsure_alternatives(decoded), weight=LM_WEIGHT))
            return _Heard(sentence.index, sentence.start, decoded.text, text)
        decoded = decode_text(bytes(sentence.payload[:sentence.length]), sentence.coder)
        return None if decoded is None else _Heard(sentence.index, sentence.start, decoded, decoded)

    def _speak(self, until_sample: int) -> None:
        """Synthesise every received sentence that starts before ``until_sample`` into the call's speech, at its
        time (after what is already spoken: a sentence never overlaps the one before), sped up to end before the
        next received sentence starts if it can."""
        self._pending.sort(key=lambda h: h.start)
        while self._pending and round(self._pending[0].start * RATE) < until_sample:
            heard = self._pending.pop(0)
            start = round(heard.start * RATE)
            if start < self._fed:
                self.late_sentences += 1  # its first words' lips are already shown: spoken late
            start = max(start, self._fed, self._spoken_end)
            room = round(self._pending[0].start * RATE) - start if self._pending else None
            audio = sentence_audio(heard.text, RATE, room, self.adapt, self.timer)
            end = start + audio.size
            if end > self._speech.size:
                self._speech = np.pad(self._speech, (0, end - self._speech.size))
            self._speech[start:end] = audio
            self._spoken_end = end

    def _feed_lips(self, samples: int) -> None:
        if samples <= self._fed:
            return
        if samples > self._speech.size:
            self._speech = np.pad(self._speech, (0, samples - self._speech.size))
        t = time.perf_counter()
        self._mouths += self.mouth.push(self._speech[self._fed:samples])
        self._fed = samples
        self.timer.add("lips", time.perf_counter() - t)

    def play(self, until: int) -> list[Played]:
        need = math.ceil((until / FPS + self.lookahead) * RATE)
        self._speak(need)
        self._feed_lips(need)
        from semtalk.generators.talking_head import speech_activity

        out, h = [], self.nod_frames
        while self._next < until and self._next + h < len(self._mouths):
            t = time.perf_counter()
            k, lo = self._next, max(0, self._next - h)
            nod = float(speech_activity(np.asarray(self._mouths[lo:k + h + 1]), FPS)[k - lo])
            image = self.head.frame(k, self._mouths[k], nod)
            self.timer.add("render", time.perf_counter() - t)
            out.append(Played(self._next, image, False))
            self._next += 1
        return out

    def finish(self, end: float) -> Speech:
        self.head.close()
        n = round(end * RATE)
        self._speak(n)
        self.speech_audio = np.pad(self._speech[:n], (0, max(0, n - self._speech.size))).astype(np.float32)
        return Speech(self.speech_audio, RATE)

    def received_text(self) -> str:
        return " ".join(self.heard[i].text for i in sorted(self.heard))

    def report(self) -> dict:
        return {"concealed_frames": 0, "late_frames": 0, "implausible_frames": 0,
                "garbage_packets": self.packets.garbage + self.undecodable,
                "wrong_kb_packets": self.packets.wrong_kb, "packets_recovered": 0}


def _text_coder():
    from semtalk.learned.textcoder.code import load_textcoder

    return load_textcoder()
