"""The two ends of the Wav2Vid mode (seed paper 2): the whole audio, short video clips only when the head pose
changes, and every other frame generated at the receiver by animating the latest clip from the received audio.

    sender:   frame → landmarks + stable crop → head pose → HdPoseEst (eq. 3) ≥ ε ? → clip of the crops,
              coded by a real low-delay codec (the paper's DVST) → fragments (RTP) + RS            (stream 0)
              a clip whose pose a cached clip shows (``--clip-cache``): a 14-byte "reuse clip k" record instead
              audio → Opus spans + RS, or ASC analog symbols                                         (stream 1)
    receiver: fragments → whole clips → decoded and cached as the reference (the last ``clip_cache`` kept for reuse);
              audio spans → audio → mouth opening per frame (``generators.lips``) → talking head that animates the
              reference (``generators.talking_head``); frames of a clip that arrived are shown as decoded.

A clip goes out once its last frame is captured, so the receiver plays ``clip_frames`` + 1 frames behind, and at
least the audio path's delay (span, FEC block, the lips' look-ahead). Memory is bounded by that delay and the
``clip_cache`` clips kept for reuse.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from semtalk.kb.knowledge_base import KnowledgeBase, kb_tag
from semtalk.modes.base import Captured, Outgoing, Played, Speech
from semtalk.modes.wav2vid import audio as carriers
from semtalk.modes.wav2vid.config import Wav2vidConfig
from semtalk.modes.wav2vid.pose import PoseTrigger, euler_degrees
from semtalk.records import StageTimer
from semtalk.semantics.face.mesh import mouth_opening
from semtalk.streams.audio import AudioDepacketizer, AudioPacketizer
from semtalk.streams.clip import Clip, ClipDepacketizer, ClipPacketizer, Reuse

CLIPS, AUDIO = 0, 1  # stream numbers
FPS = 25.0
RATE = carriers.RATE
FRAME_SAMPLES = round(RATE / FPS)
HORIZON_FRAMES = 250  # how far ahead of play-out a clip may start (10 s): bounds what forged clips can hold


class Wav2vidSender:
    def __init__(self, config: Wav2vidConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer):
        from semtalk.semantics.face.encoder import FaceTracker

        self.config, self.kb, self.timer = config, kb, timer
        self.tracker = FaceTracker(kb.crop, kb.ref_box)
        self.trigger = PoseTrigger(config.pose_threshold, config.clip_frames, config.pose_window,
                                   config.clip_cache, config.reuse_fraction)
        tag = kb_tag(kb_bytes)
        self.clips = ClipPacketizer(tag, FPS)
        self.clip_fec = config.packet_code().encoder()
        self.coder = carriers.coder(config.audio_carrier, config.audio_kbps)
        self.audio_packets = AudioPacketizer(config.audio_carrier, tag, self.coder.span, RATE)
        self.audio_fec = config.packet_code().encoder() if config.audio_carrier == "opus" else None
        self._crops: list[np.ndarray] = []
        self._first = 0
        self._samples = np.zeros(0, np.float32)
        self.frames = 0
        self.no_face = 0
        self.sent_clips: list[tuple[int, int]] = []  # (first frame, frames) of every clip sent
        self.reused: list[tuple[int, int]] = []  # (first frame, cached clip id) of every clip replaced by a reuse
        self.clip_bytes = 0  # codec bytes of the clips
        self.control_bytes = 0  # the reuse records
        self.audio_bytes = 0  # codec bytes of the audio (Opus)
        self.audio_symbols = 0  # analog symbols of the audio (ASC)
        self.audio_spans = 0

    def frame(self, index: int, rgb: np.ndarray, time_s: float) -> tuple[Captured, list[Outgoing]]:
        t = time.perf_counter()
        tracked = self.tracker.track(index, rgb)
        self.timer.add("landmarks", time.perf_counter() - t)
        t = time.perf_counter()
        self.frames += 1
        pose = None
        if tracked.points is None:
            self.no_face += 1
            mouth = np.nan
        else:
            _, rotation, _ = self.kb.face_model.pose(tracked.points)
            pose, mouth = euler_degrees(rotation), mouth_opening(tracked.points)
        step = self.trigger(pose)
        out = []
        if step.send:
            if not self._crops:
                self._first = index
            self._crops.append(tracked.crop)
            if step.reuse is not None:  # a cached clip shows this pose: it is animated again from the clip's start
                out.append(Outgoing(CLIPS, self._send_reuse(Reuse(step.reuse, self._first)), time_s))
                self._crops = []
            elif step.last:
                out.append(Outgoing(CLIPS, self._send_clip(), time_s))
        self.timer.add("encode", time.perf_counter() - t)
        return Captured(tracked.index, tracked.crop, mouth), out

    def audio(self, chunk: np.ndarray, time_s: float) -> list[Outgoing]:
        """The call's audio as it is captured (any chunk size): every complete span goes out now."""
        t = time.perf_counter()
        self._samples = np.concatenate([self._samples, np.asarray(chunk, dtype=np.float32)])
        packets = []
        span = self.coder.span
        while self._samples.size >= span:
            packets += self._send_span(self._samples[:span])
            self._samples = self._samples[span:]
        self.timer.add("audio", time.perf_counter() - t)
        return [Outgoing(AUDIO, packets, time_s)] if packets else []

    def _send_span(self, samples: np.ndarray) -> list[bytes]:
        data = self.coder.encode(samples)
        self.audio_spans += 1
        if isinstance(data, bytes):
            self.audio_bytes += len(data)
        else:  # analog: symbols, not bytes
            self.audio_symbols += data.size
        packet = self.audio_packets.push(data)
        return self.audio_fec.push(packet) if self.audio_fec is not None else [packet]

    def _send_clip(self) -> list[bytes]:
        from semtalk.media.video_codec import encode_video

        encoded = encode_video(self._crops, self.config.clip_codec, self.config.clip_kbps, FPS,
                               preset=self.config.preset)
        clip = Clip(len(self.sent_clips), self._first, self.config.clip_codec, encoded.packets)
        self.sent_clips.append((self._first, clip.n_frames))
        self.clip_bytes += clip.bytes
        self._crops = []
        return self._protect(self.clips.push(clip))

    def _send_reuse(self, reuse: Reuse) -> list[bytes]:
        self.reused.append((reuse.first, reuse.clip_id))
        self.control_bytes += reuse.bytes
        return self._protect(self.clips.push_reuse(reuse))

    def _protect(self, packets: list[bytes]) -> list[bytes]:
        """Clip-stream packets through the packet FEC, its block closed: what goes out now."""
        out = []
        for packet in packets:
            out += self.clip_fec.push(packet)
        return out + self.clip_fec.flush()

    def finish(self, audio: np.ndarray | None, end: float) -> list[Outgoing]:
        self.tracker.close()
        out = []
        if self.trigger.cut() and self._crops:
            out.append(Outgoing(CLIPS, self._send_clip(), end))
        if self._samples.size:
            packets = self._send_span(np.pad(self._samples, (0, self.coder.span - self._samples.size)))
            self._samples = np.zeros(0, np.float32)
            out.append(Outgoing(AUDIO, packets, end))
        if self.audio_fec is not None:
            out.append(Outgoing(AUDIO, self.audio_fec.flush(), end))
        return out

    def report(self) -> dict:
        return {"frames": self.frames, "no_face_frames": self.no_face, "clipped_frames": 0,
                "payload_bits": self.clips.payload_bits, "source_packets": self.clips.packets,
                "coefficients_per_frame": None}


@dataclass
class _Cached:
    """A decoded clip: frames ``first`` … ``first + len(frames) − 1``."""

    first: int
    frames: list[np.ndarray] = field(default_factory=list)
    clip_id: int = 0

    @property
    def end(self) -> int:
        return self.first + len(self.frames)


class Wav2vidReceiver:
    def __init__(self, config: Wav2vidConfig, kb: KnowledgeBase, kb_bytes: bytes, timer: StageTimer):
        from semtalk.generators.lips import LOOKAHEAD_S, MouthStream
        from semtalk.generators.talking_head import TalkingHead

        self.config, self.kb, self.timer = config, kb, timer
        tag = kb_tag(kb_bytes)
        self.clips = ClipDepacketizer(tag)
        self.clip_fec = config.packet_code().decoder(self.clips.ssrc)
        self.decoder = carriers.decoder(config.audio_carrier)
        self.audio_in = AudioDepacketizer(config.audio_carrier, tag)
        self.audio_fec = config.packet_code().decoder(self.audio_in.ssrc) if config.audio_carrier == "opus" else None
        self.mouth = MouthStream()
        self.head = TalkingHead(kb, seed=config.seed)
        span_s = self.decoder.span / RATE
        fec_s = span_s * config.fec_k if self.audio_fec is not None else 0.0
        # A frame plays once the audio to its time plus the lips' look-ahead is decoded: that span, the decoder's
        # own delay, a whole FEC block, and up to a frame each for the sender's and the player's frame clocks.
        audio_delay = span_s * (1 + self.decoder.delay_spans) + fec_s + LOOKAHEAD_S + 2 / FPS
        self.lookahead = LOOKAHEAD_S
        self.latency = max((config.clip_frames + 1) / FPS, audio_delay) + config.playout_margin
        self._cached: list[_Cached] = []  # clips decoded, in frame order, not yet played past
        self._kept: dict[int, list[np.ndarray]] = {}  # clip id → frames: the newest ``clip_cache`` clips, for reuse
        self._switches: dict[int, int] = {}  # frame → clip id of the reuse records not yet played
        self._reference: int | None = None  # the clip id animated now
        self._slots: dict[int, bytes | np.ndarray] = {}
        self._next_slot = 0
        self._lost_slots: set[int] = set()
        self._audio: list[np.ndarray] = []
        self._decoded = 0  # samples of audio decoded so far
        self._mouths: list[float] = []
        self._next = 0  # next frame to play
        self.received_clips: list[tuple[int, int]] = []
        self.reuses_applied: list[tuple[int, int]] = []  # (frame, clip id) where a reuse switched the reference
        self.generated: list[int] = []  # frames generated from the audio (not shown from a clip)
        self.concealed = 0
        self.late_slots = 0

    def receive(self, stream: int, datagram: bytes) -> None:
        if stream == CLIPS:
            for packet in self.clip_fec.push(datagram):
                for record in self.clips(packet):
                    if isinstance(record, Reuse):
                        self._reuse(record)
                    else:
                        self._cache(record)
        elif stream == AUDIO:
            packets = self.audio_fec.push(datagram) if self.audio_fec is not None else [datagram]
            for packet in packets:
                for slot, data in self.audio_in(packet):
                    if slot < self._next_slot:
                        self.late_slots += 1
                    elif slot - self._next_slot < HORIZON_FRAMES * FRAME_SAMPLES // self.decoder.span:  # else forged
                        self._slots[slot] = data

    def _cache(self, clip: Clip) -> None:
        from semtalk.media.video_codec import EncodedVideo, decode_video

        t = time.perf_counter()
        if clip.first + clip.n_frames <= self._next:
            return  # too late to show
        if clip.first > self._next + HORIZON_FRAMES:  # no honest clip runs this far ahead: forged, not cached
            self.clips.invalid += 1
            return
        size = self.kb.crop.size
        encoded = EncodedVideo(clip.codec, size, size, FPS, clip.packets, (True,) + (False,) * (clip.n_frames - 1))
        try:
            frames = decode_video(encoded)
        except Exception:  # a clip the codec cannot decode (forged or corrupt) is a lost clip, not a failed call
            self.clips.invalid += 1
            return
        self.received_clips.append((clip.first, clip.n_frames))
        self._cached.append(_Cached(clip.first, frames, clip.clip_id))
        self._cached.sort(key=lambda c: c.first)
        if self.config.clip_cache:
            self._kept[clip.clip_id] = frames
            newest = clip.clip_id  # ids count modulo 2**16: keep the ``clip_cache`` ids up to the newest
            self._kept = {k: v for k, v in self._kept.items() if (newest - k) % (1 << 16) < self.config.clip_cache}
        self.timer.add("receive", time.perf_counter() - t)

    def _reuse(self, reuse: Reuse) -> None:
        """A reuse record: switch to that clip at its frame (one late for it switches at the next frame to play).
        Its id is looked up when the frame plays; one the cache does not hold then is ignored."""
        if reuse.first > self._next + HORIZON_FRAMES:  # no honest record runs this far ahead: forged
            self.clips.invalid += 1
            return
        if not self.config.clip_cache:
            return
        self._switches[max(reuse.first, self._next)] = reuse.clip_id  # ≤ HORIZON_FRAMES + 1 of them

    def _decode_audio(self, samples: int) -> None:
        """Decode spans in order until ``samples`` of audio exist; a span not here by now is lost."""
        while self._decoded < samples:
            data = self._slots.pop(self._next_slot, None)
            if data is None:
                self._lost_slots.add(self._next_slot)
            self._next_slot += 1
            self._emit(self.decoder.decode(data))

    def _emit(self, audio: np.ndarray) -> None:
        if audio.size:
            self._audio.append(audio)
            self._decoded += audio.size
            self._mouths += self.mouth.push(audio)

    def play(self, until: int) -> list[Played]:
        t = time.perf_counter()
        self._decode_audio(math.ceil((until / FPS + self.lookahead) * RATE))
        self.timer.add("audio", time.perf_counter() - t)
        out = []
        while self._next < until and self._next < len(self._mouths):
            k = self._next
            clip = next((c for c in self._cached if c.first <= k < c.end), None)
            if clip is not None:
                image, concealed = clip.frames[k - clip.first], False
            else:
                t = time.perf_counter()
                self._update_reference(k)
                concealed = self._spans_lost(k)
                image = self.head.frame(k, self._mouths[k])
                self.generated.append(k)
                self.timer.add("render", time.perf_counter() - t)
            self.concealed += concealed
            out.append(Played(k, image, concealed))
            self._next += 1
        return out

    def _update_reference(self, k: int) -> None:
        """The newest event by frame k sets the reference: a clip that has ended, or a reuse record (which wins a
        tie: it can only follow that clip). A reuse of a clip the cache does not hold keeps the reference."""
        done = [c for c in self._cached if c.end <= k]
        switches = sorted(f for f in self._switches if f <= k)
        clip_at = done[-1].end if done else -1
        if switches and switches[-1] >= clip_at:
            clip_id = self._switches[switches[-1]]
            frames = self._kept.get(clip_id)
            if frames is not None and clip_id != self._reference:
                self.head.set_reference(frames)
                self._reference = clip_id
                self.reuses_applied.append((k, clip_id))
            elif frames is None and done:  # unknown id: the newest clip ended stays the reference
                self._set_clip(done[-1])
        elif done:
            self._set_clip(done[-1])
        for f in switches:
            del self._switches[f]
        self._cached = [c for c in self._cached if c.end > k]

    def _set_clip(self, clip: _Cached) -> None:
        self.head.set_reference(clip.frames)
        self._reference = clip.clip_id

    def _spans_lost(self, k: int) -> bool:
        """Whether the audio that drives frame ``k`` was lost (its mouth is then that of silence)."""
        first, last = k * FRAME_SAMPLES // self.decoder.span, ((k + 1) * FRAME_SAMPLES - 1) // self.decoder.span
        self._lost_slots = {s for s in self._lost_slots if s >= first}  # bounded: earlier frames are played
        return any(s <= last for s in self._lost_slots)

    def finish(self, end: float) -> Speech:
        self.head.close()
        n = round(end * RATE)
        self._decode_audio(n)
        self._emit(self.decoder.flush())
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.float32)
        self.speech_audio = np.pad(audio[:n], (0, max(0, n - audio.size))).astype(np.float32)
        return Speech(self.speech_audio, RATE)

    def report(self) -> dict:
        return {"concealed_frames": self.concealed, "late_frames": 0, "implausible_frames": 0,
                "garbage_packets": sum(c.garbage for c in self._layers()),
                "wrong_kb_packets": self.clips.wrong_kb + self.audio_in.wrong_kb,
                "packets_recovered": sum(c.recovered for c in (self.clip_fec, self.audio_fec) if c is not None)}

    def _layers(self) -> list:
        """Every stage that refuses what is not ours, FEC decoders first."""
        return [c for c in (self.clip_fec, self.audio_fec, self.clips, self.audio_in) if c is not None]
