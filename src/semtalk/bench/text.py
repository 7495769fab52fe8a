"""Text-stream benchmarks: bitrate of text codings, and received-text quality under packet loss.

``simulate_text`` runs words through the SyncSC mode's own text sender and receiver (packetizer + packet
FEC, depacketizer) over a ``SimulatedLink``, then optionally ``TextConcealer``; ``text_loss_sweep`` does that
over loss rates, FEC choices and seeds and scores WER/BLEU against the reference transcript.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Iterable, Iterator

import brotli

from semtalk import registry
from semtalk.link.simulated import ChannelConfig, SimulatedLink
from semtalk.metrics.text import bleu, wer
from semtalk.modes.syncsc.speech import SpeechConfig, SpeechReceiver, SpeechSender
from semtalk.records import Word
from semtalk.streams.huffman import ContextHuffmanCode, HuffmanCode
from semtalk.text.concealment import TextConcealer
from semtalk.text.normalize import normalize

# GRID's sentence grammar (Cooke et al. 2006, JASA 120(5), Table I): command colour preposition letter digit adverb
GRID_GRAMMAR = (("bin", "lay", "place", "set"), ("blue", "green", "red", "white"), ("at", "by", "in", "with"),
                tuple(c for c in string.ascii_lowercase if c != "w"),
                ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
                ("again", "now", "please", "soon"))


def grid_sentences() -> Iterator[str]:
    """Every sentence GRID's grammar allows (64,000), each once: the domain text of the GRID clips' KB LM,
    written from the published grammar rather than from any transcript."""
    return (" ".join(words) for words in itertools.product(*GRID_GRAMMAR))


def text_bitrates(text: str, seconds: float) -> dict[str, float]:
    """Bits per second of ``text`` spoken over ``seconds`` in four codings of its normalised words.

    utf8: raw UTF-8 with spaces; 5bit: 5 bits a character (a 32-letter alphabet: a–z, space, apostrophe);
    huffman0: the shipped single-table Huffman code, END closing each word; huffman: the order-1 context
    Huffman code the text packets use; brotli: Brotli quality 11 of the UTF-8.
    """
    words = normalize(text).split()
    joined = " ".join(words)
    code, code0 = ContextHuffmanCode.default(), HuffmanCode.default()
    bits = {
        "utf8": 8 * len(joined.encode("utf-8")),
        "5bit": 5 * len(joined),
        "huffman0": sum(code0.bits(w) for w in words),
        "huffman": sum(code.bits(w) for w in words),
        "brotli": 8 * len(brotli.compress(joined.encode("utf-8"), quality=11)) if joined else 0,
    }
    return {k: v / seconds for k, v in bits.items()}


def simulate_text(words: list[Word], channel: ChannelConfig, fec: str = "rs", code_rate: float = 0.5,
                  config: SpeechConfig = SpeechConfig(), concealer: TextConcealer | None = None) -> list[Word]:
    """The words a receiver ends up with: lost slots dropped, or filled when a concealer is given.

    Each word's packets go when it ends (the earliest the sender has them), over the link's stream 0.
    """
    code = registry.get("fec", fec)(k=config.fec_k, code_rate=code_rate)
    sender = SpeechSender(config, code, kb_tag=0, language=None)
    receiver = SpeechReceiver(config, code, kb_tag=0, language=None)
    link = SimulatedLink(channel)
    for packets, time in sender.send_words(words, words[-1].end if words else 0.0):
        link.send(0, packets, time)
    for _, datagram in link.deliver(math.inf):
        receiver.receive(datagram)
    return receiver.words(concealer)


def text_loss_sweep(clips: Iterable[tuple[str, list[Word]]], losses: Iterable[float], fecs: Iterable[str],
                    seeds: Iterable[int], concealer: TextConcealer, code_rate: float = 0.5) -> list[dict]:
    """Mean WER/BLEU of the received text per (loss, fec, concealment) over clips and seeds.

    ``clips`` pairs each reference transcript with the sender's words (ASR output), so the loss-free row
    shows the ASR's own error and the others what the channel adds.
    """
    clips, seeds = list(clips), list(seeds)
    rows = []
    for loss in losses:
        for fec in fecs:
            for conceal in (False, True):
                w_sum = b_sum = 0.0
                n = 0
                for ref, words in clips:
                    for seed in seeds:
                        got = simulate_text(words, ChannelConfig(loss=loss, seed=seed), fec, code_rate,
                                            concealer=concealer if conceal else None)
                        hyp = " ".join(w.text for w in got)
                        w_sum, b_sum, n = w_sum + wer(ref, hyp), b_sum + bleu(ref, hyp), n + 1
                rows.append({"loss": loss, "fec": fec, "concealment": conceal,
                             "wer": w_sum / max(n, 1), "bleu": b_sum / max(n, 1), "runs": n})
    return rows
