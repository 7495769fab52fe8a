"""The live call's receiving end (``semtalk recv``): the receive half of the call loop on the wall clock.

    ReceiveLink (SRTP, RR out, SR → media clock) → SyncSC receiver → adaptive play-out → received.mp4 (+ viewer)

The play-out clock is the sender's capture clock as its latest SR maps it (so a sender that falls behind real time
slows the play-out instead of having its frames concealed); latency is measured on its first SR's mapping, the
ideal capture clock. See ``call.live`` for the protocol and ``streams.jitter`` for the adaptive delay.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import time
from pathlib import Path

import numpy as np

from semtalk.atomic import StagedFiles
from semtalk.call.live import (
    HELLO_FIELDS,
    SESSIONS,
    LiveConfig,
    build_mode,
    cpu_seconds,
    hello,
    make_wire,
    ms,
    stream_clocks,
)
from semtalk.call.loop import ReceiveSide, due_frames, frame_time
from semtalk.errors import SemtalkError
from semtalk.records import StageTimer

MAX_LAG_S = 60.0  # the most a slow receiver's play-out may trail the arriving frames before they are refused


class _Video:
    """The received video as it is played: frames written in order, and each frame's capture-to-render latency."""

    def __init__(self, path: Path, fps: float, clock, viewer=None) -> None:
        """``clock()``: media time on the sender's ideal capture clock (its first SR's): a frame captured late
        by a sender that fell behind counts that delay in its latency."""
        from semtalk.media.writer import VideoWriter

        # x264's fastest preset: the file is written as the call plays, on the receiver's one core (2 ms of CPU a
        # frame against 6.5 at "veryfast"); crf 18 keeps it visually lossless, only larger.
        self.writer = VideoWriter(path, fps, preset="ultrafast")
        self.fps, self.clock, self.viewer = fps, clock, viewer
        self.latency: list[float] = []  # of the frames rendered (a skipped frame is never shown)
        self.start_late: list[float] = []  # how late (s) past its play-out time each rendered batch began
        self.order: list[int] = []
        self.concealed = 0
        self.skipped = 0  # played without rendering: already late, a newer frame was due (``ReceiveSide``)
        self.rendered = 0  # from received data, rendered (not concealed, not skipped)
        self.concealed_at: list[int] = []  # the first concealed frames' indices (diagnosis)

    def __call__(self, played, skipped: bool = False) -> None:
        """A played frame; ``skipped``: not rendered, its picture is the last one rendered (the file keeps
        every frame's slot, so it stays in time)."""
        if skipped:
            self.skipped += 1
        else:
            self.latency.append(self.clock() - frame_time(played.index, self.fps))
            self.rendered += not played.concealed
        self.order.append(played.index)
        self.concealed += played.concealed
        if played.concealed and len(self.concealed_at) < 20:
            self.concealed_at.append(played.index)
        self.writer.write(played.image)
        if self.viewer is not None and not skipped:
            self.viewer.frame(played.image, played.concealed)


def receive(port: int, out_dir: Path, config: LiveConfig, ready=None) -> dict:
    """Listen on ``port`` (… ``port + SESSIONS - 1``) for one call; write received.mp4 (with the regenerated
    speech), received.wav and report.json into ``out_dir``, all or none. ``ready()`` is called once the
    ports are bound and the mode is built (``call --loopback`` starts the sender then)."""
    from semtalk.call.run import check_output_dir
    from semtalk.streams.jitter import AdaptiveDelay
    from semtalk.transport.rtp_link import ReceiveLink
    from semtalk.transport.udp import UdpPorts

    check_output_dir(out_dir)
    mode = build_mode(config)
    mine = hello(config, mode)
    timer = StageTimer()
    receiver = mode.receiver(timer)
    with contextlib.ExitStack() as stack:
        staged = stack.enter_context(StagedFiles(out_dir))
        ports = stack.enter_context(UdpPorts(SESSIONS, config.host, port))
        viewer = _viewer(config, stack)
        link = ReceiveLink(make_wire(config, ports, "back"), stream_clocks(mode.fps))
        _warm_up(receiver, mode)
        if ready is not None:
            ready()
        early = _wait_for_sender(link, ports, config, mine)
        if viewer is not None:
            viewer.state = "in a call"
        origin = link.first_origin

        def media_now() -> float:
            """Media time on the sender's capture clock (the latest SR's mapping): what play-out follows."""
            return time.time() - link.origin

        video = _Video(staged.scratch / "video.mp4", mode.fps, lambda: time.time() - origin, viewer)
        side = ReceiveSide(receiver, link, timer, mode.fps, video, skip=config.skip_after < math.inf)
        delay = AdaptiveDelay(base=receiver.latency)
        for stream, datagram in early:
            receiver.receive(stream, datagram)
        cpu0 = cpu_seconds()
        words_latency: list[float] = []
        start = time.time()
        with video.writer:
            fpp = getattr(getattr(mode, "config", None), "frames_per_packet", config.frames_per_packet)
            while True:
                now = media_now()
                _widen_horizon(receiver, now - delay.delay - side.played / mode.fps, delay.delay, mode.fps)
                side.deliver(now)
                _arrivals(link, origin, delay, mode.fps, words_latency)
                face = [s for (i, ssrc), s in link.stats.items() if i == 0 and ssrc != 0xFEC0FEC0]
                jitter = max((s.jitter_seconds for s in face), default=0.0)
                delay.update(now, statistics.median(link.owd) if link.owd else 0.0, jitter)
                total = None if link.end is None else int(link.end.get("frames", 0))
                until = due_frames(now, delay.delay, mode.fps)
                late = due_frames(now - config.skip_after, delay.delay, mode.fps)  # past their time: not rendered
                # Never past what the sender has shown it captured (a stalled sender freezes the picture rather
                # than having frames it has not made yet concealed); the end message gives the last frame.
                captured = link.highest_timestamp.get(0, 0) * mode.fps / 90_000 + fpp
                until = min(until, round(captured)) if total is None else min(until, total)
                if until > side.played:
                    video.start_late.append(now - delay.delay - (until - 1) / mode.fps)
                side.play(until, late)
                link.tick(now, time.time())
                if viewer is not None:
                    _plot(viewer, link, video, delay, jitter, now)
                if total is not None and side.played >= total:
                    break
                if link.last_arrival is not None and time.time() - link.last_arrival > config.wait:
                    break  # the sender vanished without its end message: play what came
                # until a datagram comes or the next frame is due (no frame waits on the poll); a frame already due
                # but not yet here waits for its datagram
                due_in = delay.delay + side.played / mode.fps - media_now()
                ports.wait(min(0.5 / mode.fps, due_in) if due_in > 0 else 0.5 / mode.fps)
            side.play(side.played)  # nothing further: the call has ended
        cpu = cpu_seconds() - cpu0  # the real-time part: the speech track is synthesised after it
        elapsed = time.time() - start
        t = time.perf_counter()
        speech = receiver.finish(max(side.played, 1) / mode.fps)
        timer.add("speech_track", time.perf_counter() - t)
        if link.wire.pcap is not None:
            link.wire.pcap.close()
        report = _report(config, mode, receiver, link, video, delay, words_latency, cpu, elapsed, timer)
        _write_outputs(staged, video, speech)
        staged.path("report.json").write_text(json.dumps(report, indent=2, default=_json))
        staged.commit()
        if viewer is not None:
            viewer.state = "call ended"
    return report


def _warm_up(receiver, mode) -> None:
    """Render the KB's reference face once before the call: the renderer's lazy start would otherwise make the
    first frames seconds late (SyncSC's renderer; other modes skip this)."""
    renderer, kb = getattr(receiver, "renderer", None), getattr(mode, "receiver_kb", None)
    if renderer is not None and kb is not None:
        renderer(kb.quantizer.dequantize(kb.reference.codes))


def _viewer(config: LiveConfig, stack: contextlib.ExitStack):
    if not config.view:
        return None
    from semtalk.viewer.server import Viewer

    viewer = Viewer(config.view_port)
    print(f"viewer: {viewer.start()}", flush=True)
    stack.callback(viewer.close)
    return viewer


def _plot(viewer, link, video: _Video, delay, jitter: float, now: float) -> None:
    """A point of the viewer's plots every half second: kbit/s since the last one, loss so far, jitter,
    play-out delay, the last frame's latency."""
    last = viewer.series[-1] if viewer.series else None
    if last is not None and now - last["t"] < 0.5:
        return
    bytes_now = link.wire.received_bytes
    kbps = 0.0 if last is None else 8 * (bytes_now - last["bytes"]) / max(now - last["t"], 1e-3) / 1000
    face = [s for (i, _), s in link.stats.items() if i == 0]
    expected = sum(s.expected for s in face)
    loss = sum(max(0, s.lost) for s in face) / max(expected, 1)
    viewer.sample(t=now, bytes=bytes_now, kbps=kbps, loss=loss, jitter_ms=1000 * jitter,
                  delay_ms=1000 * delay.delay, latency_ms=1000 * video.latency[-1] if video.latency else 0.0)


def _widen_horizon(receiver, lag: float, delay: float, fps: float) -> None:
    """A receiver that renders slower than real time plays behind the frames arriving: they are honest, yet
    further ahead of its play-out than the mode's horizon allows (``streams.playout``), and would be refused as
    forged. The horizon grows with the measured lag (at most ``MAX_LAG_S``), so late frames are rendered late
    rather than concealed, and the latency reports the lag."""
    playout = getattr(receiver, "playout", None)
    if playout is None or lag <= 0:
        return
    playout.horizon = max(playout.horizon, math.ceil((min(lag, MAX_LAG_S) + delay + 2) * fps))


def _wait_for_sender(link, ports, config: LiveConfig, mine: dict) -> list[tuple[int, bytes]]:
    """Datagrams until the sender's hello and its first video SR have come (kept: the first packets may come with
    them); refuses a sender whose KB or settings differ."""
    early: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + config.wait
    while link.hello is None or link.origin is None:
        if not ports.wait(deadline - time.monotonic()):
            raise SemtalkError(f"no sender reached port {ports.address(0)[1]} within {config.wait:g} s")
        early += list(link.deliver(0.0))[-4096:]
    theirs = link.hello
    if theirs.get("kb") != mine["kb"]:
        raise SemtalkError(f"the sender's knowledge base {str(theirs.get('kb'))[:12]} does not match this "
                           f"receiver's {mine['kb'][:12]}: refusing to render with the wrong speaker model")
    differ = [f for f in HELLO_FIELDS if theirs.get(f) != mine[f]]
    if differ:
        raise SemtalkError("the sender's stream settings differ: " + ", ".join(
            f"--{f.replace('_', '-')} {theirs.get(f)} (here {mine[f]})" for f in differ))
    return early


def _arrivals(link, origin: float, delay, fps: float, words_latency: list[float]) -> None:
    """Late-packet counting (the face stream's first frame of each packet) and word arrival latency."""
    for a in link.arrivals:
        if a.session == 0:  # on the play-out clock (the latest SR's mapping)
            delay.arrived(a.timestamp / 90_000 + 1 / fps, a.wall - link.origin)
        elif a.session == 1 and a.payload_type == 97:  # on the ideal capture clock: mouth → words here
            words_latency.append(a.wall - origin - a.timestamp / 1000)


def _write_outputs(staged: StagedFiles, video: _Video, speech) -> None:
    import shutil

    from semtalk.media.writer import mux_audio, write_wav

    if speech is not None:
        write_wav(staged.path("received.wav"), speech.audio, speech.rate)
        mux_audio(video.writer.path, speech.audio, speech.rate, staged.path("received.mp4"))
    else:
        shutil.move(video.writer.path, staged.path("received.mp4"))


def _report(config: LiveConfig, mode, receiver, link, video: _Video, delay, words_latency, cpu: float,
            elapsed: float, timer: StageTimer) -> dict:
    end = link.end or {}
    frames = int(end.get("frames", len(video.order)))
    rendered = video.rendered
    face = [(ssrc, s) for (i, ssrc), s in link.stats.items() if i == 0]
    expected = sum(s.expected for _, s in face)
    lost = sum(max(0, s.lost) for _, s in face)
    source = [s for ssrc, s in face if ssrc != 0xFEC0FEC0]
    got = receiver.report()
    lat = np.asarray(video.latency) if video.latency else np.zeros(1)
    srtp = link.wire.srtp_rejected
    return {
        "live": {
            "frames_rendered_fraction": round(rendered / max(frames, 1), 4),
            "video_latency_ms_p50": ms(float(np.percentile(lat, 50))),
            "video_latency_ms_p95": ms(float(np.percentile(lat, 95))),
            "frames_skipped": video.skipped,
            "speech_latency_ms_p50": ms(statistics.median(words_latency)) if words_latency else None,
            "late_packets": delay.late_packets,
            "srtp": not config.insecure,
            "rtcp_fraction_lost": round(lost / max(expected, 1), 4),
            "jitter_ms": ms(max((s.jitter_seconds for s in source), default=0.0)),
            "cpu_sender": end.get("cpu_fraction"),
            "cpu_receiver": round(cpu / max(elapsed, 1e-9), 3),
        },
        "video": {"frames_sent": frames, "frames_played": len(video.order),
                  "in_order": video.order == list(range(len(video.order))),
                  "concealed_frames": video.concealed, "concealed_first": video.concealed_at,
                  "skipped_frames": video.skipped,
                  "skip_after_ms": ms(config.skip_after) if config.skip_after < math.inf else None,
                  "latency_ms_max": ms(float(lat.max())),
                  # where the latency goes: past the play-out time before rendering began (the loop's lateness:
                  # a starved or busy receiver), then the rendering itself (``ms_per_frame.render``, wall)
                  "render_ms_per_rendered_frame": ms(timer.seconds.get("render", 0.0)
                                                    / max(len(video.order) - video.skipped, 1)),
                  "render_start_late_ms_p50": ms(float(np.percentile(video.start_late, 50)))
                  if video.start_late else None,
                  "render_start_late_ms_p95": ms(float(np.percentile(video.start_late, 95)))
                  if video.start_late else None,
                  "late_frames": got["late_frames"],
                  "implausible_frames": got.get("implausible_frames", 0),
                  "packets_recovered": got["packets_recovered"], "garbage_packets": got["garbage_packets"],
                  "wrong_kb_packets": got["wrong_kb_packets"], "playout_delay_ms": ms(delay.delay),
                  "playout_delay_base_ms": ms(delay.base), "ms_per_frame": timer.ms_per_frame(len(video.order))},
        "network": {"datagrams": link.datagrams, "packets_expected": expected, "packets_lost": lost,
                    "one_way_delay_ms": ms(statistics.median(link.owd)) if link.owd else None,
                    "rtt_ms": end.get("rtt_ms"), "code_rate_log": end.get("code_rate_log"),
                    "srtp_rejected": srtp, "rtcp_invalid": link.rtcp_invalid,
                    "sr_origin_shift_s": [(round(a - link.first_origin, 2), round(o - link.first_origin, 3))
                                          for a, o in link.origins[::4]]},
        "sender": end,
        "receiver": {"cpu_s": round(cpu, 3), "elapsed_s": round(elapsed, 3),
                     "cpu_per_media_s": round(cpu / max(len(video.order) / mode.fps, 1e-9), 3)},
        "audio": {"mode": "synthesized" if mode.speaks else "none", "asr_window_s": config.asr_window,
                  "words_received_packets": len(words_latency)},
        **_refresh(receiver, end),
    }


def _refresh(receiver, end: dict) -> dict:
    """The ``refresh`` section of a call with KB refreshes (``--refresh-kbps``): sent (the sender's end message)
    and used here."""
    refresh = getattr(receiver, "refresh", None)
    if refresh is None:
        return {}
    sent = end.get("refresh_frames", [])
    return {"refresh": {"sent": len(sent), "frames_sent": sent, "used": len(refresh.frames),
                        "frames_used": refresh.frames, "invalid": refresh.invalid,
                        "packets_recovered": refresh.stream.recovered,
                        "payload_kbps": end.get("refresh_payload_kbps")}}


def _json(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
