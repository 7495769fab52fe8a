"""The SyncSC mode: face coefficients (SyncSC eq. 2) on stream 0, words with timing and prosody on stream 1.

    sender:   frame → landmarks + stable crop → coefficients → quantise → face code (RTP + RS | PacSC)
              audio → words (``speech.SpeechSender``)
              with ``--refresh-kbps``: a frame the receiver would render badly → a new keyframe (``refresh``)
              with ``--flow-grid``: the packet's frames as the receiver renders them → a motion field (``motion``)
    receiver: face code → play-out + concealment → face renderer (+ motion field);  words → TextPC → TTS in sync
              with the lips

Only bounded buffers exist between the stages (the code's block and the play-out delay), so memory does
not grow with the length of the input. Both ends hold the same KB (checked by hash before the call).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from semtalk import registry
from semtalk.fec.base import PacketCode, StreamCode
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.generators.motion_field import apply_field, packet_offset, towards
from semtalk.kb.knowledge_base import KnowledgeBase, kb_tag
from semtalk.modes.base import Captured, Outgoing, Played, Speech
from semtalk.modes.syncsc.config import RefreshConfig
from semtalk.modes.syncsc.motion import MotionSender
from semtalk.modes.syncsc.refresh import RefreshReceiver, RefreshSender, refresh_section
from semtalk.modes.syncsc.speech import RATE, SpeechConfig, SpeechReceiver, SpeechSender
from semtalk.records import FaceFrame, StageTimer, config_from
from semtalk.semantics.face.mesh import mouth_opening
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat

FACE, WORDS, REFRESH = 0, 1, 2  # stream numbers
FPS = 25.0
DEFAULT_VIDEO_KBPS = 1.6  # the face stream's rate target without --video-kbps (issue 24)
FIELD_KEYFRAMES = 16  # the KB's keyframes when the stream carries a motion field (``SyncscConfig.kb_keyframes``)


@dataclass(frozen=True)
class SyncscConfig:
    """Both ends' settings. ``fec`` names a ``StreamCode`` (RS, none, PacSC); ``playout_margin`` is what the
    receiver adds to the code's block time for the network's delay and jitter."""

    fec: str = "rs"
    code_rate: float = 0.5
    fec_k: int = 4
    frames_per_packet: int = 5
    speech: bool = True
    text_window: int = 12
    prosody: bool = True
    voice_adapt: bool = False
    seed: int = 0
    playout_margin: float = 0.0
    video_kbps: float | None = None  # face stream target; None: DEFAULT_VIDEO_KBPS; 0: version 1, uncontrolled
    refresh_kbps: float = RefreshConfig.kbps  # KB refresh budget (``refresh``); 0: none
    refresh_ssim: float = RefreshConfig.ssim
    refresh_codec: str = RefreshConfig.codec
    refresh_quality: int = RefreshConfig.quality
    flow_grid: int = 6  # the motion field's lattice side, one field per packet (``motion``); 0: none

    def code(self) -> StreamCode:
        return registry.get("fec", self.fec)(k=self.fec_k, code_rate=self.code_rate)

    def speech_config(self) -> SpeechConfig:
        return SpeechConfig(window=self.text_window, fec_k=self.fec_k, prosody=self.prosody,
                            voice_adapt=self.voice_adapt, seed=self.seed)

    def refresh(self) -> RefreshConfig | None:
        """The KB refresh's settings, or None without a budget."""
        if self.refresh_kbps <= 0:
            return None
        return RefreshConfig(kbps=self.refresh_kbps, ssim=self.refresh_ssim, codec=self.refresh_codec,
                             quality=self.refresh_quality, fps=FPS)

    def video_target(self) -> float | None:
        """The face stream's rate target in kbps; None for the version-1 stream (``video_kbps`` 0, or a learned
        code such as PacSC, which codes the values itself)."""
        if self.video_kbps == 0 or not isinstance(self.code(), PacketCode):
            return None
        return DEFAULT_VIDEO_KBPS if self.video_kbps is None else self.video_kbps

    def stream_format(self, kb: KnowledgeBase, kb_bytes: bytes) -> FaceStreamFormat:
        from semtalk.streams.facecode import face_coder

        target = self.video_target()
        return FaceStreamFormat(n_coeffs=kb.face_model.n_coeffs, bits=kb.quantizer.bits, kb_tag=kb_tag(kb_bytes),
                                fps=FPS, frames_per_packet=self.frames_per_packet,
                                coder=None if target is None else face_coder(kb), target_kbps=target,
                                field_grid=self.field_grid())

    def field_grid(self) -> int:
        """The motion field's lattice side: only the range-coded stream (version 2) carries one."""
        return 0 if self.video_target() is None else self.flow_grid

    def kb_keyframes(self) -> int | None:
        """The keyframes a KB built for this stream should hold (None: the KB builder's default, 10).

        With a motion field the sender picks, per packet, the keyframe (or blend) whose rendering its field brings
        closest to the frame (``motion``), so more keyframes are more choices. 16 instead of 10 on the HDTF clips:
        held-out SSIM 0.7989 → 0.8010 and VMAF 25.2 → 25.6 at 1.6 kbps, for KBs 39–45 % larger (sent once, not
        in the stream rate); 20 gave 0.7996 (docs/face-rate.md)."""
        return FIELD_KEYFRAMES if self.field_grid() else None


class SyncscSender:
    def __init__(self, config: SyncscConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer):
        from semtalk.semantics.face.encoder import FaceEncoder, FaceTracker

        self.config, self.timer = config, timer
        self.tracker = FaceTracker(kb.crop, kb.ref_box)
        self.encoder = FaceEncoder(kb.face_model, kb.quantizer)
        code = config.code()
        self.face = code.sender(FacePacketizer(config.stream_format(kb, kb_bytes)))
        self.speech = SpeechSender(config.speech_config(), code, kb_tag(kb_bytes), kb.language) \
            if config.speech else None
        self.refresh = None
        if (refresh := config.refresh()) is not None:
            self.refresh = RefreshSender(refresh, kb, kb_tag(kb_bytes), code.packet_code())
        self.motion = None
        if grid := config.field_grid():  # the field is fitted to what the receiver renders, refreshes included
            renderer = self.refresh.renderer if self.refresh is not None else FaceRenderer(kb)
            self.motion = MotionSender(renderer, grid, config.frames_per_packet)
        self.frames = 0
        self.no_face = 0

    def frame(self, index: int, rgb: np.ndarray, time_s: float) -> tuple[Captured, list[Outgoing]]:
        t = time.perf_counter()
        tracked = self.tracker.track(index, rgb)
        self.timer.add("landmarks", time.perf_counter() - t)
        t = time.perf_counter()
        coded = self.encoder(tracked)
        self.frames += 1
        self.no_face += not coded.face_found
        mouth = np.nan if tracked.points is None else mouth_opening(tracked.points)
        self.timer.add("encode", time.perf_counter() - t)
        out = []
        if self.refresh is not None:  # before the field: a refresh from this frame on is in the receiver's rendering
            t = time.perf_counter()
            refresh = self.refresh.push(tracked.index, tracked.crop, coded.codes, coded.face_found)
            out.append(Outgoing(REFRESH, refresh, time_s))
            self.timer.add("refresh", time.perf_counter() - t)
        frames = [coded]
        if self.motion is not None:
            t = time.perf_counter()
            frames = self.motion.push(coded, tracked.crop)
            self.timer.add("motion", time.perf_counter() - t)
        t = time.perf_counter()
        packets = [p for f in frames for p in self.face.push(f)]
        self.timer.add("encode", time.perf_counter() - t)
        return Captured(tracked.index, tracked.crop, mouth), [Outgoing(FACE, packets, time_s), *out]

    def finish(self, audio: np.ndarray | None, end: float) -> list[Outgoing]:
        self.tracker.close()
        rest = self.motion.flush() if self.motion is not None else []
        out = [Outgoing(FACE, [p for f in rest for p in self.face.push(f)] + self.face.flush(), end)]
        if self.speech is not None and audio is not None:
            out += [Outgoing(WORDS, packets, t) for packets, t in self.speech.send(audio, end)]
        return out

    def report(self) -> dict:
        packets = self.face.packetizer if hasattr(self.face, "packetizer") else None
        coded = packets is not None and packets.fmt.coder is not None
        refresh = self.refresh
        return {"frames": self.frames, "no_face_frames": self.no_face, "clipped_frames": self.encoder.clipped,
                # a refresh counts in the stream's rate (issue 24), and apart as ``refresh_bits``
                "payload_bits": self.face.payload_bits + (refresh.bits if refresh else 0),
                "source_packets": self.face.packets + (refresh.packets.packets if refresh else 0),
                "frames_per_packet": self.config.frames_per_packet, "target_kbps": self.config.video_target(),
                "precision_level": round(packets.level_sum / max(packets.packets, 1), 2) if coded else None,
                "refresh_bits": refresh.bits if refresh else 0,
                "field_bits": packets.field_bits if coded else 0, "field_packets": packets.fields if coded else 0}


class SyncscReceiver:
    def __init__(self, config: SyncscConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer):
        from semtalk.generators.absence import AbsenceFade
        from semtalk.streams.playout import FacePlayout

        self.config, self.kb, self.timer = config, kb, timer
        code = config.code()
        self.face = code.receiver(FaceDepacketizer(config.stream_format(kb, kb_bytes)), prior=kb.reference.codes)
        self._fields: dict[int, tuple] = {}  # (field, variant) of the packets played last: this one and the one before
        self.latency = (config.frames_per_packet * max(1, code.k) + 1) / FPS + config.playout_margin
        # No honest frame arrives more than the play-out delay ahead; a second beyond it is refused as forged.
        self.playout = FacePlayout(kb.quantizer, kb.quantizer.dequantize(kb.reference.codes),
                                   horizon=math.ceil((self.latency + 1) * FPS))
        self.renderer = FaceRenderer(kb)
        self.refresh = None
        if (refresh := config.refresh()) is not None:
            self.refresh = RefreshReceiver(refresh, kb, kb_tag(kb_bytes), code.packet_code())
        self.absence = AbsenceFade()
        self.speech = SpeechReceiver(config.speech_config(), code, kb_tag(kb_bytes), kb.language,
                                     kb.voice_profile) if config.speech else None
        self.mouth: list[float] = []  # received mouth opening per played frame: places words, shifts the speech
        self.concealed = 0
        self.outcome: tuple | None = None

    def receive(self, stream: int, datagram: bytes) -> None:
        if stream == FACE:
            for frame in self.face.push(datagram):
                self.playout.push(frame)
        elif stream == WORDS and self.speech is not None:
            self.speech.receive(datagram)
        elif stream == REFRESH and self.refresh is not None:
            self.refresh.receive(datagram)

    def play(self, until: int) -> list[Played]:
        t = time.perf_counter()
        for frame in self.face.due(until):  # blocks with lost rows are decoded when their first frame is due
            self.playout.push(frame)
        self.timer.add("receive", time.perf_counter() - t)
        out = []
        for face in self.playout.pop(until):
            t = time.perf_counter()
            if self.refresh is not None and self.refresh.due(face.index):
                self.renderer.set_sources(self.refresh.sources)
            image = self.renderer(face.coeffs, face.variant)
            if (field := self._field(face)) is not None:
                image = apply_field(image, field, self.renderer.eyes(face.coeffs))
            image = self.absence(image, face.face_found,
                                 lambda c=face.coeffs: self.renderer.plate(c))
            self.timer.add("render", time.perf_counter() - t)
            if self.speech is not None:
                t = time.perf_counter()
                self.mouth.append(mouth_opening(self.kb.face_model.decode(face.coeffs)))
                self.timer.add("lips", time.perf_counter() - t)
            self.concealed += face.concealed
            out.append(Played(face.index, image, face.concealed))
        return out

    def _field(self, face: FaceFrame) -> np.ndarray | None:
        """The frame's motion field: its packet's, moved towards the neighbouring packet's as far as the frame lies
        from its packet's middle. A packet's field is the best one for all its frames (``motion``) and the motion
        it corrects is continuous, so the fields are anchored mid-packet and interpolated (HDTF: +0.001 to +0.003
        SSIM over holding each packet's field, docs/face-rate.md). The next packet has usually arrived by then (the
        play-out waits for a whole FEC block); a missing neighbour leaves the packet's own field."""
        if face.field is None:
            return None
        fpp = self.config.frames_per_packet
        packet, t = packet_offset(face.index, fpp)
        self._fields = {p: f for p, f in self._fields.items() if p >= packet - 1} | {packet: (face.field, face.variant)}
        near = self._fields.get(packet - 1) if t < 0 else None
        if t > 0 and (ahead := self.playout.peek((packet + 1) * fpp)) is not None:
            near = (ahead.field, ahead.variant)
        # A field corrects its own variant's rendering: another variant's says little about this one's.
        return towards(face.field, near[0] if near is not None and near[1] == face.variant else None, t)

    def finish(self, end: float) -> Speech | None:
        if self.speech is None:
            return None
        received, audio, other, shift = self.speech.speak(end, filled(self.mouth), FPS)
        self.outcome, self.speech_audio = (received, other, shift), audio
        return Speech(audio, RATE)

    def report(self) -> dict:
        return {"concealed_frames": self.concealed, "face_missing_frames": self.absence.missing,
                "late_frames": self.playout.late,
                "implausible_frames": self.playout.implausible,
                "garbage_packets": self.face.garbage, "wrong_kb_packets": self.face.wrong_kb,
                "packets_recovered": self.face.recovered}


@dataclass(frozen=True)
class SyncscMode:
    """The ``mode`` registry entry ``syncsc``: both ends from one config and the shared KB."""

    config: SyncscConfig
    kb: KnowledgeBase
    kb_bytes: bytes
    receiver_kb: KnowledgeBase
    fps: float = FPS
    live_audio: bool = False  # the words go out once the speech is recognised (``speech.SpeechSender``)
    feedback: bool = False  # no return path
    analog_streams: frozenset[int] = frozenset()

    @staticmethod
    def enroll(input_path, run_config) -> KnowledgeBase:
        """The KB of the clip's enrollment segment (``enroll.build``), with the run's ``--keyframes`` or the
        stream's own number (``SyncscConfig.kb_keyframes``)."""
        from semtalk.enroll.build import enroll_clip

        if getattr(run_config, "keyframes", None) is None:
            run_config = replace(run_config, keyframes=config_from(SyncscConfig, run_config).kb_keyframes())
        return enroll_clip(input_path, run_config)

    @classmethod
    def build(cls, run_config, kb: KnowledgeBase, kb_bytes: bytes, receiver_kb: KnowledgeBase) -> SyncscMode:
        """From a run's settings: the mode's own fields, and the play-out margin the link's delay and jitter need."""
        from semtalk.streams.facecode import frames_for_rate

        margin = run_config.delay + 4 * run_config.jitter
        config = config_from(SyncscConfig, run_config, playout_margin=margin)
        if (target := config.video_target()) is not None:  # low rates group more frames (the flush is per packet)
            config = replace(config, frames_per_packet=frames_for_rate(target, FPS, config.frames_per_packet,
                                                                       field_grid=config.field_grid()))
        return cls(config, kb, kb_bytes, receiver_kb)

    @property
    def speaks(self) -> bool:
        return self.config.speech

    @property
    def code(self) -> StreamCode:
        return self.config.code()

    def sender(self, timer: StageTimer) -> SyncscSender:
        return SyncscSender(self.config, self.kb, self.kb_bytes, timer)

    def receiver(self, timer: StageTimer) -> SyncscReceiver:
        return SyncscReceiver(self.config, self.receiver_kb, self.kb_bytes, timer)

    def speech_report(self, sender: SyncscSender, receiver: SyncscReceiver, link, original: np.ndarray,
                      duration: float, outputs, *, transcript: str | None, voice_seconds: float,
                      score: bool = True) -> dict:
        """The ``speech`` section: what was sent against what was received and spoken (``score`` False: rates
        and text only, no listening tests)."""
        from semtalk.modes.syncsc.speech import SpeechOutcome
        from semtalk.modes.syncsc.speech_report import speech_report

        received, other, shift = receiver.outcome
        words = link.stream(WORDS)
        outcome = SpeechOutcome(
            sent=sender.speech.words, received=received, audio=receiver.speech_audio, bits=sender.speech.bits,
            packets={"sent": words.packets, "source": sender.speech.stream.packets, "lost": words.lost,
                     "recovered": receiver.speech.stream.recovered},
            seconds={**sender.speech.seconds, **receiver.speech.seconds}, alternate=other,
            asr_prompt=sender.speech.asr_prompt, lip_shift=shift)
        return speech_report(outcome, original, duration, transcript=transcript, voice_seconds=voice_seconds,
                             mouth_out=filled(outputs.out_mouth), mouth_original=filled(outputs.sent_mouth),
                             fps=self.fps, adapted=self.config.voice_adapt and self.receiver_kb.voice_profile
                             is not None, score=score)


    def sections(self, sender, receiver, link, outputs, original, speech, score: bool) -> dict:
        """``refresh`` when the KB was refreshed (``refresh.section``); nothing else besides ``speech``."""
        if sender.refresh is None:
            return {}
        return {"refresh": refresh_section(sender.refresh, receiver.refresh, link.stream(REFRESH),
                                           sender.frames / self.fps)}


def filled(values: list[float]) -> np.ndarray:
    """Frames without a face get the opening interpolated from their neighbours (0 if none has one)."""
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros_like(x)
    return np.interp(np.arange(x.size), np.flatnonzero(ok), x[ok])

