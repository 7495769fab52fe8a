"""Text normalisation: lowercase words, numbers spelt out, punctuation dropped; acronyms closed up for scoring.

The sender's aligner, TextPC and the text metrics all compare words in this one form, so "7" and "seven",
or "Americans," and "americans", are the same word.
"""

from __future__ import annotations

import re

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?%?")
_ACRONYM = re.compile(r"\b[a-z](?:\.[a-z])+\b\.?")


def _under_100(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")


def _under_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = f"{_ONES[hundreds]} hundred" if hundreds else ""
    return " ".join(x for x in (head, _under_100(rest) if rest or not hundreds else "") if x)


def number_words(n: int) -> str:
    """Cardinal number in words: 1990 → 'one thousand nine hundred ninety' (see ``spell_number`` for years)."""
    if n < 1000:
        return _under_1000(n)
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def spell_number(token: str) -> str:
    """Digits as spoken: years 1100–1999 and 2010–2099 in pairs ('1990' → 'nineteen ninety'), '2005' →
    'two thousand five', '3.5' → 'three point five', '1,000' → 'one thousand', '21st' → 'twenty first',
    '50%' → 'fifty percent'."""
    suffix = " percent" if token.endswith("%") else ""
    token = token.rstrip("%")
    ordinal = token[-2:] in ("st", "nd", "rd", "th")
    token = token[:-2] if ordinal else token
    if "." in token and "," not in token:
        whole, frac = token.split(".", 1)
        words = f"{spell_number(whole)} point " + " ".join(_ONES[int(d)] for d in frac if d.isdigit())
    else:
        digits = token.replace(",", "").replace(".", "")
        n = int(digits)
        if len(digits) == 4 and (1100 <= n <= 1999 or 2010 <= n <= 2099):
            high, low = divmod(n, 100)
            words = f"{_under_100(high)} " + ("hundred" if low == 0 else
                                              f"oh {_ONES[low]}" if low < 10 else _under_100(low))
        else:
            words = number_words(n)
    if ordinal:
        head, _, last = words.rpartition(" ")
        last = _ORDINAL.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
        words = f"{head} {last}".strip()
    return words + suffix


def normalize(text: str) -> str:
    """Lowercase words, digits spelt out, punctuation dropped (inner apostrophes kept), one space apart."""
    text = _NUMBER.sub(lambda m: f" {spell_number(m.group(0))} ", text.lower())
    text = re.sub(r"[^\w\s']|_", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def scoring_form(text: str) -> str:
    """``normalize`` with acronyms closed up: dotted ("U.S." → "us", as Whisper's own normaliser does) and
    spelt ("u s" → "us", runs of two or more one-letter words).

    Whisper's word timestamps split "U.S." into the words "u" "s", which the sender sends; a listener
    hearing piper spell them writes "US". Scored apart that was two errors where there were none. Only
    for scoring; the aligner needs the letters apart (``normalize``).
    """
    words = normalize(_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text.lower())).split()
    out: list[str] = []
    for i, w in enumerate(words):
        if len(w) == 1 and i > 0 and len(words[i - 1]) == 1:
            out[-1] += w
        else:
            out.append(w)
    return " ".join(out)
