"""Fig. 5 of the M3E suite, and the retransmission check: held-out news sentences over the radio, one packet a
sentence, as ``--mode m3e`` sends them, scored by the eq.-9 semantic similarity to what was sent.

- **learned**: the text coder's analog symbols (``phy.analog``), decoded and corrected by the n-gram LM knowledge
  base; with ``retransmit`` > 0 the receiver's check (``modes.m3e.check.read_sentence``: ξ̂ from the decoder's
  posterior) asks again while ξ̂ < ξ_min, up to ``retransmit`` times; each resend is a fresh pass of the same
  symbols through the channel, averaged with the copies before (equal-gain combining), as the call does.
- **digital**: Huffman, 5-bit or Brotli text + CRC + 5G LDPC 1/2 + QPSK (``bench.lgmtsc_text.send_digital``); a
  sentence arrives exact or not at all (similarity 0). With ``retransmit`` a lost sentence is asked for again.

Every resend costs the return path one request packet (``streams.keyframe.Request``: RTP + 6 bytes) and a round
trip; the rows give the requests' bits, the resends' channel uses and the round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from semtalk.bench.lgmtsc_text import COHERENCE, article_sentences, digital_radio, held_out_articles, similarity

CODERS = ("learned", "huffman", "5bit", "brotli")
SAMPLES = 8  # posterior draws of the check


@dataclass(frozen=True)
class Outcome:
    """One sentence: what the receiver had first and in the end, ξ̂ then, copies sent, channel uses in all."""

    sent: str
    first: str
    final: str
    xi_first: float
    xi_final: float
    copies: int
    channel_uses: int


def news_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` spoken sentences: the first three of held-out BBC articles (``bench.lgmtsc_text``)."""
    out: list[str] = []
    articles = held_out_articles(max(1, count // 2), seed)
    for a in articles:
        out += article_sentences(a.text)
    return out[:count]


def request_bits() -> int:
    """Bits of a request for one sentence on the return path."""
    from semtalk.streams.keyframe import Request

    return 8 * len(Request(sentences=(0,)).packet(0, 0))


@lru_cache(maxsize=1)
def _ngram():
    from semtalk import registry

    return registry.get("lm", "ngram")(domain=None)


def _rng(seed: int, coder: str, channel: str, snr: float) -> np.random.Generator:
    """One generator per coder, channel and SNR: with and without the check, the first copies meet the same noise."""
    return np.random.default_rng([seed, CODERS.index(coder), ("awgn", "rayleigh").index(channel),
                                  1000 + round(10 * snr)])


def send_learned(sentences: list[str], channel: str, snr: float, seed: int, xi_min: float = 0.6,
                 retransmit: int = 0, matched: bool = False) -> list[Outcome]:
    """The learned coder with the receiver's check (``retransmit`` 0: no check, one copy); ``matched``: each copy
    repeated to the channel uses of the sentence's Huffman packet over LDPC 1/2 + QPSK and averaged
    (``streams.sentence.repeat`` / ``combine``): the two coders at the same bandwidth."""
    from semtalk.bench.codecs import channel_uses
    from semtalk.learned.textcoder.code import load_textcoder
    from semtalk.modes.m3e.check import ask_below, read_sentence
    from semtalk.phy.analog import AnalogLink, transmit
    from semtalk.streams.sentence import combine, encode_text, repeat

    coder, lm = load_textcoder(), _ngram()
    link = AnalogLink(channel, coherence=COHERENCE)
    rng = _rng(seed, "learned", channel, snr)
    check = np.random.default_rng([seed, 0xE3])
    radio = digital_radio(channel) if matched else None
    out = []
    for s in sentences:
        symbols = coder.encode(s)
        budget = channel_uses(radio, [len(encode_text(s, "huffman"))]) if radio is not None else symbols.size
        on_air = repeat(symbols, budget)
        copies = [combine(transmit(on_air, snr, link, rng), symbols.size)]
        _, first, xi_first = read_sentence(coder, lm, copies[0], SAMPLES, check)
        text, xi = first, xi_first
        while xi < ask_below(xi_min) and len(copies) <= retransmit:
            copies.append(combine(transmit(on_air, snr, link, rng), symbols.size))
            _, text, xi = read_sentence(coder, lm, np.mean(copies, axis=0), SAMPLES, check)
        out.append(Outcome(s, first, text, xi_first, xi, len(copies), len(copies) * max(budget, symbols.size)))
    return out


def send_digital(sentences: list[str], coder: str, channel: str, snr: float, seed: int,
                 retransmit: int = 0, modulation: str = "qpsk", ldpc_rate: float = 0.5) -> list[Outcome]:
    """A digital coder over CRC + LDPC + QAM (default the call's QPSK 1/2; the paper's baselines use LDPC 3/4); a
    lost sentence is asked for again up to ``retransmit`` times."""
    from semtalk.bench.codecs import channel_uses, send_frames
    from semtalk.phy.radio import DigitalRadio, RadioConfig
    from semtalk.streams.sentence import decode_text, encode_text

    radio = DigitalRadio(RadioConfig(channel=channel, coherence=COHERENCE, modulation=modulation,
                                     ldpc_rate=ldpc_rate))
    rng = _rng(seed, coder, channel, snr)
    coded = [encode_text(s, coder) for s in sentences]
    uses = [channel_uses(radio, [len(b)]) for b in coded]
    copies = np.zeros(len(coded), int)
    kept = np.zeros(len(coded), bool)
    first = None
    for _ in range(retransmit + 1):
        todo = np.flatnonzero(~kept)
        if not todo.size:
            break
        copies[todo] += 1
        kept[todo] = send_frames([coded[i] for i in todo], radio, snr, rng, seconds=1.0).keep
        first = kept.copy() if first is None else first
    out = []
    for i, s in enumerate(sentences):
        text = decode_text(coded[i], coder) if kept[i] else ""
        out.append(Outcome(s, text if first[i] else "", text or "", float(first[i]), float(kept[i]), int(copies[i]),
                           int(copies[i]) * uses[i]))
    return out


def score(outcomes: list[Outcome], xi_min: float = 0.6, delay_ms: float = 50.0) -> dict:
    """Means of eq. 9 (true, against the sent text) and of ξ̂, first and final; the fractions at or above ξ_min;
    what the resends cost (requests' bits, channel uses, round trips at ``delay_ms`` one way)."""
    true_first = np.array([similarity(o.sent, o.first) for o in outcomes])
    true_final = np.array([similarity(o.sent, o.final) for o in outcomes])
    copies = np.array([o.copies for o in outcomes])
    uses_one = np.array([o.channel_uses / o.copies for o in outcomes])
    resends = copies - 1
    from semtalk.modes.m3e.check import ask_below

    detected = np.array([o.xi_first < ask_below(xi_min) for o in outcomes])
    below = true_first < xi_min
    return {"sentences": len(outcomes),
            "similarity_first": float(true_first.mean()), "similarity": float(true_final.mean()),
            "above_xi_first": float((true_first >= xi_min).mean()), "above_xi": float((true_final >= xi_min).mean()),
            "xi_hat_first": float(np.mean([o.xi_first for o in outcomes])),
            "xi_hat": float(np.mean([o.xi_final for o in outcomes])),
            "check_recall": float(detected[below].mean()) if below.any() else None,
            "check_false_alarms": float(detected[~below].mean()) if (~below).any() else None,
            "resends": int(resends.sum()), "feedback_bits": int(resends.sum() * request_bits()),
            "channel_uses_first": int(uses_one.sum()), "channel_uses": int(sum(o.channel_uses for o in outcomes)),
            "extra_channel_uses": float(sum(o.channel_uses for o in outcomes) / max(uses_one.sum(), 1) - 1),
            "round_trips_max": int(resends.max()) if resends.size else 0,
            "added_delay_ms_mean": float(resends[resends > 0].mean() * 2 * delay_ms) if (resends > 0).any() else 0.0}
