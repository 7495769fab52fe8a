"""The ``mode`` registry entry ``lgmtsc``: its knowledge base (one portrait, a voice profile, the private domain LM),
both ends (``ends``) and its report sections (``report``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk import registry
from semtalk.kb.knowledge_base import KnowledgeBase
from semtalk.modes.base import Speech
from semtalk.modes.lgmtsc.config import LgmtscConfig
from semtalk.modes.lgmtsc.ends import FPS, TEXT, LgmtscReceiver, LgmtscSender
from semtalk.modes.lgmtsc.report import sections, speech_section
from semtalk.records import StageTimer, config_from

PORTRAIT_SEARCH_S = 2.0  # the first frame with a face within this much of a clip becomes the portrait


@dataclass(frozen=True)
class LgmtscMode:
    """The ``mode`` registry entry ``lgmtsc``."""

    config: LgmtscConfig
    kb: KnowledgeBase
    kb_bytes: bytes
    receiver_kb: KnowledgeBase
    fps: float = FPS
    speaks: bool = True
    live_audio: bool = True  # the sender recognises the audio as it is captured (``Sender.audio``)
    feedback: bool = False  # no return path

    @classmethod
    def build(cls, run_config, kb: KnowledgeBase, kb_bytes: bytes, receiver_kb: KnowledgeBase) -> LgmtscMode:
        margin = run_config.delay + 4 * run_config.jitter
        return cls(config_from(LgmtscConfig, run_config, playout_margin=margin), kb, kb_bytes, receiver_kb)

    @staticmethod
    def enroll(input_path: str | Path, run_config) -> KnowledgeBase:
        """The public KB (one face image: ``--portrait``, else the clip's first frame with a face; the voice
        profile of the input's first ``--voice-seconds``) and the private one (the domain LM of ``--lm-text``)."""
        from semtalk.enroll.build import domain_language, voice_profile_of
        from semtalk.enroll.portrait import portrait_kb, read_portrait
        from semtalk.media.reader import probe

        info = probe(input_path)
        if run_config.portrait:
            image, source, enrolled = read_portrait(run_config.portrait), str(run_config.portrait), 0
        else:
            image, enrolled = _first_face(input_path)
            source = f"{input_path} frame {enrolled}"
            enrolled += 1
        voice, voice_info = (voice_profile_of(input_path, run_config.voice_seconds) if info.has_audio
                             else (None, {"profile": False, "reason": "the input has no audio"}))
        language, language_info = domain_language(run_config.lm_text) if run_config.lm_text else (None, None)
        kb = portrait_kb(image, fps=FPS, crop_size=run_config.crop_size, voice=voice, language=language)
        kb.info.update({"source": {"path": str(input_path)}, "portrait": source, "enroll_frames": enrolled,
                        "voice": voice_info, **({"language": language_info} if language_info else {})})
        return kb

    @property
    def analog_streams(self) -> frozenset[int]:
        return frozenset({TEXT}) if self.config.text_coder == "learned" else frozenset()

    @property
    def code(self):
        """No packet FEC: the learned coder's symbols are protected by its own training, a digital coder's bits by
        the radio's LDPC code."""
        return registry.get("fec", "none")(k=1, code_rate=1.0)

    def sender(self, timer: StageTimer) -> LgmtscSender:
        return LgmtscSender(self.config, self.kb, self.kb_bytes, timer)

    def receiver(self, timer: StageTimer) -> LgmtscReceiver:
        return LgmtscReceiver(self.config, self.receiver_kb, self.kb_bytes, timer)

    def speech_report(self, sender: LgmtscSender, receiver: LgmtscReceiver, link, original: np.ndarray,
                      duration: float, outputs, *, transcript: str | None, voice_seconds: float,
                      score: bool = True) -> dict:
        return speech_section(sender, receiver, original, outputs, transcript=transcript,
                              voice_seconds=voice_seconds, score=score)

    def sections(self, sender: LgmtscSender, receiver: LgmtscReceiver, link, outputs, original: np.ndarray | None,
                 speech: Speech | None, score: bool) -> dict:
        return sections(self.config, sender, receiver, link, outputs)


def _first_face(input_path: str | Path) -> tuple[np.ndarray, int]:
    """The clip's first frame (within ``PORTRAIT_SEARCH_S``) in which MediaPipe finds a face, and its index."""
    from semtalk.errors import SemtalkError
    from semtalk.media.reader import read_video
    from semtalk.semantics.face.landmarks import FaceLandmarker

    marker = FaceLandmarker()
    try:
        for index, rgb in enumerate(read_video(input_path, fps=FPS, duration=PORTRAIT_SEARCH_S)):
            if marker(rgb) is not None:
                return rgb, index
    finally:
        marker.close()
    raise SemtalkError(f"{input_path}: no face in the first {PORTRAIT_SEARCH_S:g} s to take as the portrait "
                       "(give one with --portrait IMAGE)")
