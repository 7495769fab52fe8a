"""The live call: ``send`` (here) and ``receive`` (``call.live_receive``) run the two halves of the call loop
(``call.loop``) in two processes, over real UDP (``transport``), on the wall clock; ``semtalk call --loopback``
(``cli.live``) runs both (and optionally ``semtalk relay``) on 127.0.0.1 for a one-command demo.

    send:    file/camera at real time → SyncSC sender → SendLink (SRTP, SR + APP, RR in → FEC rate)
    receive: ReceiveLink (SRTP, RR out, SR → media clock) → SyncSC receiver → adaptive play-out → received.mp4

Both ends hold the same KB (``--kb``) and the same stream settings; the sender's APP "hello" carries the KB hash
and the settings, and the receiver refuses a call that does not match them. The sender's wall clock at media
time 0 reaches the receiver through the SR (NTP ↔ RTP of the video stream), which turns every frame index into a
capture time: video latency is render time − capture time (exact on one host; across hosts it needs NTP-synced
clocks). Speech: the sender runs ASR on windows of ``asr_window`` seconds as the call goes (on a worker thread)
and sends each window's words; the receiver synthesises the call's speech track when the call ends (SyncSC's TTS
is a whole-call pass), so the reported speech latency is mouth → words at the receiver, which the ASR window
dominates.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk import registry
from semtalk.call import live_profile
from semtalk.call.loop import SendSide, WallClock, frame_time
from semtalk.errors import SemtalkError
from semtalk.modes.syncsc.mode import SyncscConfig
from semtalk.records import StageTimer

# SyncSC's streams: 0 face coefficients (+ FEC repair), 1 words (+ FEC repair), 2 KB refreshes (+ FEC repair;
# idle without --refresh-kbps)
SESSIONS = 3
PASSPHRASE_ENV = "SEMTALK_PASSPHRASE"
HELLO_FIELDS = ("mode", "fec", "fec_k", "frames_per_packet", "video_kbps", "speech", "text_window", "prosody",
                "seed", "refresh_kbps", "refresh_ssim", "refresh_codec", "refresh_quality", "flow_grid")


@dataclass(frozen=True)
class LiveConfig:
    """The settings both ends must share (``HELLO_FIELDS``) and each end's own.

    ``secret``: the SRTP secret (None with ``insecure``); ``code_rate``: the sender's FEC rate; with ``adapt`` it
    follows the receiver's reported loss within [``min_code_rate``, ``max_code_rate``] (the RS decoder takes a
    repair block of any ``n`` up to the header's 255, so the receiver follows without being told).
    """

    kb: str
    mode: str = "syncsc"
    # The stream's fields are the mode's own (``modes.syncsc.mode.SyncscConfig``); the block's size and the face
    # rate default to the live profile (``call.live_profile``: a 120 ms block), the rest to the mode's defaults.
    fec: str = SyncscConfig.fec
    code_rate: float = SyncscConfig.code_rate
    fec_k: int = live_profile.FEC_K
    frames_per_packet: int = live_profile.FRAMES_PER_PACKET
    video_kbps: float | None = live_profile.VIDEO_KBPS
    flow_grid: int = live_profile.FLOW_GRID
    refresh_kbps: float = SyncscConfig.refresh_kbps
    refresh_ssim: float = SyncscConfig.refresh_ssim
    refresh_codec: str = SyncscConfig.refresh_codec
    refresh_quality: int = SyncscConfig.refresh_quality
    speech: bool = SyncscConfig.speech
    text_window: int = SyncscConfig.text_window
    prosody: bool = SyncscConfig.prosody
    seed: int = SyncscConfig.seed
    secret: bytes | None = None
    insecure: bool = False
    profile: str = "aes_cm_128_hmac_sha1_80"
    pcap: str | None = None
    asr_window: float = 5.0
    max_seconds: float | None = None
    adapt: bool = True
    min_code_rate: float = 0.25
    max_code_rate: float = 0.8
    wait: float = 30.0  # the receiver's wait for a sender, and for more datagrams once the call is on
    host: str = "127.0.0.1"
    view: bool = False  # serve the viewer page (``viewer.server``) on 127.0.0.1:``view_port`` (0: any)
    view_port: int = 0
    skip_after: float = live_profile.SKIP_AFTER_S  # inf: render every frame, however late


def load_secret(key_file: str | None, insecure: bool) -> bytes | None:
    """The SRTP secret: the bytes of ``key_file``, else ``$SEMTALK_PASSPHRASE``; None only with ``--insecure``."""
    if insecure:
        return None
    if key_file:
        try:
            secret = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise SemtalkError(f"--key-file: cannot read {key_file} ({exc.strerror or exc})") from exc
    else:
        secret = os.environ.get(PASSPHRASE_ENV, "").encode()
    if not secret:
        raise SemtalkError(f"no SRTP key: give --key-file FILE or set {PASSPHRASE_ENV} (the same on both ends), "
                           "or --insecure to call without encryption")
    return secret


def build_mode(config: LiveConfig):
    """The mode both ends build from the shared KB and settings (as ``semtalk run`` would)."""
    from semtalk.call.run import RunConfig, check_config
    from semtalk.kb.knowledge_base import read_kb
    from semtalk.records import config_from

    if config.mode != "syncsc":
        raise SemtalkError(f"the live call carries --mode syncsc only for now, got '{config.mode}'")
    run_config = config_from(RunConfig, config)
    check_config(run_config)
    try:
        kb, kb_bytes = read_kb(config.kb)
    except (OSError, ValueError) as exc:
        raise SemtalkError(f"--kb: cannot read {config.kb} ({exc})") from exc
    return registry.get("mode", config.mode).build(run_config, kb, kb_bytes, kb)


def stream_config(config: LiveConfig) -> SyncscConfig:
    """The mode's settings the call runs with: as ``build_mode`` makes them (the rate target may group more
    frames per packet than asked), computed without a KB."""
    from semtalk.call.run import RunConfig
    from semtalk.records import config_from

    return registry.get("mode", config.mode).build(config_from(RunConfig, config), None, b"", None).config


def structural_delay(config: LiveConfig) -> float:
    """The play-out delay the FEC block alone takes (the receiver's ``latency`` before the network margin):
    (frames per packet · k + 1) / fps, from the settings the call runs with."""
    from semtalk.modes.syncsc.mode import FPS

    stream = stream_config(config)
    return (stream.frames_per_packet * max(1, stream.code().k) + 1) / FPS


def make_wire(config: LiveConfig, ports, sending: str):
    from semtalk.transport.pcap import PcapWriter
    from semtalk.transport.rtp_link import Wire
    from semtalk.transport.srtp import Protector, master_secret

    protectors = None
    if not config.insecure:
        master = master_secret(config.secret)
        protectors = [Protector.for_session(master, i, sending, config.profile) for i in range(SESSIONS)]
    return Wire(ports, protectors, PcapWriter(config.pcap) if config.pcap else None)


def stream_clocks(fps: float) -> list[tuple[int, float]]:
    """RTP clock and media time of timestamp 0 per stream: face frame k (ts k·3600) is captured at (k+1)/fps;
    a word's timestamp is its start in ms; a refresh's is its frame's on the video clock."""
    return [(90_000, 1 / fps), (1000, 0.0), (90_000, 1 / fps)]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def hello(config: LiveConfig, mode) -> dict:
    from semtalk.kb.knowledge_base import kb_hash

    return {"kb": kb_hash(mode.kb_bytes), "fps": mode.fps, **{f: getattr(config, f) for f in HELLO_FIELDS}}


# ----------------------------------------------------------------------------------------------------- sender


def frames_of(source: str, fps: float, duration: float | None) -> Iterator[np.ndarray]:
    """A file's frames at ``fps``, or a camera's (``/dev/videoN`` through PyAV's v4l2 input)."""
    from semtalk.media.reader import read_video

    check_source(source)
    if source.startswith("/dev/video"):
        import av

        container = av.open(source, format="v4l2")
        return (f.to_ndarray(format="rgb24") for f in container.decode(video=0))
    return read_video(source, fps=fps, duration=duration)


def check_source(source: str) -> None:
    """One line, before anything is built, for a camera or file that is not there."""
    if source.startswith("/dev/video"):
        if not Path(source).exists():
            raise SemtalkError(f"no camera at {source} on this machine: give a video file to play at real time")
    elif not Path(source).is_file():
        raise SemtalkError(f"{source}: no such file (give a video file, or /dev/videoN for a camera)")


def smoothed_loss(previous: float, reported: float) -> float:
    """The loss the FEC is sized for: follows a higher report at once (losing frames costs more than repair
    packets) and a lower one slowly (EWMA 0.2): a report over half a second may see no loss by luck."""
    return reported if reported > previous else 0.8 * previous + 0.2 * reported


def adapt_code_rate(sender, fraction_lost: float, config: LiveConfig, k: int | None = None) -> float | None:
    """Closed-loop FEC: the RS rate k/n for a reported loss ``fraction_lost`` (repair for twice the loss plus
    a floor, bounded), set on the sender's face encoder for its next block; None when the code has no rate.
    ``k``: the block's source packets, so that a small block keeps at least one repair packet."""
    from semtalk.fec.reed_solomon import RsEncoder

    encoder = getattr(getattr(sender, "face", None), "encoder", None)
    if not isinstance(encoder, RsEncoder):
        return None
    target = min(config.max_code_rate, max(config.min_code_rate, 1.0 - (2.0 * fraction_lost + 0.05)))
    if k is not None and target < 1 and round(k / target) <= k:
        # the code takes n = round(k / rate): k = 2 at 0.8 would round n = 2.5 down to 2, no FEC at all
        target = k / (k + 1)
    return encoder.set_code_rate(target)


class _Words:
    """Windowed ASR on a worker thread: every ``window`` s of audio becomes words sent as soon as they are known."""

    def __init__(self, sender, audio: np.ndarray | None, window: float, rate: int = 16000) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.speech = getattr(sender, "speech", None) if audio is not None else None
        self.audio, self.window, self.rate = audio, window, rate
        self.done = 0.0  # media time up to which audio was handed to ASR
        self.pending: list = []
        self.sent: list[tuple[float, float]] = []  # (word end, send time)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semtalk-asr") if self.speech else None

    def _recognise(self, start: float, end: float):
        chunk = self.audio[round(start * self.rate):round(end * self.rate)]
        if chunk.size < self.rate // 10:
            return []
        return [dataclasses.replace(w, start=w.start + start, end=w.end + start)
                for w in self.speech.recognise(chunk)]

    def close(self, now: float) -> None:
        """The input ended: ASR on the rest of the audio (``ready()`` tells when it is done)."""
        if self.speech is not None:
            self.step(float("inf"), now, start_rest=True)

    def ready(self) -> bool:
        return all(f.done() for f in self.pending)

    def step(self, captured: float, now: float, final: bool = False, start_rest: bool = False) -> list[bytes]:
        """Audio captured up to ``captured`` (media time): start ASR on a full window; the datagrams of the words
        ready at ``now`` (all of them when ``final``)."""
        if self.speech is None:
            return []
        end = min(captured, self.audio.size / self.rate)
        if (start_rest and end > self.done) or end - self.done >= self.window:
            self.pending.append(self.pool.submit(self._recognise, self.done, end))
            self.done = end
        out = []
        while self.pending and (final or self.pending[0].done()):
            for w in self.pending.pop(0).result():
                self.speech.words.append(w)
                out += self.speech.stream.push(w)
                self.sent.append((w.end, now))
        if final:
            out += self.speech.stream.flush()
            self.pool.shutdown()
        return out


def send(source: str, to: tuple[str, int], config: LiveConfig, progress=None, via=None) -> dict:
    """Play ``source`` at real time to ``to``; the sender's totals (also sent to the receiver in the APP "end").
    ``via``: ``(address, rewrite)`` to send the RTP through an SFU's ingress (``transport.janus``) while RTCP goes
    to ``to`` directly."""
    from semtalk.modes.base import Outgoing
    from semtalk.transport.rtp_link import SendLink
    from semtalk.transport.udp import UdpPorts

    check_source(source)
    mode = build_mode(config)
    frames = frames_of(source, mode.fps, config.max_seconds)
    audio = None
    if config.speech and not source.startswith("/dev/"):
        from semtalk.call.run import _exact_length
        from semtalk.media.reader import probe

        info = probe(source)
        if info.has_audio:
            duration = info.duration if config.max_seconds is None else min(info.duration, config.max_seconds)
            audio = _exact_length(source, duration)
    timer = StageTimer()
    sender = mode.sender(timer)
    host = "127.0.0.1" if to[0].startswith("127.") else "0.0.0.0"
    with UdpPorts(SESSIONS, host, 0, peer=to) as ports:
        wire = make_wire(config, ports, "forward")
        if via is not None:
            wire.via, wire.rewrite = via
        link = SendLink(wire, 0.0, stream_clocks(mode.fps), hello(config, mode))
        side = SendSide(sender, link, timer, mode.fps)
        words = _Words(sender, audio, config.asr_window)
        first = next(iter(frames), None)
        if first is None:
            raise SemtalkError(f"{source}: no video frames decoded")
        # Frame 0 is encoded before the clock starts: the sender's first frame pays for its models' lazy start
        # (seconds on a loaded machine), which would otherwise make the first second's frames late.
        side.frame(0, first, frame_time(0, mode.fps))
        clock = WallClock(time.monotonic() - frame_time(0, mode.fps))
        link.origin = time.time() - clock.now()
        cpu0 = cpu_seconds()
        link.tick(clock.now(), force=True)
        rates = []
        loss = 0.0  # the reported loss, smoothed: one report covers only a few packets at these rates
        now = clock.now()
        for index, rgb in enumerate(frames, start=1):
            now = clock.wait(frame_time(index, mode.fps))
            link.lag = now - frame_time(index, mode.fps)
            side.frame(index, rgb, now)
            side.send([Outgoing(1, words.step(frame_time(index, mode.fps), now), now)])
            for session, block in link.tick(now):
                if session == 0 and config.adapt and block.ssrc != 0xFEC0FEC0:
                    loss = smoothed_loss(loss, block.fraction_lost / 256)
                    rate = adapt_code_rate(sender, loss, config, mode.code.k)
                    if rate is not None and (not rates or rates[-1][1] != round(rate, 4)):
                        rates.append((round(now, 2), round(rate, 4)))
            if progress is not None:
                progress(index + 1)
        words.close(clock.now())
        end_of_capture = frame_time(side.count - 1, mode.fps)
        while not words.ready():  # the last ASR window: the capture clock has stopped, the SRs say so
            link.lag = clock.now() - end_of_capture
            link.tick(clock.now())
            time.sleep(0.05)
        side.send([Outgoing(1, words.step(float("inf"), clock.now(), final=True), clock.now())])
        end = side.finish(None)  # the face code's last block; the words went above
        cpu = cpu_seconds() - cpu0
        totals = {"frames": side.count, "duration_s": round(end, 3), "cpu_s": round(cpu, 3),
                  "cpu_fraction": round(cpu / max(clock.now(), 1e-9), 3),
                  "cpu_per_media_s": round(cpu / max(end, 1e-9), 3),
                  "wall_realtime_factor": round(clock.now() / max(end, 1e-9), 3),
                  "packets": link.wire.sent_packets, "bytes": link.wire.sent_bytes,
                  "frames_per_packet": mode.config.frames_per_packet, "fec_k": mode.code.k,
                  # the face stream's cost: its coded payload, and its session on the wire (RTP headers, SRTP
                  # tags, FEC repair and RTCP included; UDP/IP headers not)
                  "video_payload_kbps": round(sender.face.payload_bits / max(end, 1e-9) / 1000, 3),
                  "video_wire_kbps": round(8 * link.wire.session_bytes.get(0, 0) / max(end, 1e-9) / 1000, 3),
                  "refresh_frames": sender.refresh.frames if sender.refresh is not None else [],
                  "refresh_payload_kbps": round((sender.refresh.bits if sender.refresh is not None else 0)
                                                / max(end, 1e-9) / 1000, 3),
                  "code_rate_log": rates, "loss_estimate": round(loss, 4),
                  "rtt_ms": ms(statistics.median(link.rtt)) if link.rtt else None,
                  "words": len(words.sent),
                  "speech_send_delay_ms_p50": ms(statistics.median([s - e for e, s in words.sent]))
                  if words.sent else None,
                  "ms_per_frame": timer.ms_per_frame(side.count)}
        link.close(clock.now(), totals)
        if link.wire.pcap is not None:
            link.wire.pcap.close()
    return totals


def ms(seconds: float) -> float:
    return round(1000 * seconds, 1)
