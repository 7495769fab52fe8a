"""The ``report.json`` of a call: input, config, KB, video (rates, held-out quality, speed), network, audio.

Rates come from what the sender coded and what went on the link; quality from the frames the receiver
played, scored on held-out frames only; speech is the mode's own section (``Mode.speech_report``).
"""

from __future__ import annotations

from dataclasses import asdict

from semtalk.records import rounded


def call_report(input_path, config, mode, sender, receiver, link, outputs, timer, vmaf_score: float | None,
                duration: float, has_audio: bool, wall: float) -> dict:
    """``wall``: seconds from the first frame to the last output closed (VMAF included); stages overlap (the
    outputs run on their own thread), so it is less than the sum of ``ms_per_frame``.

    ``duration_s`` is what was decoded (frames ÷ fps), the span the video rates are measured over; ``duration``, what
    the container declared (capped by ``--max-seconds``), is kept as ``probed_duration_s``: a truncated file
    declares more than it holds.
    """
    from semtalk.kb.info import describe

    sent, got = sender.report(), receiver.report()
    stream = link.stream(0)
    n = sent["frames"]
    seconds = n / mode.fps
    q = outputs.quality.compute()
    payload_bits = sent["payload_bits"]
    rtp_bits = 8 * (payload_bits // 8 + 12 * sent["source_packets"])
    heldout = outputs.heldout
    return {
        "input": str(input_path),
        "mode": config.mode,
        "config": {k: v for k, v in asdict(config).items() if k != "progress"},
        "kb": {k: v for k, v in describe(mode.kb, mode.kb_bytes).items()
               if k in ("hash", "bytes", "keyframes", "mouth_atlas", "image_codec", "info")},
        "video": {
            "frames": n,
            "fps": mode.fps,
            "coefficients_per_frame": sent.get("coefficients_per_frame", mode.kb.face_model.n_coeffs),
            "bits_per_frame": round(payload_bits / max(n, 1), 2),
            "stream_kbps": round(payload_bits / seconds / 1000, 3),
            "refresh_kbps": round(sent.get("refresh_bits", 0) / seconds / 1000, 3),
            # SyncSC's motion field (``modes.syncsc.motion``): its share of stream_kbps, and the packets with one
            "field_kbps": round(sent.get("field_bits", 0) / seconds / 1000, 3),
            "field_packets": sent.get("field_packets", 0),
            "target_kbps": sent.get("target_kbps"), "precision_level": sent.get("precision_level"),
            "rtp_kbps": round(rtp_bits / seconds / 1000, 3),
            "channel_kbps": round(8 * stream.bytes / seconds / 1000, 3),
            "kb_bytes": len(mode.kb_bytes),
            "heldout_frames": [int(heldout[0]), int(heldout[1])] if heldout[1] >= 0 else None,
            "psnr": rounded(q["psnr"]), "ssim": rounded(q["ssim"], 4), "ms_ssim": rounded(q["ms_ssim"], 4),
            "vmaf": rounded(vmaf_score), "metric_frames": q["frames"],
            "blink_correlation": rounded(outputs.blink.compute(), 3) if getattr(outputs, "blink", None) else None,
            "no_face_frames": sent["no_face_frames"], "concealed_frames": got["concealed_frames"],
            "face_missing_frames": got.get("face_missing_frames"),  # played with no face in view (None: not told)
            "clipped_frames": sent["clipped_frames"],
            "ms_per_frame": timer.ms_per_frame(n),
            "realtime_factor": round(sum(timer.seconds.values()) / max(seconds, 1e-9), 3),
            "wall_s": round(wall, 2), "wall_realtime_factor": round(wall / max(seconds, 1e-9), 3),
        },
        "network": {
            "packets_sent": stream.packets, "source_packets": sent["source_packets"],
            "packets_lost": stream.lost, "packets_recovered": got["packets_recovered"],
            "loss_rate": round(stream.lost / max(stream.packets, 1), 4),
            "channel": config.channel, "loss": config.loss, "burst": config.burst,
            "fec": config.fec, "code_rate": round(mode.code.code_rate, 4), "fec_k": mode.code.k,
            "frames_per_packet": sent.get("frames_per_packet", config.frames_per_packet),
            "latency_ms": round(1000 * receiver.latency, 1),
            "late_frames": got["late_frames"], "garbage_packets": got["garbage_packets"],
            "wrong_kb_packets": got["wrong_kb_packets"], "implausible_frames": got.get("implausible_frames", 0),
        },
        "audio": _audio(has_audio, mode.speaks),
        "duration_s": round(seconds, 3),
        "probed_duration_s": round(duration, 3),
        **({"phy": phy} if (phy := _phy(config, link, n, seconds)) else {}),
    }


def _phy(config, link, frames: int, seconds: float) -> dict | None:
    """The radio's section: the scheme, what it cost in channel uses and how it erred, over every stream.

    Bandwidth is counted as Seb does: channel uses (complex symbols, pilots included) per second, and for the
    face stream the channel bandwidth ratio CBR = channel uses ÷ source dimensions (3·H·W per frame) with the
    ideal-capacity SNR at which its bits would fit (``phy.theory.capacity_snr_threshold_db``).
    """
    from semtalk.phy.radio import ldpc_rate
    from semtalk.phy.theory import capacity_snr_threshold_db, channel_bandwidth_ratio

    total = link.radio()
    if total is None:
        return None
    face = link.radio([0])
    pixels = max(frames, 1) * config.crop_size**2
    cbr = channel_bandwidth_ratio(face.channel_uses, 3 * pixels) if face.channel_uses else None
    bpp = face.info_bits / pixels
    rate = ldpc_rate(config.ldpc_rate)
    return {
        "channel": config.channel, "snr_db": config.snr, "modulation": config.modulation,
        "ldpc_rate": round(float(rate), 4), "ldpc_rate_fraction": str(rate), "csi": config.csi,
        "coherence_symbols": config.coherence if config.channel == "rayleigh" else None,
        "pilots": config.pilots if config.csi == "estimated" else 0,
        "channel_uses": total.channel_uses, "channel_uses_per_s": round(total.channel_uses / max(seconds, 1e-9), 1),
        "pilot_symbols": total.pilot_symbols,
        "ber_uncoded": round(total.ber_uncoded, 6), "ber_coded": round(total.ber_coded, 6),
        "bler": round(total.bler, 6), "packet_loss": round(total.packet_loss, 4),
        "packets_sent": total.packets_sent, "packets_lost": total.packets_lost, "blocks": total.blocks,
        "block_errors": total.block_errors, "undetected_errors": total.undetected_errors,
        "video": {"channel_uses_per_s": round(face.channel_uses / max(seconds, 1e-9), 1),
                  "cbr": None if cbr is None else round(cbr, 6), "bpp_on_air": round(bpp, 5),
                  "capacity_snr_db": None if cbr is None else rounded(float(capacity_snr_threshold_db(bpp, cbr)), 2)},
    }


def _audio(has_audio: bool, speaks: bool) -> dict:
    if not has_audio:
        return {"mode": "none", "note": "the input has no audio"}
    if speaks:
        return {"mode": "synthesized", "note": "speech regenerated at the receiver from the words sent"}
    return {"mode": "passthrough", "note": "original audio is muxed for listening; it is not part of the "
            "semantic stream"}
