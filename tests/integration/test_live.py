"""The live call end to end over real UDP on 127.0.0.1, in real time, on the project's own 4-s sample clip:
every frame arrives and is played in order; SRTP leaves no plaintext in the capture; garbage sprayed at the
receiver's ports during a call crashes nothing and is counted; the call crosses an unmodified Janus SFU (skipped
without janus). Nothing here asserts speed."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from semtalk.cli import main

pytest.importorskip("pylibsrtp")
KEYS = ("frames_rendered_fraction", "video_latency_ms_p50", "video_latency_ms_p95", "speech_latency_ms_p50",
        "late_packets", "srtp", "rtcp_fraction_lost", "jitter_ms", "cpu_sender", "cpu_receiver")


@pytest.fixture(scope="module")
def kb(sample_clip, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("livekb") / "kb.stkb"
    assert main(["kb", "build", str(sample_clip), "--out", str(path), "--enroll-seconds", "2"]) == 0
    return path


def test_loopback_call_delivers_every_frame_in_order_and_srtp_hides_the_payload(sample_clip, kb, tmp_path,
                                                                                 monkeypatch):
    from semtalk.kb.knowledge_base import kb_tag
    from semtalk.transport.pcap import read_udp_payloads

    key = tmp_path / "call.key"
    key.write_text("a passphrase both ends know")
    out, pcap = tmp_path / "out", tmp_path / "call.pcap"
    assert main(["call", "--loopback", str(sample_clip), "--out", str(out), "--kb", str(kb), "--key-file", str(key),
                 "--no-speech", "--pcap", str(pcap)]) == 0
    report = json.loads((out / "report.json").read_text())
    live, video = report["live"], report["video"]
    assert set(KEYS) <= set(live) and live["srtp"] is True
    assert video["frames_sent"] == 100 and video["frames_played"] == 100 and video["in_order"]
    assert report["network"]["packets_lost"] == 0 and live["rtcp_fraction_lost"] == 0.0
    assert report["network"]["srtp_rejected"] == {"auth_failed": 0, "replayed": 0, "other": 0}
    assert (out / "received.mp4").stat().st_size > 0
    # the capture: SRTP payloads carry none of the face payload's plaintext structure (byte 1 = the KB tag)
    tag = kb_tag(kb.read_bytes())
    rtp = [p for _, _, _, p in read_udp_payloads(pcap) if len(p) > 14 and p[1] & 0x7F == 96]
    assert len(rtp) >= 20
    assert sum(p[13] == tag for p in rtp) < len(rtp) / 4  # plaintext: every one of them
    if shutil.which("tshark"):  # Wireshark's dissector reads it as RTP (apt-get install tshark; else skipped)
        port = next(d for _, _, d, p in read_udp_payloads(pcap) if len(p) > 14 and p[1] & 0x7F == 96)
        fields = subprocess.run(["tshark", "-r", str(pcap), "-d", f"udp.port=={port},rtp", "-Y", "rtp", "-T",
                                 "fields", "-e", "rtp.ssrc"], capture_output=True, text=True, timeout=60).stdout
        assert "0x5e7a1c01" in fields.lower()


def test_kb_refreshes_cross_the_live_call_and_are_used(sample_clip, kb, tmp_path):
    out = tmp_path / "out"
    assert main(["call", "--loopback", str(sample_clip), "--out", str(out), "--kb", str(kb), "--insecure",
                 "--no-speech", "--max-seconds", "3", "--refresh-kbps", "40", "--refresh-ssim", "0.999"]) == 0
    report = json.loads((out / "report.json").read_text())
    refresh = report["refresh"]
    assert refresh["sent"] >= 2 and refresh["frames_used"] == refresh["frames_sent"] and refresh["invalid"] == 0
    assert 0 < refresh["payload_kbps"] <= 40
    assert report["video"]["frames_played"] == 75 and report["video"]["in_order"]


def test_garbage_sprayed_during_a_call_is_counted_and_crashes_nothing(sample_clip, kb, tmp_path):
    from semtalk.call.live import SESSIONS, LiveConfig, send
    from semtalk.call.live_receive import receive
    from semtalk.transport.udp import UdpPorts, free_ports

    config = LiveConfig(kb=str(kb), insecure=True, speech=False, max_seconds=3.0)
    port = free_ports(SESSIONS)
    ready, result = threading.Event(), {}
    thread = threading.Thread(target=lambda: result.update(
        report=receive(port, tmp_path / "out", config, ready=ready.set)))
    thread.start()
    assert ready.wait(120)
    stop = threading.Event()

    def spray() -> None:
        rng = np.random.default_rng(1)
        with UdpPorts(2, peer=("127.0.0.1", port)) as ports:
            n = 0
            while not stop.is_set():
                data = rng.integers(0, 256, rng.integers(0, 300), dtype=np.uint8).tobytes()
                ports.send(n % 2, (b"\x80\x60", b"\x80\xc8", b"")[n % 3] + data)
                n += 1
                time.sleep(0.002)

    sprayer = threading.Thread(target=spray)
    sprayer.start()
    try:
        totals = send(str(sample_clip), ("127.0.0.1", port), config)
    finally:
        stop.set()
        sprayer.join()
        thread.join(120)
    report = result["report"]
    assert totals["frames"] == 75 and report["video"]["frames_played"] == 75 and report["video"]["in_order"]
    assert report["video"]["garbage_packets"] + report["network"]["rtcp_invalid"] > 0
    assert report["live"]["srtp"] is False


@pytest.mark.skipif(shutil.which("janus") is None,
                    reason="needs the Janus SFU: apt-get install -y --no-install-recommends janus")
def test_srtp_call_crosses_an_unmodified_janus_sfu(sample_clip, kb, tmp_path):
    from semtalk.streams.rtcp import is_rtcp
    from semtalk.transport.pcap import read_udp_payloads

    out, pcap = tmp_path / "out", tmp_path / "rx.pcap"
    assert main(["call", "--loopback", str(sample_clip), "--out", str(out), "--kb", str(kb), "--no-speech",
                 "--max-seconds", "3", "--sfu", "janus", "--pcap", str(pcap),
                 "--refresh-kbps", "40", "--refresh-ssim", "0.999"]) == 0  # the KB refreshes' session crosses too
    report = json.loads((out / "report.json").read_text())
    assert report["video"]["frames_played"] == report["video"]["frames_sent"] == 75 and report["video"]["in_order"]
    assert report["refresh"]["sent"] >= 2 and report["refresh"]["frames_used"] == report["refresh"]["frames_sent"]
    assert report["live"]["srtp"] and report["network"]["packets_lost"] == 0
    assert report["live"]["frames_rendered_fraction"] > 0.5  # frames were made from what crossed the SFU
    assert report["network"]["srtp_rejected"] == {"auth_failed": 0, "replayed": 0, "other": 0}  # end to end
    received = read_udp_payloads(pcap)
    rtp_from = {sport for _, sport, _, p in received if not is_rtcp(p)}
    rtcp_from = {sport for _, sport, _, p in received if is_rtcp(p)}
    assert rtp_from and rtcp_from and not rtp_from & rtcp_from  # media came from Janus' forwarders, not the sender
