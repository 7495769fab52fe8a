"""SyncSC's speech half in one simulated call (§III-C, §III-D).

    audio → ASR words + timing (+ prosody) → interleave → Huffman → RTP → RS FEC → channel
          → FEC decode → de-interleave → TextPC concealment → TTS aligned to the word timing and the
            received lip motion (+ voice conversion from the KB) → audio of exactly the input's length

The text stream is its own RTP session (own SSRC and FEC blocks) on a link with the same loss
settings as the face stream but its own seeded channel, as two RTP sessions of one call would be.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from semtalk.link.simulated import NetworkConfig, SimulatedLink
from semtalk.records import Word
from semtalk.semantics.face.mesh import mouth_opening

RATE = 16000  # the speech path's sample rate: what ASR, PESQ-WB and STOI expect


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


def text_network(net: NetworkConfig) -> NetworkConfig:
    """The text stream's link: the call's loss and delay, RS unless FEC is off, a channel of its own.

    PacSC is a code for face coefficients, so text keeps Reed–Solomon under it.
    """
    fec = "none" if net.fec == "none" else "rs"
    return replace(net, fec=fec, seed=net.seed + 7919)


def speech_call(audio: np.ndarray, duration: float, net: NetworkConfig, *, window: int, prosody: bool,
                kb_tag: int, adapt=None, lip_curve: np.ndarray | None = None, fps: float = 25.0,
                seed: int = 0, alternate=None, language: bytes | None = None) -> SpeechOutcome:
    """Send the speech of ``audio`` (mono, RATE) as words over a simulated link and synthesise it again.

    ``adapt`` converts the TTS voice toward the speaker (None: the plain voice). ``alternate`` asks for a
    second rendering with the other choice, for the report: an adapter when ``adapt`` is None, or
    ``False`` for the plain voice. ``language``: the KB's domain LM (``kb.language``), which prompts the
    sender's ASR with domain sentences, corrects what it heard (``semantics.speech.correct``) and is
    interpolated into TextPC.
    """
    from semtalk.generators.speech import SpeechSynthesizer, SynthConfig
    from semtalk.kb.language import DomainLM
    from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer
    from semtalk.semantics.speech.correct import DomainCorrector
    from semtalk.semantics.speech.prosody import measure_prosody
    from semtalk.streams.text import TextDepacketizer, TextPacketizer, TextStreamFormat
    from semtalk.text.concealment import TextConcealer
    from semtalk.text.lm import NGramPredictor

    seconds: dict[str, float] = {}
    domain = DomainLM.parse(language) if language is not None else None
    t = time.perf_counter()
    asr_config = AsrConfig(prompt=domain.prompt() if domain is not None else None)
    predictor = NGramPredictor(domain=domain)
    correct = DomainCorrector(predictor, domain.vocab) if domain is not None else None
    words = list(SpeechRecognizer(asr_config, correct)(_chunks(audio), RATE))
    seconds["asr"] = time.perf_counter() - t
    if prosody:
        t = time.perf_counter()
        words = measure_prosody(audio, RATE, words)
        seconds["prosody"] = time.perf_counter() - t

    t = time.perf_counter()
    fmt = TextStreamFormat(window=window, fec_k=net.fec_k, prosody=prosody, kb_tag=kb_tag, seed=seed)
    packetizer, depacketizer = TextPacketizer(fmt), TextDepacketizer(fmt)
    link = SimulatedLink(text_network(net))
    for w in words:
        for packet in packetizer.push(w):
            link.send(packet, w.end)
    for packet in packetizer.flush():
        link.send(packet, duration)
    link.close(duration)
    slots: dict[int, Word] = {}
    for packet in link.deliver(math.inf):
        for slot, w in depacketizer(packet):
            slots[slot] = w
    seconds["text_link"] = time.perf_counter() - t

    t = time.perf_counter()
    n = max(len(words), max(slots, default=-1) + 1)  # the last slot index the receiver can know of
    received = TextConcealer(predictor).fill([slots.get(i) for i in range(n)])
    seconds["conceal"] = time.perf_counter() - t

    t = time.perf_counter()
    synth_config = SynthConfig(rate=RATE, prosody=prosody)
    rendered = SpeechSynthesizer(synth_config, adapt=adapt).render(received, duration, lip_curve, fps)
    seconds["synthesis"] = time.perf_counter() - t
    other = None
    if alternate is not None:  # the same words with the other voice choice, to measure what adaptation buys
        other = SpeechSynthesizer(synth_config, adapt=alternate or None)(received, duration, lip_curve, fps)
    return SpeechOutcome(
        sent=words, received=received, audio=rendered.audio,
        bits={"text": packetizer.text_bits, "timing": packetizer.timing_bits, "prosody": packetizer.prosody_bits},
        packets={"sent": link.sent_packets, "source": link.source_packets, "lost": link.lost,
                 "recovered": link.recovered},
        seconds=seconds, alternate=other, asr_prompt=asr_config.prompt, lip_shift=rendered.lip_shift)


def _chunks(audio: np.ndarray, seconds: float = 5.0):
    step = int(seconds * RATE)
    for i in range(0, len(audio), step):
        yield audio[i:i + step]


class LipCurves:
    """Mouth opening per frame, three ways: the sender's landmarks, the received coefficients (what the
    synthesiser may use to place words whose timing was lost) and landmarks measured again on the
    rendered output (what the AV-offset metric judges)."""

    def __init__(self, face_model, measure_output: bool = True):
        from semtalk.semantics.face.landmarks import FaceLandmarker

        self.face_model = face_model
        self._landmarker = FaceLandmarker() if measure_output else None
        self._original: list[float] = []
        self._received: list[float] = []
        self._output: list[float] = []

    def sent(self, points: np.ndarray | None) -> None:
        self._original.append(np.nan if points is None else mouth_opening(points))

    def played(self, coeffs: np.ndarray, image: np.ndarray) -> None:
        self._received.append(mouth_opening(self.face_model.decode(coeffs)))
        if self._landmarker is not None:
            points = self._landmarker(image)
            self._output.append(np.nan if points is None else mouth_opening(points))

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()

    @property
    def original(self) -> np.ndarray:
        return _filled(self._original)

    @property
    def received(self) -> np.ndarray:
        return _filled(self._received)

    @property
    def output(self) -> np.ndarray:
        return _filled(self._output)


def _filled(values: list[float]) -> np.ndarray:
    """Frames without a face get the opening interpolated from their neighbours (0 if none has one)."""
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros_like(x)
    return np.interp(np.arange(x.size), np.flatnonzero(ok), x[ok])
