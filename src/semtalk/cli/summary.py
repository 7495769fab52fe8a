"""The few lines ``semtalk run`` and ``semtalk demo`` print from a call's report."""

from __future__ import annotations

from pathlib import Path


def summary(report: dict, out: Path) -> str:
    """The few numbers a person looks at first."""
    v, n = report["video"], report["network"]
    if not report.get("config", {}).get("metrics", True):
        quality = "  quality  not scored (--no-metrics)"
    elif v["heldout_frames"] is None:
        quality = "  quality  not scored: every frame of the clip went into the KB (none held out)"
    else:
        quality = (f"  quality  held-out frames {v['heldout_frames']}: SSIM {_num(v['ssim'], '.3f')}, PSNR "
                   f"{_num(v['psnr'], 'g')} dB, MS-SSIM {_num(v['ms_ssim'], 'g')}, VMAF {_num(v['vmaf'], '.1f')}")
    if v.get("reference"):
        quality += f" (against {v['reference']})"
    silent = report.get("audio", {}).get("mode") == "none"
    no_audio = ["  speech   none: the input has no audio track"] if silent else []
    what = "coefficients" + (f" with a motion field ({v['field_kbps']:.2f})" if v.get("field_packets") else "")
    what += " and refreshes" if "refresh" in report else ""
    stream = (_m3e_summary(report) if "m3e" in report else _wav2vid_summary(report) if "wav2vid" in report
              else _lgmtsc_summary(report) if "lgmtsc" in report else None) or [
        f"  stream   {v['stream_kbps']:.2f} kbps {what} ({v['bits_per_frame']:.1f} bits/frame), "
        f"{v['rtp_kbps']:.2f} kbps with RTP headers, {v['channel_kbps']:.2f} kbps on the channel; "
        f"KB {v['kb_bytes'] / 1024:.0f} KiB once", *_refresh_summary(report)]
    return "\n".join([
        f"semtalk: {report['input']} → {out}",
        *stream,
        *_radio_summary(report.get("phy")),
        f"  network  {n['packets_lost']}/{n['packets_sent']} packets lost ({n['loss_rate']:.1%}), "
        + (f"{n['packets_recovered']} recovered by {n['fec']} FEC, " if not {"lgmtsc", "m3e"} & set(report)
           else "no packet FEC, ")
        + f"{v['concealed_frames']} frames concealed",
        quality,
        f"  speed    {sum(v['ms_per_frame'].values()):.1f} ms/frame in all "
        f"(render {v['ms_per_frame'].get('render', 0):.1f})",
        *_speech_summary(report.get("speech")),
        *no_audio,
    ])


def _refresh_summary(report: dict) -> list[str]:
    """SyncSC's KB refresh line: how many went out and arrived, and their share of the stream rate above."""
    r = report.get("refresh")
    if r is None:
        return []
    v = report["video"]
    shown = r["frames_sent"][:8]
    frames = ", ".join(map(str, shown)) + (", …" if len(r["frames_sent"]) > len(shown) else "")
    return [f"  refresh  {r['sent']} keyframes sent (frames {frames or 'none'}), {r['used']} used; "
            f"{v['refresh_kbps']:.2f} of those kbps (budget {r['kbps_budget']:g}), "
            f"{r['channel_kbps']:.2f} kbps on the channel"]


def _num(value, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _wav2vid_summary(report: dict) -> list[str]:
    """The stream lines of :func:`summary` for ``--mode wav2vid``: clips, data, audio and lips."""
    w, a, v = report["wav2vid"], report["audio"], report["video"]
    return [f"  clips    {w['clips_sent']} sent ({w['frames_sent_fraction']:.0%} of frames, {w['clip_codec']}), "
            f"{w['clips_received']} received; {w['frames_generated']} frames generated from the audio, mouth "
            f"correlation {_num(w['mouth_correlation'], '.2f')}",
            f"  data     {w['data_bytes'] / 1000:.1f} kB ({w['data_bytes_clips'] / 1000:.1f} kB clips + "
            f"{w['data_bytes_audio'] / 1000:.1f} kB audio, {a['carrier']}); KB {v['kb_bytes'] / 1024:.0f} KiB once; "
            f"PESQ-WB {_num(a.get('pesq_wb'), '.2f')}, AV offset "
            f"{_num(report.get('speech', {}).get('av_offset_ms'), '+.0f')} ms"]


def _lgmtsc_summary(report: dict) -> list[str]:
    """The stream and speech lines of :func:`summary` for ``--mode lgmtsc``: text, its cost, what arrived."""
    g, s, v = report["lgmtsc"], report.get("speech") or {}, report["video"]
    learned = g["text_coder"] == "learned"
    cost = f"{g['symbols']} analog symbols" if learned else f"{g['text_bytes']} B {g['text_coder']}"
    return [f"  text     {g['sentences']} sentences, {g['chars_in']} → {g['chars_out']} characters (length "
            f"{g['length_class']}, {g['length_control']}; LM {g['backend']}), {cost}, "
            f"{_num(g['channel_uses'], 'd')} channel uses; KB {v['kb_bytes'] / 1024:.0f} KiB once",
            f"  received semantic similarity {_num(s.get('semantic_similarity'), '.3f')}, BLEU "
            f"{_num(s.get('bleu'), '.3f')}: \"{s.get('received_text', '')}\""]


def _m3e_summary(report: dict) -> list[str]:
    """The stream lines of :func:`summary` for ``--mode m3e``: keyframes, text, the check and its return path."""
    m, s = report["m3e"], report.get("speech") or {}
    return [f"  keyframes {m['keyframes']} ({m['keyframe_codec']}, {_num(m['keyframe_bpp'], '.3f')} bpp), "
            f"{_num(m['bits_per_gop'], '.0f')} bits per GOP of {_num(m['gop_frames_mean'], '.1f')} frames; "
            + (f"{m['face_filled_frames']} frames rendered from {m['coefficient_kbps']:.2f} kbps of face "
               f"coefficients, {m['flow_filled_frames']} by optical flow, " if m.get("fill") == "face" else
               f"{m['interpolated_frames']} frames by optical flow, ") + f"{m['held_frames']} held",
            f"  text     {m['sentences']} sentences ({m['text_coder']}), similarity check ξ̂ "
            f"{_num(m['similarity_first_mean'], '.3f')} → {_num(m['similarity_mean'], '.3f')} after "
            f"{m['retransmissions']} resends ({m['feedback_bits']} feedback bits, "
            f"+{_num(m['added_delay_ms_mean'], '.0f')} ms); received semantic similarity "
            f"{_num(s.get('semantic_similarity'), '.3f')}"]


def _radio_summary(phy: dict | None) -> list[str]:
    """The radio line of :func:`summary`, when the call went over ``awgn`` or ``rayleigh``."""
    if not phy:
        return []
    if phy.get("carrier") == "analog":
        return [f"  radio    {phy['channel']} at {phy['snr_db']:g} dB Es/N0, analog symbols (learned coder): "
                f"{phy['channel_uses_per_s']:.0f} channel uses/s"]
    return [f"  radio    {phy['channel']} at {phy['snr_db']:g} dB Es/N0, {phy['modulation']} + LDPC "
            f"{phy['ldpc_rate_fraction']}: BER {phy['ber_uncoded']:.2e} before decoding, {phy['ber_coded']:.2e} after, "
            f"BLER {phy['bler']:.1%}; {phy['packets_lost']}/{phy['packets_sent']} packets erased, all streams; "
            f"{phy['channel_uses_per_s']:.0f} channel uses/s"]


def _speech_summary(s: dict | None) -> list[str]:
    """The speech line of :func:`summary`, when the call regenerated speech."""
    if not s or s.get("mode") != "semantic" or "words_sent" not in s:
        return []
    return [f"  speech   {s['words_sent']} words at {s['text_bps'] + s['timing_bps']:.0f} bps text + timing "
            f"(+{s['prosody_bps']:.0f} prosody), {s['concealed_words']} concealed; re-ASR WER "
            f"{_num(s['resynth_wer'], '.2f')}, AV offset {_num(s['av_offset_ms'], '+.0f')} ms "
            f"(original {_num(s['av_offset_ms_original'], '+.0f')})"]
