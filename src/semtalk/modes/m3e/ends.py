"""The two ends of the M3E-VSC mode (seed paper 4): a few keyframes, text as the backbone, a semantic check that
asks again over a return path, and optical flow for the frames between keyframes.

    sender:   frame → face crop → ρ to every keyframe so far < τ ? (eqs. 1–2, ``keyframes``) → image codec at a
              target bpp → fragments                                                             (stream 0)
              audio → ASR → sentences (LGM-TSC's sender, no shortening) → a text coder (learned analog symbols or
              Huffman / Brotli / 5-bit over LDPC + QAM), one packet a sentence                    (stream 1)
              requests from the return path → the sentences and keyframes asked for, sent again
              with ``--fill face``: SyncSC's face coefficients of every frame (``face``)            (stream 2)
    receiver: keyframes → decoded pictures; frames between two keyframes by DIS flow (eq. 10, ``flow``), or with
              ``--fill face`` by SyncSC's face renderer from the two keyframes and the frame's coefficients (eq. 10
              where they are missing); after the last one the last picture held (rendered from it with the
              coefficients, under ``--fill face``);
              sentences → decoded (copies of a resent one averaged before decoding) → ξ̂ (eq. 9, ``check``) →
              below ξ_min, or missing: a request on the return path (at most ``retransmit`` a sentence, one
              round trip apart) → TTS in the KB voice at the sentence's time

Requests, resends and the delay they add are counted for the report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from semtalk import registry
from semtalk.generators.tts import sentence_audio
from semtalk.kb.knowledge_base import KnowledgeBase, kb_tag
from semtalk.modes.base import Captured, Outgoing, Played, Speech
from semtalk.modes.lgmtsc.config import LgmtscConfig
from semtalk.modes.lgmtsc.ends import LgmtscSender, language_kb
from semtalk.modes.m3e.config import M3eConfig
from semtalk.modes.m3e.face import COEFFICIENTS, CoefficientSender, FaceGuide
from semtalk.modes.syncsc.mode import SyncscConfig
from semtalk.records import StageTimer
from semtalk.streams.keyframe import (
    Keyframe,
    KeyframeDepacketizer,
    KeyframePacketizer,
    Request,
    RequestDepacketizer,
)
from semtalk.streams.sentence import SentenceDepacketizer, combine, decode_text

KEYFRAMES, TEXT = 0, 1  # forward streams (and ``face.COEFFICIENTS``, 2); the return path's one stream is 0
FPS = 25.0
RATE = 16_000
KEEP = 256  # sentences and keyframes the sender keeps for resends (older requests are not answered)


def text_config(config: M3eConfig) -> LgmtscConfig:
    """The settings of LGM-TSC's sentence sender as M3E uses it: whole sentences (no LM shortening)."""
    return LgmtscConfig(lm="none", text_coder=config.text_coder, length_class="full", snr=config.snr, seed=config.seed)


class Resender:
    """The sender's memory for the return path: the last ``KEEP`` sentence packets and keyframes, and
    ``answer(datagram, time)`` → what a request asks for, sent again (counted)."""

    def __init__(self, kb_tag: int) -> None:
        self.packets = KeyframePacketizer(kb_tag, FPS)
        self.requests = RequestDepacketizer(kb_tag)
        self.keyframes: dict[int, Keyframe] = {}
        self.sentences: dict[int, bytes] = {}
        self._next_sentence = 0
        self.resent_sentences = 0
        self.resent_keyframes = 0
        self.resent_sentence_bits = 0  # RTP payload bits sent again
        self.resent_keyframe_bits = 0
        self.requests_heard = 0

    def sentence(self, packet: bytes) -> None:
        """Keep the next sentence's packet (one packet a sentence, in order)."""
        self.sentences[self._next_sentence] = packet
        self._next_sentence += 1
        _forget(self.sentences)

    def keyframe(self, key: Keyframe) -> list[bytes]:
        """Keep a keyframe; its packets."""
        self.keyframes[key.key_id] = key
        _forget(self.keyframes)
        return self.packets.push(key)

    def answer(self, datagram: bytes, time_s: float) -> list[Outgoing]:
        out = []
        for request in self.requests(datagram):
            self.requests_heard += 1
            for index in request.sentences:
                packet = _latest(self.sentences, index)
                if packet is not None:
                    self.resent_sentences += 1
                    self.resent_sentence_bits += 8 * (len(packet) - 12)  # less the RTP header
                    out.append(Outgoing(TEXT, [packet], time_s))
            for key_id in request.keyframes:
                key = self.keyframes.get(key_id)
                if key is not None:
                    before = self.packets.payload_bits
                    packets = self.packets.push(key)
                    self.resent_keyframes += 1
                    self.resent_keyframe_bits += self.packets.payload_bits - before
                    out.append(Outgoing(KEYFRAMES, packets, time_s))
        return out


class M3eSender:
    """A ``FeedbackSender`` and an ``AudioSender``; with ``coefficients`` (SyncSC's settings, ``--fill face``) it
    also sends SyncSC's face stream."""

    def __init__(self, config: M3eConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer,
                 coefficients: SyncscConfig | None = None):
        from semtalk.modes.m3e.keyframes import KeyframeSelector

        self.config, self.timer = config, timer
        self.text = LgmtscSender(text_config(config), kb, kb_bytes, timer)
        self.coefficients = None
        if coefficients is not None:
            self.coefficients = CoefficientSender(coefficients, kb, kb_bytes)
        self.sent = self.text.sent  # (start, recognised, sent) per sentence: what the speech report reads
        self.selector = KeyframeSelector(config.keyframe_threshold)
        self.codec = registry.get("image_codec", config.keyframe_codec)()
        self.resend = Resender(kb_tag(kb_bytes))
        self.keyframe_bits = 0  # coded picture bits, first sends
        self.keyframe_frames: list[int] = []
        self.quality: list[int] = []

    @property
    def frames(self) -> int:
        return self.text.frames

    def frame(self, index: int, rgb: np.ndarray, time_s: float) -> tuple[Captured, list[Outgoing]]:
        from semtalk.imagecodec.base import at_bpp

        captured, _ = self.text.frame(index, rgb, time_s)
        out = []
        if self.coefficients is not None:
            t = time.perf_counter()
            out.append(Outgoing(COEFFICIENTS, self.coefficients.push(self.text.last_tracked), time_s))
            self.timer.add("encode", time.perf_counter() - t)
        t = time.perf_counter()
        is_key = self.selector(captured.crop)
        self.timer.add("keyframes", time.perf_counter() - t)
        if not is_key:
            return captured, out
        t = time.perf_counter()
        data, quality = at_bpp(self.codec, captured.crop, self.config.keyframe_bpp)
        key = Keyframe(len(self.keyframe_frames) & 0xFFFF, index, self.config.keyframe_codec, data)
        self.keyframe_frames.append(index)
        self.quality.append(quality)
        self.keyframe_bits += 8 * len(data)
        packets = self.resend.keyframe(key)
        self.timer.add("encode", time.perf_counter() - t)
        return captured, [*out, Outgoing(KEYFRAMES, packets, time_s)]

    def audio(self, chunk: np.ndarray, time_s: float) -> list[Outgoing]:
        return self._text(self.text.audio(chunk, time_s))

    def finish(self, audio: np.ndarray | None, end: float) -> list[Outgoing]:
        tail = [Outgoing(COEFFICIENTS, self.coefficients.flush(), end)] if self.coefficients is not None else []
        return tail + self._text(self.text.finish(audio, end))

    def _text(self, batches: list[Outgoing]) -> list[Outgoing]:
        out = []
        for batch in batches:
            for packet in batch.packets:
                self.resend.sentence(packet)
                out.append(Outgoing(TEXT, [packet], batch.time))
        return out

    def feedback(self, stream: int, datagram: bytes, time_s: float) -> list[Outgoing]:
        """Answer a request: every sentence and keyframe asked for that is still kept, sent again now."""
        return self.resend.answer(datagram, time_s)

    def report(self) -> dict:
        """Payload bits of everything sent, resends included (the keyframe packetiser counts its resends), and the
        coefficient stream's."""
        text, face = self.text.report(), self.coefficients
        return {"frames": self.frames, "no_face_frames": text["no_face_frames"],
                "clipped_frames": face.encoder.clipped if face is not None else 0,
                "coefficients_per_frame": face.encoder.model.n_coeffs if face is not None else 0,
                "payload_bits": self.resend.packets.payload_bits + text["payload_bits"]
                + self.resend.resent_sentence_bits + self.coefficient_bits,
                "source_packets": self.resend.packets.packets + text["source_packets"]
                + (face.packets if face is not None else 0)}

    @property
    def coefficient_bits(self) -> int:
        """Payload bits of the coefficient stream (0 without one)."""
        return self.coefficients.payload_bits if self.coefficients is not None else 0


def _forget(kept: dict) -> None:
    while len(kept) > KEEP:
        del kept[next(iter(kept))]


def _latest(kept: dict[int, bytes], index16: int) -> bytes | None:
    """The kept sentence whose index is ``index16`` modulo 2**16 (the newest such)."""
    for index in sorted(kept, reverse=True):
        if index & 0xFFFF == index16:
            return kept[index]
    return None


@dataclass
class Heard:
    """A sentence at the receiver: its text now (``text``, after the LM's correction; ``decoded`` before it), ξ̂ of
    it, the copies combined, and the first copy's text and ξ̂ (what the call would have had without the check)."""

    index: int
    start: float
    decoded: str
    text: str
    similarity: float
    copies: int = 1
    first_text: str = ""
    first_similarity: float = 0.0
    symbols: list[np.ndarray] = field(default_factory=list, repr=False)


@dataclass
class _Asked:
    times: int = 0
    last: float = -np.inf
    since: float = np.inf  # when the receiver first knew it needed this item


class M3eReceiver:
    """A ``FeedbackReceiver``; with ``coefficients`` (SyncSC's settings, ``--fill face``) it reads SyncSC's face
    stream and renders the frames between keyframes from it (``face.FaceGuide``)."""

    def __init__(self, config: M3eConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer,
                 coefficients: SyncscConfig | None = None):
        self.config, self.kb, self.timer = config, kb, timer
        self.tag = kb_tag(kb_bytes)
        self.sentence_packets = SentenceDepacketizer(config.text_coder, self.tag)
        self.key_packets = KeyframeDepacketizer(self.tag)
        self.learned = config.text_coder == "learned"
        self.coder = None
        if self.learned:
            from semtalk.learned.textcoder.code import load_textcoder

            self.coder = load_textcoder()
        self.lm = language_kb(LgmtscConfig(lm=config.lm), kb.language) if self.learned else None
        self.adapt = None
        if config.adapt_voice and kb.voice_profile is not None:
            from semtalk.generators.voice import voice_adapter

            self.adapt = voice_adapter(kb.voice_profile)
        self.latency = config.latency
        self.size = kb.crop.size
        self.heard: dict[int, Heard] = {}
        self.pictures: dict[int, np.ndarray] = {}  # frame index → decoded keyframe
        self.key_ids: set[int] = set()
        self.highest_key = -1
        self._asked: dict[tuple[str, int], _Asked] = {}
        self._fresh: list[tuple[str, int]] = []  # items completed since the last ``feedback``
        self.added_delay: list[float] = []  # per item the check made wait: first known needed → good enough
        self.requests_sent = 0
        self.feedback_bits = 0
        self._seq = 0
        self._next = 0
        self.undecodable = 0
        self.late_sentences = 0
        self.interpolated = self.held = 0  # frames between two keyframes (by either fill); held ones
        self.flow_filled = self.face_filled = 0  # between two keyframes: by eq. 10, by the face renderer
        self.face_one_keyframe = 0  # rendered from one keyframe and the coefficients instead of holding it
        self.guide = FaceGuide(coefficients, kb, kb_bytes, self.latency) if coefficients is not None else None
        self.speech_audio = np.zeros(0, np.float32)
        self._rng = np.random.default_rng([config.seed, 0xE3])
        from semtalk.modes.m3e.flow import Interpolator

        self.interpolate = Interpolator()

    # -- arrivals ----------------------------------------------------------------------------------------------

    def receive(self, stream: int, datagram: bytes) -> None:
        t = time.perf_counter()
        if stream == TEXT:
            for sentence in self.sentence_packets(datagram):
                self._sentence(sentence)
        elif stream == KEYFRAMES:
            for key in self.key_packets(datagram):
                self._keyframe(key)
        elif stream == COEFFICIENTS and self.guide is not None:
            self.guide.receive(datagram)
        self.timer.add("decode", time.perf_counter() - t)

    def _sentence(self, sentence) -> None:
        old = self.heard.get(sentence.index)
        if not self.learned:
            if old is not None:
                return  # a duplicate: a digital sentence arrives exact or not at all
            text = decode_text(bytes(sentence.payload[:sentence.length]), sentence.coder)
            if text is None:
                self.undecodable += 1
                return
            self.heard[sentence.index] = Heard(sentence.index, sentence.start, text, text, 1.0, 1, text, 1.0)
            self._fresh.append(("s", sentence.index))
            return
        try:
            copy = combine(sentence.payload, sentence.length)
        except ValueError:
            self.undecodable += 1
            return
        copies = [*(old.symbols if old else []), copy]
        if any(c.shape != copy.shape for c in copies):
            self.undecodable += 1
            return
        decoded, text, similarity = self._read(np.mean(copies, axis=0))
        heard = Heard(sentence.index, sentence.start, decoded.text, text, similarity, len(copies),
                      old.first_text if old else text, old.first_similarity if old else similarity, copies)
        self.heard[sentence.index] = heard
        self._fresh.append(("s", sentence.index))

    def _read(self, symbols: np.ndarray):
        from semtalk.modes.m3e.check import read_sentence

        t = time.perf_counter()
        out = read_sentence(self.coder, self.lm, symbols, self.config.samples, self._rng)
        self.timer.add("check", time.perf_counter() - t)
        return out

    def _keyframe(self, key: Keyframe) -> None:
        if key.key_id in self.key_ids:
            return
        try:
            picture = registry.get("image_codec", key.codec)().decode(key.data)
        except (ValueError, KeyError):
            self.undecodable += 1
            return
        if picture.shape != (self.size, self.size, 3):
            self.undecodable += 1
            return
        self.key_ids.add(key.key_id)
        self.highest_key = max(self.highest_key, key.key_id)
        if key.frame >= self._next - 1:  # a keyframe for frames already shown is of no use any more
            self.pictures[key.frame] = picture
        self._fresh.append(("k", key.key_id))

    # -- the check and the return path ---------------------------------------------------------------------------

    def needs(self) -> list[tuple[str, int]]:
        """Sentences whose ξ̂ is below ``ask_below`` (ξ_min, calibrated) or missing (a gap below the highest index
        heard), and keyframes missing."""
        top = max(self.heard, default=-1)
        ask = self.config.ask_below
        out = [("s", i) for i in range(top + 1) if i not in self.heard or self.heard[i].similarity < ask]
        top_key = max(self.highest_key, self.key_packets.highest)  # a keyframe seen in part is missing too
        out += [("k", k) for k in range(top_key + 1) if k not in self.key_ids]
        return out

    def feedback(self, time_s: float) -> list[Outgoing]:
        for item in self._fresh:
            asked = self._asked.get(item)
            if asked is not None and asked.times and self._good(item):
                self.added_delay.append(time_s - asked.since)
                asked.since = np.inf
        self._fresh.clear()
        if not np.isfinite(time_s):
            return []  # the call's last delivery: nothing sent now could arrive
        ask = []
        for item in self.needs():
            asked = self._asked.setdefault(item, _Asked())
            asked.since = min(asked.since, time_s)
            if asked.times < self.config.retransmit and time_s - asked.last >= self.config.rto - 1e-9:
                asked.times += 1
                asked.last = time_s
                ask.append(item)
        if not ask:
            return []
        sentences = tuple(i for kind, i in ask if kind == "s")[:255]
        keys = tuple(i for kind, i in ask if kind == "k")[:255]
        packet = Request(sentences, keys).packet(self.tag, self._seq)
        self._seq += 1
        self.requests_sent += 1
        self.feedback_bits += 8 * len(packet)
        return [Outgoing(0, [packet], time_s)]

    def _good(self, item: tuple[str, int]) -> bool:
        kind, i = item
        return kind == "k" or (i in self.heard and self.heard[i].similarity >= self.config.ask_below)

    @property
    def retransmissions_asked(self) -> int:
        return sum(a.times for a in self._asked.values())

    # -- play-out ----------------------------------------------------------------------------------------------

    def play(self, until: int) -> list[Played]:
        out = []
        if self.guide is not None:
            self.guide.due(until)
        while self._next < until:
            k = self._next
            t = time.perf_counter()
            image, concealed = self._picture(k)
            self.timer.add("render", time.perf_counter() - t)
            out.append(Played(k, image, concealed))
            self._next += 1
            for old in sorted(f for f in self.pictures if f < k)[:-1]:  # keep the last keyframe before the next frame
                del self.pictures[old]
            if self.guide is not None:  # keep the codes of the kept keyframes and of the frames still to play
                self.guide.forget(self._next, self.pictures)
        return out

    def _picture(self, k: int) -> tuple[np.ndarray, bool]:
        """Frame ``k``: its keyframe; between two keyframes the face renderer driven by frame k's coefficients
        (``--fill face``, when they and the keyframes' arrived) or else the flow interpolation (eq. 10); with one
        keyframe only, rendered from it with the coefficients (``--fill face``) or else it held (concealed); grey
        before any."""
        if k in self.pictures:
            return self.pictures[k], False
        before = max((f for f in self.pictures if f < k), default=None)
        after = min((f for f in self.pictures if f > k), default=None)
        sources = [(f, self.pictures[f]) for f in (before, after) if f is not None]
        image = self.guide.render(k, sources) if self.guide is not None and sources else None
        if before is not None and after is not None:
            self.interpolated += 1
            if image is not None:
                self.face_filled += 1
                return image, False
            self.flow_filled += 1
            alpha = (k - before) / (after - before)
            return self.interpolate(self.pictures[before], self.pictures[after], alpha, (before, after)), False
        if image is not None:
            self.face_one_keyframe += 1
            return image, False
        self.held += 1
        if before is None and after is None:
            return np.full((self.size, self.size, 3), 128, np.uint8), True
        return self.pictures[before if before is not None else after], True

    def finish(self, end: float) -> Speech:
        """The call's speech: every sentence's final reading, spoken from its time on (after the one before)."""
        n = round(end * RATE)
        speech = np.zeros(n, np.float32)
        at = 0
        for i in sorted(self.heard):
            heard = self.heard[i]
            audio = sentence_audio(heard.text, RATE, None, self.adapt, self.timer)
            start = max(round(heard.start * RATE), at)
            if start >= n:
                break
            part = audio[:n - start]
            speech[start:start + part.size] = part
            at = start + audio.size
        self.speech_audio = speech
        return Speech(speech, RATE)

    def received_text(self) -> str:
        return " ".join(self.heard[i].text for i in sorted(self.heard))

    def report(self) -> dict:
        """The coefficient stream's packets count with the others'; its FEC is the only one that recovers any."""
        face = self.guide.stream if self.guide is not None else None
        return {"concealed_frames": self.held, "late_frames": 0,
                "implausible_frames": self.guide.refused if self.guide is not None else 0,
                "garbage_packets": self.sentence_packets.garbage + self.key_packets.garbage + self.undecodable
                + (face.garbage if face is not None else 0),
                "wrong_kb_packets": self.sentence_packets.wrong_kb + self.key_packets.wrong_kb
                + (face.wrong_kb if face is not None else 0),
                "packets_recovered": face.recovered if face is not None else 0}
