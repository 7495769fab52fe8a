"""One simulated call of the face-video path: sender, link and receiver in simulated time."""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.call.run import RunConfig, check_config, config_dict, crop_config, network_config, timed
from semtalk.errors import SemtalkError
from semtalk.generators.face_renderer import FaceRenderer
from semtalk.kb.knowledge_base import KnowledgeBase, kb_hash, kb_tag, read_kb
from semtalk.link.simulated import SimulatedLink
from semtalk.metrics.video import VideoQuality
from semtalk.modes.syncsc.speech import LipCurves
from semtalk.records import StageTimer
from semtalk.semantics.face.encoder import FaceEncoder, FaceTracker
from semtalk.streams.face import FaceDepacketizer, FacePacketizer, FaceStreamFormat
from semtalk.streams.playout import FacePlayout

FPS = 25.0
VIDEOS = ("received.mp4", "side_by_side.mp4")


@dataclass
class FaceCall:
    """A configured call: the input, both knowledge bases (normally one), where outputs go."""

    input_path: Path
    out_dir: Path
    config: RunConfig
    kb: KnowledgeBase
    kb_bytes: bytes
    receiver_kb: KnowledgeBase
    info: object

    @classmethod
    def setup(cls, input_path: str | Path, out_dir: Path, config: RunConfig) -> FaceCall:
        """Probe the input, load or build the KB, and check the receiver holds the same one."""
        from semtalk.enroll.build import KbConfig, build_kb_from_clip
        from semtalk.media.reader import probe

        check_config(config)
        info = probe(input_path)
        if config.kb:
            kb, kb_bytes = read_kb(config.kb)
        else:
            kb_cfg = KbConfig(enroll_seconds=config.enroll_seconds, n_expr=config.n_expr, bits=config.bits,
                              keyframes=config.keyframes, seed=config.seed, voice=config.speech,
                              voice_seconds=config.voice_seconds, lm_text=config.lm_text)
            kb_bytes = build_kb_from_clip(input_path, crop_config(config), kb_cfg).save(out_dir / "kb.stkb")
            kb = KnowledgeBase.from_bytes(kb_bytes)  # exactly what the file (and a later --kb run) holds
        receiver, receiver_bytes = read_kb(config.receiver_kb) if config.receiver_kb else (kb, kb_bytes)
        if kb_hash(receiver_bytes) != kb_hash(kb_bytes):
            raise SemtalkError(f"the receiver's knowledge base {kb_hash(receiver_bytes)[:12]} does not match the "
                               f"stream's {kb_hash(kb_bytes)[:12]}: refusing to render with the wrong speaker model")
        return cls(Path(input_path), out_dir, config, kb, kb_bytes, receiver, info)

    def run(self, tmp: Path) -> dict:
        from semtalk.media.reader import iter_audio, read_video
        from semtalk.media.writer import VideoWriter
        from semtalk.media.y4m import Y4mWriter
        from semtalk.metrics.vmaf import vmaf

        cfg, kb = self.config, self.kb
        timer = StageTimer()
        fmt = FaceStreamFormat(n_coeffs=kb.face_model.n_coeffs, bits=kb.quantizer.bits, kb_tag=kb_tag(self.kb_bytes),
                               fps=FPS, frames_per_packet=cfg.frames_per_packet)
        link = SimulatedLink(network_config(cfg))
        tracker = FaceTracker(kb.crop, kb.ref_box)
        encoder = FaceEncoder(kb.face_model, kb.quantizer)
        if cfg.fec.startswith("pacsc"):  # the learned code replaces the face payload: its rows are the packets
            packetizer, depacketizer = link.fec.coders(fmt, self.receiver_kb.reference.codes)
        else:
            packetizer, depacketizer = FacePacketizer(fmt), FaceDepacketizer(fmt)
        rx = self.receiver_kb
        renderer = FaceRenderer(rx)
        playout = FacePlayout(rx.quantizer, rx.quantizer.dequantize(rx.reference.codes))
        latency = link.latency(cfg.frames_per_packet, FPS)
        # Frames the KB was built from are not scored; a KB from another clip leaves every frame held out.
        same_clip = kb.info.get("source", {}).get("path") == str(self.input_path)
        enroll_frames = int(kb.info.get("enroll_frames", 0)) if same_clip else 0
        quality, heldout = VideoQuality(), [math.inf, -1]
        originals: deque[tuple[int, np.ndarray]] = deque()
        counts = {"frames": 0, "no_face": 0, "concealed": 0}
        duration = self.info.duration if cfg.max_seconds is None else min(self.info.duration, cfg.max_seconds)
        # With speech on, the video is written silent and the synthesised speech is muxed in afterwards;
        # with it off, the original audio passes through for listening (not part of the stream).
        speaking = cfg.speech and self.info.has_audio
        audio_rate = 16000 if self.info.has_audio and not speaking else None
        audio = iter_audio(self.input_path, rate=16000, duration=duration) if audio_rate else iter([])
        lips = LipCurves(rx.face_model, measure_output=speaking) if speaking else None
        video_dir = tmp if speaking else self.out_dir
        progress = _progress(cfg.progress, total=round(duration * FPS), desc=self.input_path.name)

        with contextlib.ExitStack() as stack:
            writers = []
            if cfg.write_video:
                writers = [stack.enter_context(VideoWriter(video_dir / name, FPS, audio_rate=audio_rate))
                           for name in VIDEOS]
            y4m_ref = stack.enter_context(Y4mWriter(tmp / "ref.y4m", FPS)) if cfg.vmaf else None
            y4m_out = stack.enter_context(Y4mWriter(tmp / "out.y4m", FPS)) if cfg.vmaf else None

            def deliver(now: float) -> None:
                t = time.perf_counter()
                for pkt in link.deliver(now):
                    for frame in depacketizer(pkt):
                        playout.push(frame)
                timer.add("receive", time.perf_counter() - t)

            def play(until: int) -> None:
                if cfg.fec.startswith("pacsc"):  # blocks with lost rows are decoded when their first frame is due
                    t = time.perf_counter()
                    for frame in depacketizer.due(until):
                        playout.push(frame)
                    timer.add("receive", time.perf_counter() - t)
                for face in playout.pop(until):
                    t = time.perf_counter()
                    image = renderer(face.coeffs)
                    timer.add("render", time.perf_counter() - t)
                    if lips is not None:
                        t = time.perf_counter()
                        lips.played(face.coeffs, image)
                        timer.add("lips", time.perf_counter() - t)
                    index, original = originals.popleft()
                    assert index == face.index, "play-out and capture out of step"
                    counts["concealed"] += face.concealed
                    t = time.perf_counter()
                    if index >= enroll_frames:
                        quality.update(original, image)
                        heldout[0], heldout[1] = min(heldout[0], index), index
                        if y4m_ref is not None:
                            y4m_ref.write(original)
                            y4m_out.write(image)
                    timer.add("metrics", time.perf_counter() - t)
                    t = time.perf_counter()
                    if writers:
                        writers[0].write(image)
                        writers[1].write(np.hstack([original, image]))
                        for chunk in _audio_until(audio, writers, (index + 1) / FPS):
                            for w in writers:
                                w.write_audio(chunk)
                    timer.add("write", time.perf_counter() - t)
                    progress.update(1)

            frames = timed(iter(read_video(self.input_path, fps=FPS, duration=duration)), timer, "decode")
            for index, rgb in enumerate(frames):
                t = time.perf_counter()
                tracked = tracker.track(index, rgb)
                timer.add("landmarks", time.perf_counter() - t)
                t = time.perf_counter()
                coded = encoder(tracked)
                counts["frames"] += 1
                counts["no_face"] += not coded.face_found
                originals.append((tracked.index, tracked.crop))
                if lips is not None:
                    lips.sent(tracked.points)
                timer.add("encode", time.perf_counter() - t)
                t = time.perf_counter()
                now = (tracked.index + 1) / FPS
                _send(link, packetizer.push(coded), now)
                timer.add("send", time.perf_counter() - t)
                deliver(now)
                play(min(tracked.index + 1, math.floor((now - latency) * FPS + 1e-9) + 1))
            end = counts["frames"] / FPS
            _send(link, packetizer.flush(), end)
            link.close(end)
            deliver(math.inf)
            play(counts["frames"])
            tracker.close()
            if lips is not None:
                lips.close()
            progress.close()
            for chunk in audio if writers else ():
                for w in writers:
                    w.write_audio(chunk)
        if counts["frames"] == 0:
            raise SemtalkError(f"{self.input_path}: no video frames decoded")
        vmaf_score = vmaf(tmp / "ref.y4m", tmp / "out.y4m") if cfg.vmaf and quality.frames else None
        report = self._report(timer, quality, heldout, counts, packetizer, depacketizer, link, playout, encoder,
                              vmaf_score, duration)
        if speaking:
            report["speech"] = self._speech(duration, lips, tmp if cfg.write_video else None)
            report["audio"] = {"mode": "synthesized", "note": "speech regenerated at the receiver from the words sent"}
        return report

    def _speech(self, duration: float, lips: LipCurves, silent_videos: Path | None) -> dict:
        """The speech path, once the face stream has been played (its lip curve places untimed words)."""
        from semtalk.generators.voice import voice_adapter
        from semtalk.media.reader import read_audio
        from semtalk.media.writer import mux_audio, write_wav
        from semtalk.modes.syncsc.speech import RATE, speech_call
        from semtalk.modes.syncsc.speech_report import speech_report

        cfg = self.config
        original = _exact_length(read_audio(self.input_path, rate=RATE, duration=duration), duration)
        profile = self.receiver_kb.voice_profile
        adapter = voice_adapter(profile) if profile is not None else None
        adapt = adapter if cfg.voice_adapt else None
        alternate = None if adapter is None else (False if cfg.voice_adapt else adapter)
        outcome = speech_call(original, duration, network_config(cfg), window=cfg.text_window, prosody=cfg.prosody,
                              kb_tag=kb_tag(self.kb_bytes), adapt=adapt, lip_curve=lips.received, fps=FPS,
                              seed=cfg.seed, alternate=alternate, language=self.receiver_kb.language)
        write_wav(self.out_dir / "received.wav", outcome.audio, RATE)
        if silent_videos is not None:
            for name in VIDEOS:
                mux_audio(silent_videos / name, outcome.audio, RATE, self.out_dir / name)
        transcript = Path(cfg.transcript).read_text(encoding="utf-8") if cfg.transcript else None
        report = speech_report(outcome, original, duration, transcript=transcript, voice_seconds=cfg.voice_seconds,
                               mouth_out=lips.output, mouth_original=lips.original, fps=FPS,
                               adapted=adapt is not None)
        return report

    def _report(self, timer, quality, heldout, counts, packetizer, depacketizer, link, playout, encoder,
                vmaf_score, duration) -> dict:
        from semtalk.kb.info import describe

        n = counts["frames"]
        seconds = n / FPS
        q = quality.compute()
        rtp_bits = 8 * (packetizer.payload_bits // 8 + 12 * packetizer.packets)
        return {
            "input": str(self.input_path),
            "config": config_dict(self.config),
            "kb": {k: v for k, v in describe(self.kb, self.kb_bytes).items() if k in ("hash", "bytes", "keyframes",
                                                                                     "mouth_atlas", "info")},
            "video": {
                "frames": n,
                "fps": FPS,
                "coefficients_per_frame": self.kb.face_model.n_coeffs,
                "bits_per_frame": round(packetizer.payload_bits / max(n, 1), 2),
                "stream_kbps": round(packetizer.payload_bits / seconds / 1000, 3),
                "rtp_kbps": round(rtp_bits / seconds / 1000, 3),
                "channel_kbps": round(8 * link.sent_bytes / seconds / 1000, 3),
                "kb_bytes": len(self.kb_bytes),
                "heldout_frames": [int(heldout[0]), int(heldout[1])] if heldout[1] >= 0 else None,
                "psnr": _r(q["psnr"]), "ssim": _r(q["ssim"], 4), "ms_ssim": _r(q["ms_ssim"], 4),
                "vmaf": _r(vmaf_score), "metric_frames": q["frames"],
                "no_face_frames": counts["no_face"], "concealed_frames": counts["concealed"],
                "clipped_frames": encoder.clipped,
                "ms_per_frame": timer.ms_per_frame(n),
                "realtime_factor": round(sum(timer.seconds.values()) / max(seconds, 1e-9), 3),
            },
            "network": {
                "packets_sent": link.sent_packets, "source_packets": link.source_packets,
                "packets_lost": link.lost, "packets_recovered": link.recovered,
                "loss_rate": round(link.lost / max(link.sent_packets, 1), 4),
                "channel": link.config.channel_name, "loss": self.config.loss, "burst": self.config.burst,
                "fec": self.config.fec, "code_rate": round(link.fec.code_rate, 4), "fec_k": link.fec.k,
                "frames_per_packet": self.config.frames_per_packet,
                "latency_ms": round(1000 * link.latency(self.config.frames_per_packet, FPS), 1),
                "late_frames": playout.late, "garbage_packets": depacketizer.garbage,
                "wrong_kb_packets": depacketizer.wrong_kb,
            },
            "audio": {"mode": "passthrough", "note": "original audio is muxed for listening; it is not part of the "
                      "semantic stream"} if self.info.has_audio else {"mode": "none", "note": "the input has no audio"},
            "duration_s": round(duration, 3),
        }


def _exact_length(audio: np.ndarray, duration: float) -> np.ndarray:
    """The input's audio padded with silence to the call's duration (streams may end early)."""
    n = round(duration * 16000)
    return np.pad(audio[:n], (0, max(0, n - audio.size))).astype(np.float32)


def _send(link: SimulatedLink, packets: bytes | list[bytes] | None, now: float) -> None:
    """The face payload gives a packet or None, PacSC a block's rows at once."""
    for packet in packets if isinstance(packets, list) else [packets]:
        link.send(packet, now)


def _r(value, digits: int = 3):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), digits)


def _audio_until(audio, writers, t: float):
    """Audio chunks to push so the audio keeps about one chunk ahead of the video."""
    w = writers[0]
    while w.audio_rate and w.audio_pushed < (t + 0.5) * w.audio_rate:
        chunk = next(audio, None)
        if chunk is None:
            return
        yield chunk


def _progress(enabled: bool, total: int, desc: str):
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing in logs and CI.
    return tqdm(total=total, desc=desc, unit="frame", disable=None if enabled else True, leave=False)
