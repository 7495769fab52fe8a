"""Table II of the Wav2Vid suite: the data each system needs for a whole clip, in bytes and channel symbols.

One ``wav2vid_table`` cell per clip, from the calls at the grid's best SNR (what a sender sends does not depend on
the SNR) and the clip's prepared crops:

- **Wav2Vid**: ``wav2vid.data_bytes`` of the Opus call (its clips and its audio). Its clips are re-coded here as
  the sender coded them (same crops, the call's codec and bitrate; the bytes are checked in ``details``) to score
  them: the mean SSIM of the decoded clips on the
  frames they cover is the quality the baseline is matched to.
- **H.264 + AAC**: x264 (one I-frame, then P-frames) over the whole clip's crops, at the lowest bitrate whose SSIM
  on those same frames reaches the clips' (bisection in log bitrate, ``match_rate``), plus AAC at the lowest
  bitrate whose PESQ-WB reaches 8 kbps Opus's (Wav2Vid's carrier, coded here without loss), or AAC's floor if even
  its lowest rate does better.
- **SyncSC**: its face stream (``video.stream_kbps`` × duration) and its words (text, timing, prosody bits).
- **Txt2Vid-like**: the words' text bits and one reference, the clip's first frames after enrollment coded as a
  Wav2Vid clip (``bench.txt2vid``).

Channel symbols count every system alike: its packets (as each codes them: a video frame, an audio frame, a
SyncSC packet of 5 frames, a word) through CRC + 5G LDPC 1/2 + QPSK (``codecs.channel_uses``), no RTP or packet FEC.
The calls' own on-air counts (headers, RS, their modulation) are reported beside them. The knowledge base both
semantic systems share before the call is not counted (its size is reported).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np

from semtalk.bench.runner import BenchEnv, Task
from semtalk.bench.wav2vid import call, encode_clip, held_out, syncsc_config, wav2vid_config

VIDEO_KBPS = (4.0, 4000.0)  # x264's search range
AUDIO_KBPS = (8.0, 128.0)  # AAC's (FFmpeg's encoder does not go below ≈ 9 kbps at 16 kHz mono: its floor)
STEPS = 10  # bisection steps: the range's ratio to the 2^-10 power, < 1 % of the rate
PAYLOAD_RADIO = {"modulation": "qpsk", "ldpc_rate": 0.5}
FACE_FRAMES_PER_PACKET = 5  # SyncSC's --frames-per-packet default

Point = tuple[float, float]  # (rate, quality)


def match_rate(measure: Callable[[float], float], target: float, lo: float, hi: float,
               steps: int = STEPS) -> list[Point]:
    """Every (rate, quality) tried while bisecting, in log rate, for the lowest rate in [lo, hi] whose quality
    reaches ``target``; ``hi`` first (if it falls short no rate will), then ``lo`` (if it reaches, the floor)."""
    points = [(hi, measure(hi))]
    if points[0][1] < target:
        return points
    points.append((lo, measure(lo)))
    if points[1][1] >= target:
        return points
    a, b = lo, hi
    for _ in range(steps):
        mid = math.sqrt(a * b)
        quality = measure(mid)
        points.append((mid, quality))
        a, b = (a, mid) if quality >= target else (mid, b)
    return points


def pick_matched(points: list[Point], target: float) -> tuple[float, float, bool]:
    """The matched point: the lowest rate whose quality reaches ``target``, else the best quality tried (its
    ``reached`` False)."""
    if not points:
        raise ValueError("no points to pick from")
    good = [p for p in points if p[1] >= target]
    rate, quality = min(good) if good else max(points, key=lambda p: p[1])
    return rate, quality, bool(good)


def payload_symbols(radio, sizes: list[float]) -> int:
    """Channel uses of packets of these byte sizes through the radio's CRC, LDPC and QAM (no RTP, no FEC)."""
    from semtalk.bench.codecs import channel_uses

    whole = [max(1, round(s)) for s in sizes if s > 0]
    return channel_uses(radio, whole) if whole else 0


def _equal(total_bytes: float, packets: int) -> list[float]:
    """``packets`` packets of equal size holding ``total_bytes``."""
    return [total_bytes / packets] * packets if packets > 0 and total_bytes > 0 else []


def _mean_ssim(frames: np.ndarray, shown: dict[int, np.ndarray]) -> float:
    from semtalk.metrics.video import ssim

    return float(np.mean([ssim(frames[i], image) for i, image in sorted(shown.items())]))


def h264_matched(crops, frames: list[int], target: float) -> dict:
    """x264 over the whole clip at the lowest bitrate whose mean SSIM on ``frames`` reaches ``target``."""
    from semtalk.media.video_codec import YuvClip, decode_video, encode_video

    clip = YuvClip.from_rgb(list(crops.frames), crops.fps)
    tried: dict[float, tuple] = {}

    def measure(kbps: float) -> float:
        encoded = encode_video(clip, "x264", kbps)
        decoded = decode_video(encoded)
        tried[kbps] = encoded, decoded
        return _mean_ssim(crops.frames, {i: decoded[i] for i in frames})

    points = match_rate(measure, target, *VIDEO_KBPS)
    knob, quality, reached = pick_matched(points, target)
    encoded, decoded = tried[knob]
    heldout = _mean_ssim(crops.frames, {i: decoded[i] for i in range(crops.heldout_start, len(crops.frames))})
    return {"encoded": encoded, "ssim": quality, "ssim_heldout": heldout, "reached": reached, "knob_kbps": knob,
            "points": [[round(r, 2), round(q, 4)] for r, q in sorted(points)]}


def aac_matched(audio: np.ndarray, target: float) -> dict:
    """AAC at the lowest bitrate whose PESQ-WB reaches ``target`` (``floor``: its lowest rate already does)."""
    from semtalk.media.audio_codec import decode_audio, encode_audio_packets
    from semtalk.metrics import audio as am

    tried = {}

    def measure(kbps: float) -> float:
        tried[kbps] = encode_audio_packets(audio, 16000, "aac", kbps)
        return am.or_none(am.pesq_wb, audio, decode_audio(tried[kbps]), 16000) or 0.0

    points = match_rate(measure, target, *AUDIO_KBPS)
    knob, quality, reached = pick_matched(points, target)
    return {"coded": tried[knob], "pesq_wb": quality, "reached": reached, "floor": knob == AUDIO_KBPS[0],
            "knob_kbps": knob, "points": [[round(r, 2), round(q, 3)] for r, q in sorted(points)]}


def wav2vid_table_method(task: Task, env: BenchEnv) -> dict:
    """Table II for one clip: bytes and channel symbols of H.264 + AAC (matched), SyncSC, Txt2Vid and Wav2Vid."""
    from semtalk.bench.text_cells import clip_audio
    from semtalk.bench.txt2vid import reference_frames
    from semtalk.media.audio_codec import encode_audio
    from semtalk.metrics import audio as am
    from semtalk.phy.radio import DigitalRadio, RadioConfig

    p = task.params
    crops = held_out(env, task.clip)
    w2v, _ = call(env, task.clip, wav2vid_config(env, task.clip, p, task.seed, "opus"), fresh=False)
    sync, _ = call(env, task.clip, syncsc_config(env, task.clip, {**p, "modulation": p["syncsc_modulation"],
                                                                 "fec": p["syncsc_fec"]}, task.seed), fresh=False)
    radio = DigitalRadio(RadioConfig(channel=p["channel"], coherence=p["coherence"], **PAYLOAD_RADIO))
    w, wa = w2v["wav2vid"], w2v.get("audio") or {}
    seconds = w2v["duration_s"]

    # Wav2Vid: its clips as the receiver decodes them, and the quality they reach on the frames they cover.
    shown: dict[int, np.ndarray] = {}
    clip_sizes: list[float] = []
    sent = w2v["config"]  # the clips' codec, bitrate and preset as that call used them
    for first, count in w["clips"]:
        encoded, decoded = encode_clip(crops.frames[first:first + count], sent["clip_codec"], sent["clip_kbps"],
                                       w.get("clip_preset", sent.get("clip_preset")))
        clip_sizes += [len(x) for x in encoded.packets]
        shown.update({first + i: image for i, image in enumerate(decoded) if first + i < len(crops.frames)})
    covered = sorted(shown)
    basis = "clip frames"
    if covered:
        target_ssim = _mean_ssim(crops.frames, shown)
    else:  # no clip sent: match Wav2Vid's whole held-out quality instead
        basis, covered, target_ssim = "held-out frames", list(range(crops.heldout_start, len(crops.frames))), \
            w2v["video"]["ssim"]
    spans = wa.get("spans") or 0
    w2v_symbols = payload_symbols(radio, clip_sizes + _equal(w["data_bytes_audio"], spans))

    # H.264 + AAC at matched quality.
    video = h264_matched(crops, covered, target_ssim)
    audio = clip_audio(env, task.clip)[:round(seconds * 16000)]
    opus = encode_audio(audio, 16000, "opus", p["audio_kbps"])
    target_pesq = am.pesq_wb(audio, opus.samples, 16000)
    aac = aac_matched(audio, target_pesq)
    h264_bytes, aac_bytes = video["encoded"].total_bytes, sum(len(x) for x in aac["coded"].packets)
    h264_symbols = payload_symbols(radio, [len(x) for x in video["encoded"].packets] +
                                   [len(x) for x in aac["coded"].packets])

    # SyncSC and Txt2Vid from the SyncSC call.
    v, s = sync["video"], sync.get("speech") or {}
    words = s.get("words_sent") or 0
    face_bytes = (v.get("stream_kbps") or 0.0) * 1000 * seconds / 8
    speech_bytes = sum(s.get(k) or 0.0 for k in ("text_bps", "timing_bps", "prosody_bps")) * seconds / 8
    text_bytes = (s.get("text_bps") or 0.0) * seconds / 8
    face_packets = math.ceil((v.get("frames") or 0) / FACE_FRAMES_PER_PACKET)
    _, ref_encoded = reference_frames(crops)
    reference_bytes = ref_encoded.total_bytes
    systems = {
        "h264_aac": (h264_bytes + aac_bytes, h264_symbols),
        "syncsc": (face_bytes + speech_bytes,
                   payload_symbols(radio, _equal(face_bytes, face_packets) + _equal(speech_bytes, words))),
        "txt2vid": (text_bytes + reference_bytes,
                    payload_symbols(radio, _equal(text_bytes, words) + [len(x) for x in ref_encoded.packets])),
        "wav2vid": (w["data_bytes"], w2v_symbols),
    }
    row: dict = {"table": "data", "system": "table2", "seconds": seconds}
    for name, (size, symbols) in systems.items():
        row[f"{name}_bytes"], row[f"{name}_symbols"] = round(size, 1), symbols
    base_bytes, base_symbols = systems["h264_aac"]
    return {**row,
            "reduction_pct": 100 * (1 - w["data_bytes"] / base_bytes),
            "reduction_symbols_pct": 100 * (1 - w2v_symbols / base_symbols),
            "h264_bytes": h264_bytes, "h264_kbps": video["encoded"].kbps, "aac_bytes": aac_bytes,
            "aac_kbps": aac["coded"].kbps, "ssim_wav2vid_clips": target_ssim, "ssim_h264": video["ssim"],
            "ssim_h264_heldout": video["ssim_heldout"], "ssim_wav2vid_heldout": w2v["video"].get("ssim"),
            "ssim_syncsc_heldout": v.get("ssim"), "matched_frames": len(covered), "match_basis": basis,
            "h264_reached": video["reached"], "pesq_opus": target_pesq, "pesq_opus_call": wa.get("pesq_wb"),
            "pesq_aac": aac["pesq_wb"], "aac_reached": aac["reached"], "aac_floor": aac["floor"],
            "wav2vid_bytes_clips": w["data_bytes_clips"], "wav2vid_bytes_audio": w["data_bytes_audio"],
            "wav2vid_clips_sent": w["clips_sent"], "wav2vid_frames_sent_fraction": w["frames_sent_fraction"],
            "syncsc_face_bytes": face_bytes, "syncsc_words_bytes": speech_bytes, "txt2vid_words_bytes": text_bytes,
            "txt2vid_reference_bytes": reference_bytes,
            "wav2vid_symbols_on_air": (w.get("channel_symbols") or {}).get("total"),
            "syncsc_symbols_on_air": (sync.get("phy") or {}).get("channel_uses"),
            "kb_bytes": v.get("kb_bytes"),
            "details": json.dumps({"h264_points": video["points"], "h264_knob_kbps": video["knob_kbps"],
                                   "aac_points": aac["points"], "aac_knob_kbps": aac["knob_kbps"],
                                   "recoded_clip_bytes": int(sum(clip_sizes)), "words": words,
                                   "payload_radio": PAYLOAD_RADIO}, sort_keys=True)}
