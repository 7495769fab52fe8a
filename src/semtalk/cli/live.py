"""``semtalk send | recv | call | relay``: the live call over UDP (``call.live``, ``transport``).

Keys: both ends read the same ``--key-file FILE`` (or ``$SEMTALK_PASSPHRASE``); never put a key on the command
line. ``--insecure`` calls without SRTP.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from semtalk.call import live_profile
from semtalk.errors import SemtalkError

VERBS = ("send", "recv", "call", "relay")


def seconds(text: str) -> float:
    """``50ms``, ``0.05s`` or ``0.05`` → seconds."""
    t = text.strip().lower()
    try:
        value = float(t[:-2]) / 1000 if t.endswith("ms") else float(t.removesuffix("s"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a duration: '{text}' (e.g. 50ms or 0.05)") from exc
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a duration must be ≥ 0 and finite, got '{text}'")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("send", help="play a clip (or a camera) live to a receiver over UDP",
                       description="Send SOURCE (a file played at real time, or /dev/videoN) to HOST:PORT.")
    p.add_argument("source", help="video file, or /dev/videoN for a camera")
    p.add_argument("--to", required=True, metavar="HOST:PORT", help="the receiver (ports PORT to PORT+2)")
    _common(p)
    p.add_argument("--asr-window", type=float, default=5.0,
                   help="seconds of speech per ASR window: the words' latency (default 5)")
    p.add_argument("--no-adapt", dest="adapt", action="store_false",
                   help="keep the FEC rate fixed (default: it follows the loss the receiver reports)")
    p.set_defaults(handler=handle_send)

    p = sub.add_parser("recv", help="receive a live call and write received.mp4 and report.json",
                       description="Listen on PORT to PORT+2 (127.0.0.1 unless --host) for one call.")
    p.add_argument("--listen", required=True, type=int, metavar="PORT")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the sender (default 30)")
    p.add_argument("--view", action="store_true", help="serve a page with the live video and stats on 127.0.0.1")
    p.add_argument("--view-port", type=int, default=0, help="the viewer's port (default: any free one)")
    _skip(p)
    _common(p)
    p.set_defaults(handler=handle_recv)

    p = sub.add_parser("call", help="a live call on this machine: sender and receiver processes over UDP",
                       description="Enroll the clip's KB, start `semtalk recv` (and `semtalk relay` with --loss, "
                                   "--delay or --jitter), play the clip to it in real time; outputs in --out.")
    p.add_argument("clip")
    p.add_argument("--loopback", action="store_true", required=True, help="both ends on 127.0.0.1")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--kb", help="the KB both ends use (default: enroll the clip's into --out/kb.stkb)")
    p.add_argument("--key-file", help="SRTP secret (default: a fresh random one for this call)")
    p.add_argument("--insecure", action="store_true", help="no SRTP")
    p.add_argument("--pcap", help="write the datagrams the receiver got to this pcap")
    _impairments(p.add_argument_group("impairments (through `semtalk relay`)"))
    p.add_argument("--max-seconds", type=float, help="only the first seconds of the clip")
    p.add_argument("--no-speech", dest="speech", action="store_false", help="video only")
    p.add_argument("--asr-window", type=float, default=5.0, help="seconds per ASR window (default 5)")
    p.add_argument("--view", action="store_true", help="the receiver serves the viewer page (URL printed)")
    p.add_argument("--no-adapt", dest="adapt", action="store_false",
                   help="keep the FEC rate fixed (default: the sender adapts it to the reported loss)")
    p.add_argument("--sfu", choices=("janus",), help="send the RTP through an unmodified SFU on 127.0.0.1 "
                   "(Janus VideoRoom: remote publisher in, RTP forwarders out; docs/live.md)")
    _skip(p)
    _stream(p)
    p.set_defaults(handler=handle_call)

    p = sub.add_parser("relay", help="forward a call's datagrams with loss, delay and jitter (loopback)",
                       description="Forward UDP from --listen P.. to --to HOST:PORT.. with impairments.")
    p.add_argument("--listen", required=True, type=int, metavar="P")
    p.add_argument("--to", required=True, metavar="HOST:PORT")
    _impairments(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until interrupted)")
    p.add_argument("--idle", type=float, help="stop after this many seconds without a datagram")
    p.set_defaults(handler=handle_relay)


def _impairments(p) -> None:
    p.add_argument("--loss", type=float, default=0.0, help="loss probability (default 0)")
    p.add_argument("--burst", type=float, default=1.0,
                   help="mean loss burst length (default 1: i.i.d.; Gilbert-Elliott when > 1)")
    p.add_argument("--delay", type=seconds, default=0.0, help="one-way delay, e.g. 50ms (default 0)")
    p.add_argument("--jitter", type=seconds, default=0.0, help="delay jitter (std), e.g. 20ms (default 0)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kb", required=True, help="the knowledge base (the same file at both ends)")
    p.add_argument("--key-file", help="SRTP secret file (or set $SEMTALK_PASSPHRASE); the same at both ends")
    p.add_argument("--insecure", action="store_true", help="no SRTP: RTP in the clear")
    p.add_argument("--srtp-profile", dest="profile", default="aes_cm_128_hmac_sha1_80",
                   choices=("aes_cm_128_hmac_sha1_80", "aead_aes_128_gcm"))
    p.add_argument("--pcap", help="write the datagrams as a pcap")
    p.add_argument("--max-seconds", type=float, help="only the first seconds of the input")
    p.add_argument("--no-speech", dest="speech", action="store_false", help="video only")
    _stream(p)


def _stream(p: argparse.ArgumentParser) -> None:
    """The stream settings, the live latency profile's by default (``call.live_profile``; `semtalk run` keeps
    SyncSC's own)."""
    g = p.add_argument_group("stream settings (the same at both ends; default: the live latency profile)")
    g.add_argument("--code-rate", type=float, default=0.5, help="starting FEC code rate (default 0.5)")
    g.add_argument("--fec-k", type=int, default=live_profile.FEC_K,
                   help=f"source packets per FEC block (default {live_profile.FEC_K})")
    g.add_argument("--frames-per-packet", type=int, default=live_profile.FRAMES_PER_PACKET,
                   help=f"the least frames per RTP packet (default {live_profile.FRAMES_PER_PACKET}); the play-out "
                        "delay is (k·frames + 1)/25 s")
    g.add_argument("--video-kbps", type=float, default=live_profile.VIDEO_KBPS,
                   help=f"face stream rate target (default {live_profile.VIDEO_KBPS:g}: one frame per packet); "
                        "a lower target groups more frames per packet (1.6: 5, as `semtalk run`); 0: version 1")
    g.add_argument("--flow-grid", type=int, default=live_profile.FLOW_GRID,
                   help=f"side of the motion field sent with each face packet (default {live_profile.FLOW_GRID}: "
                        "none; `semtalk run` sends 6 x 6)")
    from semtalk.cli.run import add_refresh_options

    add_refresh_options(g)  # the refreshes go on the third port


def _lateness(text: str) -> float:
    """``--skip-after``: seconds ≥ 0, or ``inf``."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: '{text}'") from exc
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0 (or inf), got '{text}'")
    return value


def _skip(p: argparse.ArgumentParser) -> None:
    p.add_argument("--skip-after", type=_lateness, default=live_profile.SKIP_AFTER_S, metavar="SECONDS",
                   help="a frame this far past its play-out time is not rendered when a newer one is due "
                        f"(default {live_profile.SKIP_AFTER_S:g}; inf: render every frame however late)")


def _config(args: argparse.Namespace):
    from semtalk.call.live import LiveConfig, load_secret
    from semtalk.records import config_from

    return config_from(LiveConfig, args, secret=load_secret(args.key_file, args.insecure))


def handle_send(args: argparse.Namespace) -> int:
    from semtalk.call.live import send
    from semtalk.transport.udp import parse_address

    totals = send(args.source, parse_address(args.to), _config(args))
    print(json.dumps({k: totals[k] for k in ("frames", "duration_s", "cpu_fraction", "rtt_ms", "code_rate_log")}))
    return 0


def handle_recv(args: argparse.Namespace) -> int:
    from semtalk.call.live_receive import receive

    report = receive(args.listen, Path(args.out), _config(args), ready=lambda: print("ready", flush=True))
    print(json.dumps(report["live"]))
    return 0


def handle_relay(args: argparse.Namespace) -> int:
    from semtalk.call.live import SESSIONS
    from semtalk.link.simulated import ChannelConfig
    from semtalk.transport.relay import relay
    from semtalk.transport.udp import parse_address

    if not 0 <= args.loss <= 1 or args.burst < 1:
        raise SemtalkError(f"--loss must be in [0, 1] and --burst ≥ 1, got {args.loss} and {args.burst}")
    channel = ChannelConfig(channel="gilbert_elliott" if args.burst > 1 else "bernoulli", loss=args.loss,
                            burst=args.burst, delay=args.delay, jitter=args.jitter, seed=args.seed)
    counts = relay(("127.0.0.1", args.listen), parse_address(args.to), SESSIONS, channel, args.duration, args.idle,
                   ready=lambda: print("ready", flush=True))
    print(json.dumps({"forwarded": counts.forwarded, "dropped": counts.dropped, "returned": counts.returned}))
    return 0


def _semtalk(*argv: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from semtalk.cli import main; sys.exit(main(sys.argv[1:]))", *argv]


def handle_call(args: argparse.Namespace) -> int:
    from semtalk.call.live import PASSPHRASE_ENV, SESSIONS, LiveConfig, load_secret, send
    from semtalk.call.run import RunConfig, check_output_dir
    from semtalk.records import config_from
    from semtalk.transport.udp import free_ports

    out = Path(args.out)
    if args.sfu and (args.loss or args.delay or args.jitter):
        raise SemtalkError("--sfu and the relay's --loss/--delay/--jitter do not combine: choose one")
    check_output_dir(out)
    if not Path(args.clip).is_file():
        raise SemtalkError(f"{args.clip}: no such file")
    kb = args.kb
    if kb is None:
        from semtalk import registry
        from semtalk.atomic import atomic_bytes

        run_config = config_from(RunConfig, args)
        kb = str(out / "kb.stkb")
        atomic_bytes(Path(kb), registry.get("mode", "syncsc").enroll(args.clip, run_config).to_bytes())
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    key = ["--insecure"] if args.insecure else []
    if not args.insecure:
        if args.key_file:
            key = ["--key-file", args.key_file]
        else:  # a fresh secret for this call only, handed to the child through its environment, not argv
            env[PASSPHRASE_ENV] = os.environ[PASSPHRASE_ENV] = secrets.token_hex(32)
    common = ["--kb", kb, *key, *([] if args.speech else ["--no-speech"]), "--code-rate", str(args.code_rate),
              "--fec-k", str(args.fec_k), "--frames-per-packet", str(args.frames_per_packet),
              "--video-kbps", str(args.video_kbps), "--flow-grid", str(args.flow_grid),
              "--refresh-kbps", str(args.refresh_kbps),
              "--refresh-ssim", str(args.refresh_ssim), "--refresh-codec", args.refresh_codec,
              "--refresh-quality", str(args.refresh_quality),
              *(["--max-seconds", str(args.max_seconds)] if args.max_seconds else [])]
    port = free_ports(SESSIONS)
    children = []
    try:
        recv = subprocess.Popen(_semtalk("recv", "--listen", str(port), "--out", str(out), *common,
                                         *(["--pcap", args.pcap] if args.pcap else []),
                                         *(["--view"] if args.view else []), "--skip-after", str(args.skip_after)),
                                env=env, stdout=subprocess.PIPE, text=True)
        children.append(recv)
        while (line := recv.stdout.readline().strip()) != "ready":
            if not line and recv.poll() is not None:
                raise SemtalkError("the receiver did not start (see its error above)")
            print(line, flush=True)  # the viewer's URL
        target = port
        if args.loss or args.delay or args.jitter:
            target = free_ports(SESSIONS)
            children.append(subprocess.Popen(_semtalk(
                "relay", "--listen", str(target), "--to", f"127.0.0.1:{port}", "--loss", str(args.loss),
                "--burst", str(args.burst), "--delay", str(args.delay), "--jitter", str(args.jitter),
                "--idle", "20"), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
            if children[-1].stdout.readline().strip() != "ready":
                raise SemtalkError("the relay did not start (see its error above)")
        via = None
        if args.sfu == "janus":
            from semtalk.transport.janus import Janus, publisher_ssrc

            janus = Janus(free_ports(1))
            children.append(janus)
            via = (janus.start(), publisher_ssrc)
            janus.forward("127.0.0.1", port)
        config = config_from(LiveConfig, args, kb=kb, pcap=None, secret=load_secret(args.key_file, args.insecure))
        send(args.clip, ("127.0.0.1", target), config, via=via)
        tail = recv.communicate(timeout=600)[0]
        if recv.returncode:
            raise SemtalkError(f"the receiver failed (exit {recv.returncode})")
    finally:
        for child in children:
            if not isinstance(child, subprocess.Popen):
                child.close()  # the SFU
            elif child.poll() is None:
                child.terminate()
                child.wait(timeout=10)
    print(tail.strip())
    print(f"outputs in {out}: received.mp4, report.json")
    return 0
