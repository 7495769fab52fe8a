"""The ``mode`` registry entry ``wav2vid``: both ends (``ends``) from one config and the shared KB, and the
mode's report sections (``report``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from semtalk import registry
from semtalk.kb.knowledge_base import KnowledgeBase
from semtalk.modes.base import Speech
from semtalk.modes.wav2vid.config import Wav2vidConfig
from semtalk.modes.wav2vid.ends import AUDIO, FPS, Wav2vidReceiver, Wav2vidSender
from semtalk.modes.wav2vid.report import sections, speech_section
from semtalk.records import StageTimer, config_from


@dataclass(frozen=True)
class Wav2vidMode:
    """The ``mode`` registry entry ``wav2vid``."""

    config: Wav2vidConfig
    kb: KnowledgeBase
    kb_bytes: bytes
    receiver_kb: KnowledgeBase
    fps: float = FPS
    speaks: bool = True  # the receiver outputs the audio it received (muxed into the videos, scored)
    live_audio: bool = True  # the sender takes the audio as it is captured (``Sender.audio``)
    feedback: bool = False  # no return path

    @staticmethod
    def enroll(input_path, run_config) -> KnowledgeBase:
        """The KB of the clip's enrollment segment (``enroll.build``)."""
        from semtalk.enroll.build import enroll_clip

        return enroll_clip(input_path, run_config)

    @classmethod
    def build(cls, run_config, kb: KnowledgeBase, kb_bytes: bytes, receiver_kb: KnowledgeBase) -> Wav2vidMode:
        margin = run_config.delay + 4 * run_config.jitter
        return cls(config_from(Wav2vidConfig, run_config, playout_margin=margin), kb, kb_bytes, receiver_kb)

    @property
    def analog_streams(self) -> frozenset[int]:
        return frozenset({AUDIO}) if self.config.audio_carrier == "asc" else frozenset()

    @property
    def code(self):
        return registry.get("fec", self.config.fec)(k=self.config.fec_k, code_rate=self.config.code_rate)

    def sender(self, timer: StageTimer) -> Wav2vidSender:
        return Wav2vidSender(self.config, self.kb, self.kb_bytes, timer)

    def receiver(self, timer: StageTimer) -> Wav2vidReceiver:
        return Wav2vidReceiver(self.config, self.receiver_kb, self.kb_bytes, timer)

    def speech_report(self, sender: Wav2vidSender, receiver: Wav2vidReceiver, link, original: np.ndarray,
                      duration: float, outputs, *, transcript: str | None, voice_seconds: float,
                      score: bool = True) -> dict:
        return speech_section(receiver, original, outputs, score=score)

    def sections(self, sender: Wav2vidSender, receiver: Wav2vidReceiver, link, outputs, original: np.ndarray | None,
                 speech: Speech | None, score: bool) -> dict:
        return sections(self.config, sender, receiver, link, outputs, original, speech, score=score)
