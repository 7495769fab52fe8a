"""M3E-VSC's report section ``m3e``: keyframes, bits per GOP, the check (ξ̂ before and after the retransmissions,
and with ``score`` the true eq.-9 similarity against the sent text), the return path's cost and the added delay,
and how the frames between keyframes were filled (``fill``: eq.-10 flow, or the face renderer from the coefficient
stream, whose payload bits count in ``bits`` and ``bits_per_gop``)."""

from __future__ import annotations

import numpy as np

from semtalk.modes.m3e.config import M3eConfig
from semtalk.modes.m3e.ends import FPS, KEYFRAMES, TEXT, M3eReceiver, M3eSender
from semtalk.modes.m3e.face import COEFFICIENTS
from semtalk.records import rounded


def _mean(values) -> float | None:
    values = list(values)
    return float(np.mean(values)) if values else None


def sentence_scores(sender: M3eSender, receiver: M3eReceiver, score: bool) -> dict:
    """Per sentence sent: ξ̂ first and final (0 for a sentence that never arrived) and, with ``score``, eq. 9
    against the sent text; means and the fractions at or above ξ_min."""
    xi = receiver.config.xi_min
    sent = [short for _, _, short in sender.sent]
    heard = [receiver.heard.get(i) for i in range(len(sent))]
    first = [h.first_similarity if h else 0.0 for h in heard]
    final = [h.similarity if h else 0.0 for h in heard]
    out = {"sentences": len(sent), "sentences_received": sum(h is not None for h in heard),
           "similarity_mean": rounded(_mean(final), 4), "similarity_first_mean": rounded(_mean(first), 4),
           "above_xi_first": rounded(_mean(s >= xi for s in first), 4),
           "above_xi_final": rounded(_mean(s >= xi for s in final), 4)}
    if not score:
        return out
    from semtalk.metrics.text import semantic_similarity

    def true(reference: str, text: str | None) -> float:
        return 0.0 if text is None else 1.0 if text == reference else semantic_similarity(reference, text)

    t_first = [true(s, h.first_text if h else None) for s, h in zip(sent, heard, strict=True)]
    t_final = [true(s, h.text if h else None) for s, h in zip(sent, heard, strict=True)]
    return {**out, "true_similarity_first_mean": rounded(_mean(t_first), 4),
            "true_similarity_mean": rounded(_mean(t_final), 4),
            "true_above_xi_first": rounded(_mean(s >= xi for s in t_first), 4),
            "true_above_xi_final": rounded(_mean(s >= xi for s in t_final), 4),
            "per_sentence": [{"sent": s, "first": h.first_text if h else None, "final": h.text if h else None,
                              "copies": h.copies if h else 0, "xi_first": rounded(f, 4), "xi_final": rounded(g, 4),
                              "true_first": rounded(a, 4), "true_final": rounded(b, 4)}
                             for s, h, f, g, a, b in zip(sent, heard, first, final, t_first, t_final, strict=True)]}


def fill_section(config: M3eConfig, sender: M3eSender, receiver: M3eReceiver, link) -> dict:
    """How the frames between keyframes were filled, and what the coefficient stream cost and lost."""
    seconds = sender.frames / FPS
    out = {"fill": config.fill, "face_filled_frames": receiver.face_filled, "flow_filled_frames": receiver.flow_filled,
           "face_one_keyframe_frames": receiver.face_one_keyframe, "coefficient_bits": sender.coefficient_bits,
           "coefficient_kbps": rounded(sender.coefficient_bits / seconds / 1000, 3) if seconds else 0.0}
    face, guide = sender.coefficients, receiver.guide
    if face is None or guide is None:
        return out
    stream = link.stream(COEFFICIENTS)
    return {**out, "coefficient_target_kbps": face.config.video_target(), "coefficient_fec": face.config.fec,
            "coefficient_code_rate": round(face.config.code().code_rate, 4),
            "coefficient_frames_per_packet": face.config.frames_per_packet, "coefficient_packets": stream.packets,
            "coefficient_packets_lost": stream.lost, "coefficient_packets_recovered": guide.stream.recovered,
            "coefficient_no_face_frames": face.no_face}


def sections(config: M3eConfig, sender: M3eSender, receiver: M3eReceiver, link, score: bool = True) -> dict:
    keys, r = len(sender.keyframe_frames), sender.resend
    bits = sender.report()["payload_bits"]
    back = link.back.stream(0) if link.back is not None else None
    pixels = sender.frames and receiver.size**2
    analog = link.analog_counts(TEXT)
    text_radio = link.radio([TEXT])
    m3e = {
        "keyframes": keys,
        "keyframes_received": len(receiver.key_ids),
        "keyframe_frames": sender.keyframe_frames,
        "keyframe_threshold": config.keyframe_threshold,
        "keyframe_codec": config.keyframe_codec,
        "keyframe_bpp": rounded(sender.keyframe_bits / max(keys * pixels, 1), 4),
        "keyframe_quality_mean": rounded(_mean(sender.quality), 1),
        "gop_frames_mean": rounded(sender.frames / keys, 2) if keys else None,
        "bits_per_gop": rounded(bits / keys, 1) if keys else None,
        "bits": bits,
        "keyframe_bits": sender.keyframe_bits,
        "text_bits": sender.text.report()["payload_bits"],
        "text_coder": config.text_coder,
        "text_channel_uses": analog.channel_uses if analog is not None else (
            text_radio.channel_uses if text_radio is not None else None),
        "xi_min": config.xi_min,
        "ask_below": round(config.ask_below, 3),
        "check": "posterior" if config.text_coder == "learned" else "crc",
        "retransmissions": r.resent_sentences + r.resent_keyframes,
        "retransmitted_sentences": r.resent_sentences,
        "retransmitted_keyframes": r.resent_keyframes,
        "retransmissions_asked": receiver.retransmissions_asked,
        "resent_bits": r.resent_sentence_bits + r.resent_keyframe_bits,
        "requests_sent": receiver.requests_sent,
        "requests_lost": back.lost if back is not None else 0,
        "feedback_bits": receiver.feedback_bits,
        "added_delay_ms_mean": rounded(1000 * m, 1) if (m := _mean(receiver.added_delay)) is not None else None,
        "added_delay_ms_max": rounded(1000 * max(receiver.added_delay), 1) if receiver.added_delay else None,
        "interpolated_frames": receiver.interpolated,
        "held_frames": receiver.held,
        **fill_section(config, sender, receiver, link),
        "latency_ms": round(1000 * receiver.latency, 1),
        "keyframe_packets": link.stream(KEYFRAMES).packets,
        "keyframe_packets_lost": link.stream(KEYFRAMES).lost,
        "seconds": round(sender.frames / FPS, 3),
        **sentence_scores(sender, receiver, score),
    }
    return {"m3e": m3e}
