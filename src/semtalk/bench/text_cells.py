"""Bench cells of the text stream (SyncSC Fig. 9, M3E-VSC Fig. 5) and the clip's words they share.

The words semtalk sends are the sender's ASR output, so every text cell starts from them: ``prepare``
transcribes each clip once (``clip_words``, cached as JSON in the clip's work folder) and the cells
reuse it. ``text_rate_method`` gives the bit rate of four codings of those words
(``bench.text.text_bitrates``); ``text_loss_method`` sends them through the real text packetiser,
RS and the seeded channel (``bench.text.simulate_text``), with or without TextPC concealment, and
scores the received text against the sent text (BLEU, sentence-embedding similarity, WER): what the
channel and the concealment do, apart from the ASR's own errors (``asr_wer`` of the semtalk rows).
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict

import numpy as np

from semtalk.atomic import atomic_bytes
from semtalk.bench.runner import BenchEnv, Task
from semtalk.records import Word

ASR_RATE = 16000
WORDS_NAME = "asr_words.json"


def clip_audio(env: BenchEnv, clip: str) -> np.ndarray:
    """The clip's audio, mono float32 at 16 kHz (what ASR and the speech metrics take)."""
    from semtalk.media.reader import read_audio

    return read_audio(env.clip_path(clip), rate=ASR_RATE)


@functools.lru_cache(maxsize=1)
def _recognizer():
    from semtalk.semantics.speech.asr import AsrConfig, SpeechRecognizer

    return SpeechRecognizer(AsrConfig(cpu_threads=1))  # one core per worker: the cluster parallelises


def transcribe(audio: np.ndarray) -> list[Word]:
    """The sender's ASR (faster-whisper, one thread) on 16 kHz audio."""
    return _recognizer().transcribe(audio, ASR_RATE)


def clip_words(env: BenchEnv, clip: str) -> list[Word]:
    """The clip's ASR words, transcribed once and cached in ``work/<clip>/asr_words.json``."""
    path = env.clip_dir(clip) / WORDS_NAME
    if not path.is_file():
        words = transcribe(clip_audio(env, clip))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_bytes(path, json.dumps([asdict(w) for w in words]).encode())
    return [Word(**w) for w in json.loads(path.read_text())]


def clip_reference(env: BenchEnv, clip: str) -> str:
    """What re-ASR is scored against: the clip's transcript (LRS2, GRID), else its ASR words (HDTF)."""
    transcript = env.clip_path(clip).with_suffix(".txt")
    if transcript.is_file():
        return transcript.read_text()
    return " ".join(w.text for w in clip_words(env, clip))


def text_rate_method(task: Task, env: BenchEnv) -> dict:
    """Bit rate of the sent words in one coding (``coding``: utf8, 5bit, huffman or brotli) over the clip."""
    from semtalk.bench.text import text_bitrates

    words = clip_words(env, task.clip)
    seconds = len(clip_audio(env, task.clip)) / ASR_RATE
    coding = task.params["coding"]
    return {"codec": coding, "text_bps": text_bitrates(" ".join(w.text for w in words), seconds)[coding],
            "details": json.dumps({"words": len(words), "seconds": seconds}, sort_keys=True)}


@functools.lru_cache(maxsize=1)
def _concealer():
    from semtalk.text.concealment import TextConcealer
    from semtalk.text.lm import NGramPredictor

    return TextConcealer(NGramPredictor())


def text_loss_method(task: Task, env: BenchEnv) -> dict:
    """The sent words over RS 1/2 and the channel, with or without concealment, scored against what was sent."""
    from semtalk.bench.loss_cells import channel_config
    from semtalk.bench.text import simulate_text
    from semtalk.metrics.text import bleu, semantic_similarity, wer

    p = task.params
    words = clip_words(env, task.clip)
    channel = channel_config(p["loss"], p["burst"], task.seed)
    got = simulate_text(words, channel, "rs", p["code_rate"], concealer=_concealer() if p["conceal"] else None)
    sent, received = " ".join(w.text for w in words), " ".join(w.text for w in got)
    return {"codec": "semtalk", "bleu": bleu(sent, received),
            "semantic_similarity": semantic_similarity(sent, received),
            "received_wer": wer(sent, received) if sent.strip() else None,
            "concealed_words": sum(w.concealed for w in got),
            "details": json.dumps({"words_sent": len(words), "words_received": len(got),
                                   "channel_burst": channel.burst}, sort_keys=True)}
