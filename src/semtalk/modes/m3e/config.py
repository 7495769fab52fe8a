"""M3E-VSC's settings, apart from its ends so the CLI can read the defaults without importing numpy."""

from __future__ import annotations

from dataclasses import dataclass

from semtalk.modes.lgmtsc.config import ASR_WINDOW_S, MAX_SENTENCE_S, PAUSE_S

FILLS = ("flow", "face")  # --fill: eq. 10 alone, or guided by SyncSC's face coefficients (``face``)


@dataclass(frozen=True)
class M3eConfig:
    """Both ends' settings.

    ``keyframe_threshold``: τ of eq. 2 (a frame whose normalised cross-correlation with every keyframe so far is
    below τ becomes one); ``keyframe_codec``: an ``image_codec`` registry name, coded at ``keyframe_bpp`` bits per
    pixel (``imagecodec.base.at_bpp``); ``text_coder``: ``learned`` (the text JSCC's analog symbols) or a digital
    code (huffman, brotli, 5bit) over the radio; ``xi_min``: ξ_min, the receiver's semantic-similarity check
    (eq. 9) below which it asks for the sentence again, at most ``retransmit`` times a sentence (0: never asks);
    ``samples``: readings drawn from the learned decoder's posterior for that check (``check.posterior_similarity``);
    ``fill``: how the frames between keyframes are made, ``flow`` (eq. 10, the paper's) or ``face`` (SyncSC's
    coefficient stream sent beside the keyframes and its face renderer, ``face``; eq. 10 where codes are missing).
    """

    keyframe_threshold: float = 0.9  # tuned on the 3 HDTF clips: docs/m3e.md, "Choosing τ"
    keyframe_codec: str = "avif"
    keyframe_bpp: float = 0.5
    text_coder: str = "learned"
    xi_min: float = 0.6
    retransmit: int = 3
    samples: int = 8
    fill: str = "flow"
    lm: str = "ngram"  # the receiver's correction of the learned coder's unsure words (the KB's domain LM)
    snr: float = 10.0
    adapt_voice: bool = True
    seed: int = 0
    delay: float = 0.0  # one way, each direction: the return path's requests take it too
    playout_margin: float = 0.0

    @property
    def ask_below(self) -> float:
        """ξ̂ below which a sentence is asked for again: ξ_min through the check's calibration (``check.ask_below``)."""
        from semtalk.modes.m3e.check import ask_below

        return ask_below(self.xi_min)

    @property
    def rto(self) -> float:
        """How long the receiver waits for a resend before it asks again: one round trip and half a frame (the call
        steps a frame at a time, so a resend that arrives is checked, and asked for again, in the step it lands)."""
        return 2 * self.delay + 0.5 / 25

    @property
    def latency(self) -> float:
        """The receiver's play-out delay (s): a sentence is sent once recognised and closed (LGM-TSC's bound), and
        may then need ``retransmit`` round trips; the video waits as long (a frame is interpolated between the
        keyframes on either side of it, so it needs the next one)."""
        return (MAX_SENTENCE_S + PAUSE_S + ASR_WINDOW_S + self.retransmit * self.rto + 2 / 25
                + self.playout_margin)
