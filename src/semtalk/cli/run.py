"""``semtalk run CLIP --out DIR``: one clip through sender → lossy channel → receiver."""

from __future__ import annotations

import argparse
from pathlib import Path

from semtalk import registry
from semtalk.cli.options import fraction, non_negative_int
from semtalk.cli.summary import summary


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="run a clip through sender → lossy channel → receiver",
                         description="Run a clip through the whole chain and write received.mp4, side_by_side.mp4 "
                                     "and report.json into --out.")
    run.add_argument("input", help="video file (mp4, mpg, avi, mkv, webm, ...)")
    run.add_argument("--out", required=True, help="output folder (created if missing)")
    add_run_options(run)
    run.set_defaults(handler=handle)


def add_refresh_options(g) -> None:
    """SyncSC's KB refresh flags (``modes.syncsc.refresh``), the same for ``semtalk run`` and the live call."""
    from semtalk.modes.syncsc.config import REFRESH_CODECS
    from semtalk.modes.syncsc.config import RefreshConfig as R

    g.add_argument("--refresh-kbps", type=float, default=R.kbps,
                   help="SyncSC KB refresh budget in kbps: a frame the receiver would render below --refresh-ssim "
                        "goes as a new keyframe, counted in the stream rate (default 0: none; docs/face-rate.md)")
    g.add_argument("--refresh-ssim", type=float, default=R.ssim,
                   help=f"predicted SSIM below which a frame is refreshed (default {R.ssim:g})")
    g.add_argument("--refresh-codec", default=R.codec,
                   help=f"image codec of the refreshes: {', '.join(REFRESH_CODECS)} (default {R.codec})")
    g.add_argument("--refresh-quality", type=int, default=R.quality,
                   help=f"the refresh codec's quality, 1..100 (default {R.quality})")


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The options that fill ``call.run.RunConfig`` (by name, through ``records.config_from``)."""
    g = p.add_argument_group("mode, channel and FEC")
    g.add_argument("--mode", choices=registry.names("mode"), default="syncsc",
                   help="the system to run (default syncsc)")
    g.add_argument("--channel", choices=registry.names("channel"), default="bernoulli",
                   help="packet channel bernoulli (default) or gilbert_elliott (takes --burst), or a radio "
                        "channel awgn or rayleigh (5G LDPC + QAM; takes --snr)")
    g.add_argument("--loss", type=float, default=0.0, help="packet loss probability p in [0, 1] (default 0)")
    g.add_argument("--burst", type=float, default=1.0,
                   help="mean loss burst length L in packets, with --channel gilbert_elliott (default 1)")
    g.add_argument("--delay", type=float, default=0.0, help="one-way delay in seconds (default 0)")
    g.add_argument("--jitter", type=float, default=0.0, help="delay jitter (std, seconds; default 0)")
    g.add_argument("--fec", choices=registry.names("fec"), default="rs", help="packet FEC (default rs)")
    g = p.add_argument_group("radio (with --channel awgn or rayleigh)")
    g.add_argument("--snr", type=float, default=10.0, help="Es/N0 per complex symbol in dB (default 10)")
    g.add_argument("--modulation", default="qpsk", help="bpsk, qpsk, 16qam or 64qam (default qpsk)")
    g.add_argument("--ldpc-rate", type=fraction, default=0.5,
                   help="5G LDPC code rate: 1/3, 1/2, 2/3, 3/4 or 5/6 (default 1/2)")
    g.add_argument("--csi", choices=("perfect", "estimated"), default="perfect",
                   help="channel state at the receiver: perfect, or estimated from pilots (rayleigh; default perfect)")
    g.add_argument("--coherence", type=int, default=100,
                   help="Rayleigh fading block in symbols, pilots included; 1 = fast fading (default 100)")
    g.add_argument("--pilots", type=int, default=4, help="pilot symbols per fading block with --csi estimated "
                                                         "(default 4)")
    g.add_argument("--code-rate", type=float, default=0.5, help="FEC code rate k/n, e.g. 0.5 or 0.25 (default 0.5)")
    g.add_argument("--fec-k", type=int, default=4, help="source packets per FEC block (default 4)")
    g.add_argument("--frames-per-packet", type=int, default=5, help="video frames per RTP packet (default 5)")
    g.add_argument("--video-kbps", type=float, default=None,
                   help="SyncSC face stream target in kbps: the coder picks precisions and frames per packet "
                        "(--frames-per-packet is then the least); 0: the uncontrolled version-1 stream "
                        "(default 1.6)")
    g.add_argument("--flow-grid", type=int, default=6,
                   help="SyncSC: side of the motion field sent with each face packet (N x N vectors that move the "
                        "rendering onto the frame; 0: none, 5 frames per packet and less delay at 1.6 kbps; "
                        "default 6)")
    add_refresh_options(g)
    g = p.add_argument_group("semantics and knowledge base")
    g.add_argument("--enroll-seconds", type=float, default=2.0, help="KB enrollment segment length (default 2)")
    g.add_argument("--kb", help="use this KB file instead of building one from the clip")
    g.add_argument("--receiver-kb", help="the receiver's KB file (must match the stream's, else refused)")
    g.add_argument("--expr", dest="n_expr", type=int, default=6, help="expression coefficients (default 6)")
    g.add_argument("--keyframes", type=int, default=None,
                   help="keyframes in the semantic base (default 16 for syncsc with a motion field, whose sender "
                        "picks among them per packet; else 10)")
    g.add_argument("--kb-image-codec", choices=registry.names("image_codec"), default="webp",
                   help="codec of the KB's pictures when the run builds its KB; seb: the learned set codec "
                        "(default webp)")
    g = p.add_argument_group("speech")
    g.add_argument("--no-speech", dest="speech", action="store_false",
                   help="video only: mux the original audio, send no words")
    g.add_argument("--transcript", help="reference transcript (text file) to score the sender's ASR against")
    g.add_argument("--text-window", type=int, default=12,
                   help="words interleaved across FEC blocks per sending window, 1..16 (default 12)")
    g.add_argument("--no-prosody", dest="prosody", action="store_false",
                   help="send words and timing only, no F0/energy")
    g.add_argument("--voice-adapt", action="store_true",
                   help="convert the TTS voice toward the KB voice profile (off by default: it costs intelligibility)")
    g.add_argument("--voice-seconds", type=float, default=4.0,
                   help="enrollment audio for the KB voice profile, in seconds (default 4)")
    g.add_argument("--lm-text", metavar="FILE",
                   help="domain text (one sentence a line) for the KB's language model: prompts the sender's ASR, "
                        "corrects the words it misheard and helps TextPC guess lost words")
    from semtalk.modes.lgmtsc.config import LgmtscConfig as L
    from semtalk.modes.wav2vid.config import CLIP_PRESETS
    from semtalk.modes.wav2vid.config import Wav2vidConfig as W

    g = p.add_argument_group("wav2vid (with --mode wav2vid)")
    g.add_argument("--pose-threshold", type=float, default=W.pose_threshold,
                   help=f"ε of HdPoseEst (|Δyaw| + |Δpitch| + |Δroll|, degrees) that sends a clip "
                        f"(default {W.pose_threshold:g})")
    g.add_argument("--clip-frames", type=int, default=W.clip_frames, help=f"frames per clip (default {W.clip_frames})")
    g.add_argument("--clip-codec", default=W.clip_codec,
                   help=f"codec of the clips: x265, svtav1 or x264 (default {W.clip_codec})")
    g.add_argument("--clip-kbps", type=float, default=W.clip_kbps,
                   help=f"the clip codec's target bitrate (default {W.clip_kbps:g})")
    g.add_argument("--clip-preset", default=W.clip_preset,
                   help="the clip codec's speed preset: x264/x265 ultrafast … placebo, SVT-AV1 0–13 (default "
                        f"{', '.join(f'{v} for {k}' for k, v in CLIP_PRESETS.items())}, else the codec's call default)")
    g.add_argument("--clip-cache", type=int, default=W.clip_cache,
                   help=f"clips both ends keep to reuse when the head returns to a pose one shows; 0: never reuse "
                        f"(default {W.clip_cache})")
    g.add_argument("--audio-carrier", default=W.audio_carrier,
                   help="opus: Opus + the radio's LDPC and QAM (default); asc: the learned analog coder (radio only)")
    g.add_argument("--audio-kbps", type=float, default=W.audio_kbps, help=f"Opus bitrate (default {W.audio_kbps:g})")
    g = p.add_argument_group("lgmtsc (with --mode lgmtsc)")
    g.add_argument("--lm", default=L.lm, help="the language-model knowledge base: ngram, smollm2, openai or none "
                                               f"(default {L.lm})")
    g.add_argument("--lm-endpoint", metavar="URL", help="base URL of an OpenAI-compatible server (with --lm openai)")
    g.add_argument("--lm-model", help="model name at --lm-endpoint")
    g.add_argument("--no-lm-correct", dest="lm_correct", action="store_false",
                   help="the receiver does not correct the decoded text with the LM knowledge base")
    g.add_argument("--text-coder", default=L.text_coder,
                   help=f"learned (analog symbols; radio only), huffman, brotli or 5bit (default {L.text_coder}); "
                        "also --mode m3e's text coder")
    g.add_argument("--length-class", default=L.length_class,
                   help="auto (the ANFIS controller reads --snr), full, medium (~85 %%) or short (~75 %%) "
                        f"(default {L.length_class})")
    g.add_argument("--portrait", metavar="IMAGE", help="the face to animate (default: the clip's first frame with "
                                                       "a face); needed when the input is an audio file")
    from semtalk.modes.m3e.config import M3eConfig as M

    g = p.add_argument_group("m3e (with --mode m3e; its text coder is --text-coder)")
    g.add_argument("--keyframe-threshold", type=float, default=M.keyframe_threshold,
                   help="τ of eqs. 1–2: a frame whose cross-correlation with every keyframe so far is below it becomes "
                        f"one (default {M.keyframe_threshold:g})")
    g.add_argument("--keyframe-codec", default=M.keyframe_codec,
                   help=f"image codec of the keyframes: avif, webp, jpeg2000, jpeg (default {M.keyframe_codec})")
    g.add_argument("--keyframe-bpp", type=float, default=M.keyframe_bpp,
                   help=f"the keyframes' target bits per pixel (default {M.keyframe_bpp:g})")
    g.add_argument("--xi-min", type=float, default=M.xi_min,
                   help=f"ξ_min: below this semantic similarity the receiver asks again (default {M.xi_min:g})")
    g.add_argument("--retransmit", type=int, default=M.retransmit,
                   help=f"requests at most per sentence or keyframe; 0 turns the check off (default {M.retransmit})")
    g.add_argument("--fill", default=M.fill,
                   help="the frames between keyframes: flow (eq. 10 optical flow, the paper's) or face (also sends "
                        "SyncSC's face coefficients, ~1.6 kbps, and renders each frame from the two keyframes with "
                        f"them; flow where they are lost) (default {M.fill})")
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=non_negative_int, default=0, help="seed of the channel and the KB clustering")
    g.add_argument("--max-seconds", type=float, help="only process the first seconds of the input")
    g.add_argument("--no-vmaf", dest="vmaf", action="store_false", help="skip VMAF (saves a few seconds)")
    g.add_argument("--no-metrics", dest="metrics", action="store_false",
                   help="score nothing (no PSNR/SSIM/VMAF, no listening tests): for long calls, whose scoring costs "
                        "more than the call; rates, network and radio are still reported")
    g.add_argument("--quiet", dest="progress", action="store_false", help="no progress bar")


def run_config(args: argparse.Namespace):
    """``RunConfig`` from the parsed options (same-named fields)."""
    from semtalk.call.run import RunConfig
    from semtalk.records import config_from

    return config_from(RunConfig, args)


def handle(args: argparse.Namespace) -> int:
    from semtalk.call.run import run

    out = Path(args.out)
    report = run(args.input, out, run_config(args))
    print(summary(report, out))
    return 0
