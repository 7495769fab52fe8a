"""Fig. 8 of the LGM-TSC suite: how much each system sends for a whole clip, against the raw media.

Raw: the clip's prepared face crops as RGB24 and its audio as 16-bit PCM at 16 kHz. Sent, per system:

- **H.264 + AAC** and **AV1 + Opus** at their usual quality, not matched to anything: x264 CRF 23 (preset veryfast)
  and SVT-AV1 QP 35 (preset 10; its low-delay mode runs constant QP), both in the call configuration of
  ``media.video_codec`` (one I-frame, then P-frames), with AAC 32 kbps or Opus 16 kbps;
- **SyncSC** (its face stream and words) and **Wav2Vid** (its clips and Opus) from their calls;
- **LGM-TSC**: the Huffman text of its digital call, and the learned coder's analog symbols (no bits: only its
  channel uses compare).

Compression ratio = raw bits ÷ bits sent. Channel uses count every digital payload alike, packets through CRC +
5G LDPC 1/2 + QPSK with no RTP (``wav2vid_cells.payload_symbols``; where a call reports only totals, equal
packets); the learned coder's are its symbols, repeats included. The knowledge bases shared before the call are
not counted.
"""

from __future__ import annotations

import io
import math
import os
import subprocess

import numpy as np

from semtalk.bench.lgmtsc import equal_packets, lgmtsc_run
from semtalk.bench.runner import BenchEnv, Task

RATE = 16_000
CLASSIC = (("h264_aac", "x264", 23, "aac", 32.0), ("av1_opus", "svtav1", 35, "opus", 16.0))
FACE_FRAMES_PER_PACKET = 5  # SyncSC's --frames-per-packet default


def crf_encode(clip, codec: str, crf: int):
    """``clip`` (a ``YuvClip``) at constant quality through ffmpeg: one I-frame then P-frames, one packet a frame
    (what ``decode_video`` takes)."""
    from semtalk.errors import SemtalkError
    from semtalk.media.reader import ffmpeg_exe, require_av
    from semtalk.media.video_codec import EncodedVideo

    gop = str(len(clip.planes) + 1)
    args, fmt = {
        "x264": (["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-crf", str(crf), "-bf", "0",
                  "-g", gop, "-sc_threshold", "0", "-threads", "1", "-f", "h264"], "h264"),
        "svtav1": (["-c:v", "libsvtav1", "-preset", "10", "-crf", str(crf), "-g", gop,
                    "-svtav1-params", "pred-struct=1:scd=0:lp=1", "-f", "ivf"], "ivf"),
    }[codec]
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
           "-s", f"{clip.width}x{clip.height}", "-r", f"{clip.fps:g}", "-i", "pipe:0", *args, "pipe:1"]
    proc = subprocess.run(cmd, input=clip.raw(), capture_output=True, check=False, env={**os.environ, "SVT_LOG": "1"})
    if proc.returncode != 0:
        raise SemtalkError(f"ffmpeg {codec} failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    av = require_av()
    with av.open(io.BytesIO(proc.stdout), format=fmt) as container:
        packets = [(bytes(p), bool(p.is_keyframe)) for p in container.demux(container.streams.video[0]) if p.size]
    return EncodedVideo(codec, clip.width, clip.height, clip.fps, tuple(p for p, _ in packets),
                        tuple(k for _, k in packets), {"crf": crf})


def classic(crops, audio: np.ndarray, codec: str, crf: int, audio_codec: str, kbps: float) -> tuple[list[int], float]:
    """Packet sizes (video frames, then audio frames) and the held-out SSIM of one classic pair."""
    from semtalk.media.audio_codec import encode_audio_packets
    from semtalk.media.video_codec import YuvClip, decode_video
    from semtalk.metrics.video import ssim

    video = crf_encode(YuvClip.from_rgb(list(crops.frames), crops.fps), codec, crf)
    decoded = decode_video(video)
    quality = float(np.mean([ssim(crops.frames[i], decoded[i]) for i in range(crops.heldout_start, len(decoded))]))
    sound = encode_audio_packets(audio, RATE, audio_codec, kbps)
    return [len(p) for p in video.packets] + [len(p) for p in sound.packets], quality


def syncsc_sizes(report: dict) -> list[float]:
    """SyncSC's payloads: its face stream in packets of ``FACE_FRAMES_PER_PACKET`` frames, a packet a word."""
    v, s, seconds = report["video"], report.get("speech") or {}, report["duration_s"]
    face = (v.get("stream_kbps") or 0.0) * 1000 * seconds / 8
    words = sum(s.get(k) or 0.0 for k in ("text_bps", "timing_bps", "prosody_bps")) * seconds / 8
    return (equal_packets(face, math.ceil((v.get("frames") or 0) / FACE_FRAMES_PER_PACKET))
            + equal_packets(words, s.get("words_sent") or 0))


def wav2vid_sizes(report: dict) -> list[float]:
    """Wav2Vid's payloads: its clips' bytes over the frames they hold, its audio over its spans."""
    w, a = report["wav2vid"], report.get("audio") or {}
    frames = sum(count for _, count in w.get("clips") or [])
    return equal_packets(w["data_bytes_clips"], frames) + equal_packets(w["data_bytes_audio"], a.get("spans") or 0)


def lgmtsc_fig8_method(task: Task, env: BenchEnv) -> dict:
    """Fig. 8 for one clip: raw bits, and per system the bits sent, channel uses and held-out SSIM."""
    from semtalk.bench.lgmtsc_text import digital_radio
    from semtalk.bench.text_cells import clip_audio
    from semtalk.bench.wav2vid import Wav2vidGrid, call, held_out, syncsc_config, wav2vid_config
    from semtalk.bench.wav2vid_cells import payload_symbols

    p = task.params
    crops = held_out(env, task.clip)
    seconds = len(crops.frames) / crops.fps
    audio = clip_audio(env, task.clip)[:round(seconds * RATE)]
    radio = digital_radio("rayleigh")
    row: dict = {"table": "fig8", "seconds": seconds, "raw_bits": int(crops.frames.size) * 8 + int(audio.size) * 16,
                 "crop": int(crops.frames.shape[1])}

    def put(name: str, sizes: list[float] | None, uses: int, ssim: float | None) -> None:
        row[f"{name}_bits"] = None if sizes is None else round(8 * sum(sizes))
        row[f"{name}_channel_uses"], row[f"{name}_ssim"] = uses, ssim

    for name, codec, crf, audio_codec, kbps in CLASSIC:
        sizes, quality = classic(crops, audio, codec, crf, audio_codec, kbps)
        put(name, sizes, payload_symbols(radio, sizes), quality)
    radio_params = {**Wav2vidGrid().syncsc_radio(), "snr": p["snr"]}
    sync, _ = call(env, task.clip, syncsc_config(env, task.clip, radio_params, task.seed), fresh=False)
    sizes = syncsc_sizes(sync)
    put("syncsc", sizes, payload_symbols(radio, sizes), sync["video"].get("ssim"))
    w2v, _ = call(env, task.clip, wav2vid_config(env, task.clip, {**Wav2vidGrid().radio(), "snr": p["snr"]},
                                                 task.seed, "opus"), fresh=False)
    sizes = wav2vid_sizes(w2v)
    put("wav2vid", sizes, payload_symbols(radio, sizes), w2v["video"].get("ssim"))
    call_params = {"channel": "rayleigh", "snr": p["snr"], "lm": p["lm"]}
    huffman, _ = lgmtsc_run(env, task.clip, {**call_params, "text_coder": "huffman"}, task.seed, fresh=False)
    g = huffman["lgmtsc"]
    sizes = equal_packets(g["text_bytes"] or 0, g["sentences"])
    put("lgmtsc_huffman", sizes, payload_symbols(radio, sizes), huffman["video"].get("ssim"))
    learned, _ = lgmtsc_run(env, task.clip, {**call_params, "text_coder": "learned"}, task.seed, fresh=False)
    gl = learned["lgmtsc"]
    put("lgmtsc_learned", None, gl["symbols"] or 0, learned["video"].get("ssim"))
    row.update({"lgmtsc_length_class": g["length_class"], "lgmtsc_chars": g["chars_out"],
                "lgmtsc_sentences": g["sentences"], "lgmtsc_learned_symbols_unique": gl["symbols_unique"],
                "lgmtsc_on_air_huffman": g["channel_uses"], "lgmtsc_on_air_learned": gl["channel_uses"]})
    return row
