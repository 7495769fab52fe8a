"""Bench cells of the classic "codec + LDPC + QAM" systems over the radio (``bench.radio``'s grid).

Each codec is rate-matched to the largest bitrate its packets are sure to fit into the cell's channel-use budget
at the cell's modulation and LDPC rate (``codecs.radio_kbps``, divided by ``rate.TOLERANCE`` because the rate
search may overshoot its target), then sent through ``phy.radio.DigitalRadio`` at the cell's SNR with the
cell's seed. Lost data is shown by each medium's convention: FREEZE for video, silence for speech, the
previous picture for JPEG. Video is scored on the clip's held-out crops like semtalk's call.
"""

from __future__ import annotations

import json

import numpy as np

from semtalk.bench.radio import held_out, radio_config
from semtalk.bench.runner import BenchEnv, Task

AUDIO_FRAMES_PER_S = {"opus": 50.0, "aac": 16000 / 1024}  # packets per second at 16 kHz (20 ms / 1024 samples)
JPEG_EVERY = 25  # jpeg_radio: one held-out frame a second is sent as a picture


def _radio(params: dict):
    from semtalk.phy.radio import DigitalRadio

    return DigitalRadio(radio_config(params))


def _link_columns(d) -> dict:
    """What every cell reports of its radio link (``codecs.radio.RadioDelivery``)."""
    return {"packet_loss": d.packets_lost / d.packets_sent if d.packets_sent else 0.0,
            "channel_uses_per_s": d.channel_uses_per_s, "ber_uncoded": d.link.ber_uncoded,
            "ber_coded": d.link.ber_coded, "bler": d.link.bler}


def codec_radio_video_method(task: Task, env: BenchEnv) -> dict:
    """A video codec at the cell's bandwidth, one I-frame a second, over the radio; frozen where lost."""
    from semtalk.bench.codec_cells import rate_point
    from semtalk.bench.codecs import LOSS_GOP, decode_video, radio_kbps, video_metrics, video_over_radio
    from semtalk.bench.codecs.rate import TOLERANCE

    p = task.params
    crops = held_out(env, task.clip)
    radio = _radio(p)
    target = round(radio_kbps(p["bandwidth"], radio, crops.fps) / TOLERANCE, 2)
    point = rate_point(env, task.clip, crops, p["codec"], target, gop=LOSS_GOP)
    sent = video_over_radio(point.encoded, radio, p["snr"], np.random.default_rng(task.seed))
    shown = decode_video(point.encoded, keep=sent.keep)[crops.heldout_start:]
    q = video_metrics(list(crops.heldout), shown, vmaf=p["score_vmaf"], fps=crops.fps)
    return {"table": "video", "kbps": point.kbps, "target_kbps": target, "floor": point.floor,
            **{m: q[m] for m in ("psnr", "ssim", "ms_ssim", "vmaf")}, **_link_columns(sent),
            "concealed_frames": int((~sent.decodable[crops.heldout_start:]).sum()),
            "details": json.dumps({"gop": LOSS_GOP, "packets_sent": sent.packets_sent,
                                   "packets_lost": sent.packets_lost, "knob_kbps": point.knob_kbps}, sort_keys=True)}


def codec_radio_speech_method(task: Task, env: BenchEnv) -> dict:
    """A speech codec at the cell's bandwidth over the radio; lost frames silent; PESQ-WB and re-ASR WER."""
    from semtalk.bench.codecs import audio_over_radio, radio_kbps
    from semtalk.bench.text_cells import ASR_RATE, clip_audio, clip_reference, transcribe
    from semtalk.metrics import audio as am
    from semtalk.metrics.text import wer

    p = task.params
    audio = clip_audio(env, task.clip)
    radio = _radio(p)
    target = round(radio_kbps(p["bandwidth"], radio, AUDIO_FRAMES_PER_S[p["codec"]]), 2)
    out, sent = audio_over_radio(audio, ASR_RATE, p["codec"], target, radio, p["snr"],
                                 np.random.default_rng(task.seed))
    heard = " ".join(w.text for w in transcribe(out))
    return {"table": "speech", "kbps": sent.kbps, "target_kbps": target, **_link_columns(sent),
            "pesq_wb": am.or_none(am.pesq_wb, audio, out, ASR_RATE), "stoi": am.or_none(am.stoi, audio, out, ASR_RATE),
            "resynth_wer": wer(clip_reference(env, task.clip), heard),
            "details": json.dumps({"packets_sent": sent.packets_sent, "packets_lost": sent.packets_lost},
                                  sort_keys=True)}


def jpeg_radio_method(task: Task, env: BenchEnv) -> dict:
    """M3E-VSC's "JPEG + 16-QAM": one held-out crop a second as a JPEG at the cell's CBR over the radio."""
    from semtalk.bench.codecs import jpeg_over_radio
    from semtalk.bench.loss_cells import score_frames

    p = task.params
    crops = held_out(env, task.clip)
    radio = _radio(p)
    rng = np.random.default_rng(task.seed)
    indices = range(crops.heldout_start, len(crops.frames), JPEG_EVERY)
    shown, infos, previous = {}, [], None
    for i in indices:
        previous, info = jpeg_over_radio(crops.frames[i], p["cbr"], radio, p["snr"], rng, previous=previous)
        shown[i] = previous
        infos.append(info)
    q = score_frames(crops.frames, shown)
    lost = sum(not info.delivered for info in infos)
    return {"table": "image", "codec": "jpeg", **q, "packet_loss": lost / len(infos),
            "bpp": float(np.mean([info.bpp for info in infos])),
            "capacity_snr_db": float(np.mean([info.capacity_snr_db for info in infos])),
            "realised_cbr": float(np.mean([info.cbr for info in infos])),
            "details": json.dumps({"pictures": len(infos), "lost": lost,
                                   "qualities": [info.quality for info in infos]}, sort_keys=True)}
