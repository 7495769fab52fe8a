"""LGM-TSC's report sections: ``lgmtsc`` (LM backend, length class, characters, symbols), ``speech`` (the text's
fidelity — semantic similarity and BLEU — and the speech's voice and sync) and, for the learned coder's analog
symbols, ``phy``."""

from __future__ import annotations

import numpy as np

from semtalk.modes.lgmtsc.config import LgmtscConfig
from semtalk.modes.lgmtsc.ends import FPS, RATE, TEXT, LgmtscReceiver, LgmtscSender
from semtalk.modes.syncsc.mode import filled
from semtalk.records import rounded

MIN_HELDOUT_S = 1.5  # seconds of speech after the voice enrollment needed to score speaker similarity


def speech_section(sender: LgmtscSender, receiver: LgmtscReceiver, original: np.ndarray, outputs, *,
                   transcript: str | None, voice_seconds: float, score: bool) -> dict:
    """Text against text always (recognised → sent → received); listening scores only with ``score``.

    ``semantic_similarity`` and ``bleu`` compare what the receiver speaks with what the sender recognised (the
    meaning carried end to end, shortening included); the ``_channel`` variants compare it with the shortened text
    that was sent (the channel's and the decoder's damage alone)."""
    from semtalk.metrics import text as tm

    recognised = " ".join(text for _, text, _ in sender.sent)
    sent = " ".join(short for _, _, short in sender.sent)
    received = receiver.received_text()
    decoded = " ".join(receiver.heard[i].decoded for i in sorted(receiver.heard))
    out = {
        "mode": "semantic",
        "scored": score,
        "sentences_sent": len(sender.sent),
        "sentences_received": len(receiver.heard),
        "late_sentences": receiver.late_sentences,
        "recognised_text": recognised,
        "sent_text": sent,
        "decoded_text": decoded,
        "received_text": received,
        "asr_wer": None if transcript is None else rounded(tm.wer(transcript, recognised), 4),
        "received_wer": rounded(tm.wer(recognised, received), 4) if recognised else None,
        "bleu": rounded(tm.bleu(recognised, received), 4) if recognised else None,
        "bleu_channel": rounded(tm.bleu(sent, received), 4) if sent else None,
        "bleu_decoded": rounded(tm.bleu(sent, decoded), 4) if sent else None,
        "voice_adapted": receiver.adapt is not None,
    }
    if not score:
        return {**out, "semantic_similarity": None, "semantic_similarity_channel": None}
    from semtalk.dsp.sync import av_offset_ms
    from semtalk.metrics import audio as am

    def similarity(a: str, b: str) -> float | None:
        return rounded(tm.semantic_similarity(a, b), 4) if a.strip() and b.strip() else None

    played = receiver.speech_audio
    start = round(voice_seconds * RATE)
    heldout = original.size - start >= MIN_HELDOUT_S * RATE
    voice_ref = original[start:] if heldout else original
    return {
        **out,
        "semantic_similarity": similarity(recognised, received),
        "semantic_similarity_channel": similarity(sent, received),
        "semantic_similarity_transcript": similarity(transcript, received) if transcript else None,
        "speaker_similarity": rounded(am.or_none(am.speaker_similarity, voice_ref,
                                                 played[start:] if heldout else played, RATE), 4),
        "speaker_heldout": heldout,
        "av_offset_ms": rounded(am.or_none(av_offset_ms, filled(outputs.out_mouth), FPS, played, RATE), 1)
        if outputs.out_mouth else None,
    }


def sections(config: LgmtscConfig, sender: LgmtscSender, receiver: LgmtscReceiver, link, outputs) -> dict:
    c = sender.counts
    seconds = max(sender.frames / FPS, 1e-9)
    stream = link.stream(TEXT)
    lgmtsc = {
        "backend": config.lm,
        "length_class": sender.length_class,
        "length_control": "anfis" if config.length_class == "auto" and config.lm != "none" else "fixed",
        "snr_read_db": config.snr,
        "text_coder": config.text_coder,
        "sentences": c.sentences,
        "words_in": c.words_in,
        "chars_in": c.chars_in,
        "chars_out": c.chars_out,
        "compression": rounded(c.chars_out / c.chars_in, 4) if c.chars_in else None,
        "symbols": None,  # channel symbols on air (below): analog symbols, or the digital text's QAM symbols
        "symbols_unique": c.symbols_unique if config.text_coder == "learned" else None,
        "text_bytes": c.text_bytes if config.text_coder != "learned" else None,
        "rtp_bytes": stream.bytes,
        "packets_sent": stream.packets,
        "packets_lost": stream.lost,
        "latency_ms": round(1000 * receiver.latency, 1),
        "kb_correction": receiver.lm is not None,
    }
    counts = link.analog_counts(TEXT) if config.text_coder == "learned" else None
    if counts is not None:
        lgmtsc["symbols"] = counts.symbols
        lgmtsc["channel_uses"] = counts.channel_uses  # + the packet headers' digital side information
    else:
        radio = link.radio([TEXT])
        lgmtsc["symbols"] = lgmtsc["channel_uses"] = radio.channel_uses if radio is not None else None
    uses = lgmtsc["channel_uses"]
    lgmtsc["channel_uses_per_s"] = round(uses / seconds, 1) if uses is not None else None
    out = {"lgmtsc": lgmtsc}
    if counts is not None:  # no digital stream: the radio section is the analog link's
        out["phy"] = {"channel": link.config.channel, "snr_db": link.config.snr, "carrier": "analog",
                      "channel_uses": counts.channel_uses, "symbols": counts.symbols,
                      "header_uses": counts.header_uses, "packets_sent": counts.packets,
                      "channel_uses_per_s": round(counts.channel_uses / seconds, 1)}
    return out
