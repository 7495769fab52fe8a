"""The ``mode`` registry entry ``m3e`` (M3E-VSC): LGM-TSC's knowledge base (a portrait, the voice profile, the
private domain LM), both ends (``ends``), a return path (``feedback``) and the report sections (``report``); with
``--fill face`` SyncSC's coefficient stream as the call would run it (``SyncscMode.build``: its rate target, its
packet FEC) beside the keyframes (``face``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semtalk import registry
from semtalk.kb.knowledge_base import KnowledgeBase
from semtalk.modes.base import Speech
from semtalk.modes.lgmtsc.mode import LgmtscMode
from semtalk.modes.lgmtsc.report import speech_section
from semtalk.modes.m3e.config import M3eConfig
from semtalk.modes.m3e.ends import FPS, TEXT, M3eReceiver, M3eSender
from semtalk.modes.syncsc.mode import SyncscConfig, SyncscMode
from semtalk.records import StageTimer, config_from


@dataclass(frozen=True)
class M3eMode:
    """The ``mode`` registry entry ``m3e``."""

    config: M3eConfig
    kb: KnowledgeBase
    kb_bytes: bytes
    receiver_kb: KnowledgeBase
    fps: float = FPS
    speaks: bool = True
    live_audio: bool = True  # the sender recognises the audio as it is captured
    feedback: bool = True  # the receiver's retransmission requests cross a return link
    coefficients: SyncscConfig | None = None  # SyncSC's face stream settings, with --fill face

    enroll = staticmethod(LgmtscMode.enroll)

    @classmethod
    def build(cls, run_config, kb: KnowledgeBase, kb_bytes: bytes, receiver_kb: KnowledgeBase) -> M3eMode:
        margin = 4 * run_config.jitter
        config = config_from(M3eConfig, run_config, playout_margin=margin)
        face = SyncscMode.build(run_config, kb, kb_bytes, receiver_kb).config if config.fill == "face" else None
        return cls(config, kb, kb_bytes, receiver_kb, coefficients=face)

    @property
    def analog_streams(self) -> frozenset[int]:
        return frozenset({TEXT}) if self.config.text_coder == "learned" else frozenset()

    @property
    def code(self):
        """No packet FEC: keyframe fragments and digital text are protected by the radio's LDPC code, and what is
        still lost is asked for again (the coefficient stream of --fill face has SyncSC's own, ``coefficients``)."""
        return registry.get("fec", "none")(k=1, code_rate=1.0)

    def sender(self, timer: StageTimer) -> M3eSender:
        return M3eSender(self.config, self.kb, self.kb_bytes, timer, self.coefficients)

    def receiver(self, timer: StageTimer) -> M3eReceiver:
        return M3eReceiver(self.config, self.receiver_kb, self.kb_bytes, timer, self.coefficients)

    def speech_report(self, sender: M3eSender, receiver: M3eReceiver, link, original: np.ndarray,
                      duration: float, outputs, *, transcript: str | None, voice_seconds: float,
                      score: bool = True) -> dict:
        """LGM-TSC's speech section (text fidelity, BLEU, timbre as speaker similarity, AV offset)."""
        return speech_section(sender, receiver, original, outputs, transcript=transcript,
                              voice_seconds=voice_seconds, score=score)

    def sections(self, sender: M3eSender, receiver: M3eReceiver, link, outputs, original: np.ndarray | None,
                 speech: Speech | None, score: bool) -> dict:
        from semtalk.modes.m3e.report import sections

        return sections(self.config, sender, receiver, link, score=score)
