"""``semtalk run``: one clip through a mode over the simulated link, with outputs and a report.

    probe → KB (load or enroll; both ends must hold the same one) → mode's sender and receiver
          → the call loop (``call.simulate``) → videos, speech, metrics → report.json

Every output is written under a temporary name and renamed into place only when the run succeeds, report.json
last (``atomic.StagedFiles``): a run that fails or is interrupted leaves nothing, and "report.json exists"
means "the run completed".
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from semtalk import registry
from semtalk.atomic import StagedFiles
from semtalk.errors import SemtalkError
from semtalk.link.simulated import ChannelConfig, SimulatedLink
from semtalk.memory import release
from semtalk.modes.lgmtsc.config import LENGTH_CHOICES, LgmtscConfig
from semtalk.modes.m3e.config import M3eConfig
from semtalk.modes.syncsc.config import RefreshConfig
from semtalk.modes.wav2vid.config import MAX_CLIP_CACHE, Wav2vidConfig
from semtalk.records import StageTimer, config_from

if TYPE_CHECKING:
    from semtalk.enroll.build import KbConfig


@dataclass(frozen=True)
class RunConfig:
    """Everything ``semtalk run`` can set; defaults are SyncSC's. The mode, the link and the KB builder
    each take the fields their own configs name (``records.config_from``)."""

    mode: str = "syncsc"
    # The link's fields and defaults are the link's own (``link.simulated.ChannelConfig``), not a second copy.
    channel: str = ChannelConfig.channel
    loss: float = ChannelConfig.loss
    burst: float = ChannelConfig.burst
    delay: float = ChannelConfig.delay
    jitter: float = ChannelConfig.jitter
    snr: float = ChannelConfig.snr
    modulation: str = ChannelConfig.modulation
    ldpc_rate: float = ChannelConfig.ldpc_rate
    csi: str = ChannelConfig.csi
    coherence: int = ChannelConfig.coherence
    pilots: int = ChannelConfig.pilots
    fec: str = "rs"
    code_rate: float = 0.5
    fec_k: int = 4
    seed: int = 0
    frames_per_packet: int = 5
    video_kbps: float | None = None  # SyncSC face stream target (None: its default; 0: version-1 stream)
    flow_grid: int = 6  # SyncSC's motion field lattice side (``modes.syncsc.motion``); 0: none
    # SyncSC's KB refresh (``modes.syncsc.refresh``): its own fields and defaults
    refresh_kbps: float = RefreshConfig.kbps
    refresh_ssim: float = RefreshConfig.ssim
    refresh_codec: str = RefreshConfig.codec
    refresh_quality: int = RefreshConfig.quality
    enroll_seconds: float = 2.0
    n_expr: int = 6
    bits: int = 8
    keyframes: int | None = None  # the KB's keyframes; None: the mode's (``SyncscConfig.kb_keyframes``), else 10
    kb_image_codec: str = "webp"  # the codec of the KB's pictures when the run builds its KB (``kb.pictures``)
    crop_size: int = 256
    kb: str | None = None
    receiver_kb: str | None = None
    max_seconds: float | None = None
    speech: bool = True
    transcript: str | None = None
    text_window: int = 12
    prosody: bool = True
    voice_adapt: bool = False
    voice_seconds: float = 4.0
    lm_text: str | None = None
    # Wav2Vid (``--mode wav2vid``): its own fields and defaults (``modes.wav2vid.mode.Wav2vidConfig``).
    pose_threshold: float = Wav2vidConfig.pose_threshold
    clip_frames: int = Wav2vidConfig.clip_frames
    clip_codec: str = Wav2vidConfig.clip_codec
    clip_kbps: float = Wav2vidConfig.clip_kbps
    clip_preset: str | None = Wav2vidConfig.clip_preset
    clip_cache: int = Wav2vidConfig.clip_cache
    audio_carrier: str = Wav2vidConfig.audio_carrier
    audio_kbps: float = Wav2vidConfig.audio_kbps
    # LGM-TSC (``--mode lgmtsc``): its own fields and defaults (``modes.lgmtsc.config.LgmtscConfig``).
    lm: str = LgmtscConfig.lm
    lm_endpoint: str | None = LgmtscConfig.lm_endpoint
    lm_model: str | None = LgmtscConfig.lm_model
    lm_correct: bool = LgmtscConfig.lm_correct
    text_coder: str = LgmtscConfig.text_coder
    length_class: str = LgmtscConfig.length_class
    portrait: str | None = None
    # M3E-VSC (``--mode m3e``; ``--text-coder`` is shared with LGM-TSC): ``modes.m3e.config.M3eConfig``.
    keyframe_threshold: float = M3eConfig.keyframe_threshold
    keyframe_codec: str = M3eConfig.keyframe_codec
    keyframe_bpp: float = M3eConfig.keyframe_bpp
    xi_min: float = M3eConfig.xi_min
    retransmit: int = M3eConfig.retransmit
    fill: str = M3eConfig.fill
    vmaf: bool = True
    metrics: bool = True
    write_video: bool = True
    progress: bool = True


def run(input_path: str | Path, out_dir: str | Path, config: RunConfig = RunConfig()) -> dict:
    """Run a clip through the chain; writes received.mp4, side_by_side.mp4, kb.stkb (unless ``config.kb``),
    received.wav (when speech is regenerated) and report.json into ``out_dir``, all or none of them."""
    from semtalk.call.outputs import VIDEOS
    from semtalk.call.report import call_report
    from semtalk.call.simulate import simulate
    from semtalk.media.reader import probe, read_video

    check_config(config)
    info = probe(input_path)
    if not info.has_video and not (config.mode == "lgmtsc" and config.portrait):
        raise SemtalkError(f"{input_path} has no video stream: only --mode lgmtsc with --portrait IMAGE speaks from "
                           "audio alone")
    out = Path(out_dir)
    check_output_dir(out)
    with StagedFiles(out) as staged:
        mode_class = registry.get("mode", config.mode)
        kb, kb_bytes, receiver_kb = _knowledge_bases(input_path, staged, config, mode_class)
        mode = mode_class.build(config, kb, kb_bytes, receiver_kb)
        link = SimulatedLink.call(config_from(ChannelConfig, config), mode.analog_streams, mode.feedback)
        timer = StageTimer()
        duration = info.duration if config.max_seconds is None else min(info.duration, config.max_seconds)
        speaking = mode.speaks and info.has_audio
        # Regenerated speech is muxed in afterwards (the videos wait silent in scratch); otherwise the original
        # audio passes through for listening.
        audio_rate = 16000 if info.has_audio and not speaking else None
        same_clip = kb.info.get("source", {}).get("path") == str(input_path)
        tmp = staged.scratch
        videos = [tmp / name if speaking else staged.path(name) for name in VIDEOS] if config.write_video else None
        outputs = _outputs(config, videos, tmp, audio_rate, input_path, duration, speaking,
                           int(kb.info.get("enroll_frames", 0)) if same_clip else 0, timer)
        started = time.perf_counter()
        with outputs:
            frames = _timed(iter(read_video(input_path, fps=mode.fps, duration=duration) if info.has_video
                                 else _still(_portrait(config), duration, mode.fps)), timer, "decode")
            sender, receiver = mode.sender(timer), mode.receiver(timer)
            original = _exact_length(input_path, duration) if speaking else None
            count, speech = simulate(frames, lambda: original, sender, receiver, link, outputs, timer, mode.fps,
                                     live_audio=original if mode.live_audio else None)
        if count == 0:
            raise SemtalkError(f"{input_path}: no video frames decoded")
        vmaf_score = outputs.finish()
        release()  # before the speech is written and scored (semtalk.memory)
        report = call_report(input_path, config, mode, sender, receiver, link, outputs, timer, vmaf_score,
                             duration, info.has_audio, wall=time.perf_counter() - started)
        if speech is not None and speaking:  # without an audio track nothing was said
            report["speech"] = _speech(staged, config, mode, sender, receiver, link, outputs, speech, original,
                                       duration)
        report.update(mode.sections(sender, receiver, link, outputs, original, speech if speaking else None,
                                    score=config.metrics))
        if not info.has_video:
            report["video"]["reference"] = "the portrait: the input has no video"
        staged.path("report.json").write_text(json.dumps(report, indent=2, default=_json_default))
        staged.commit()
    return report


def _speech(staged: StagedFiles, config: RunConfig, mode, sender, receiver, link, outputs, speech,
            original: np.ndarray, duration: float) -> dict:
    """Write the regenerated speech (wav, muxed into the silent videos in scratch) and score it."""
    from semtalk.call.outputs import VIDEOS
    from semtalk.media.writer import mux_audio, write_wav

    write_wav(staged.path("received.wav"), speech.audio, speech.rate)
    for name in VIDEOS if config.write_video else ():
        mux_audio(staged.scratch / name, speech.audio, speech.rate, staged.path(name))
    transcript = Path(config.transcript).read_text(encoding="utf-8") if config.transcript else None
    return mode.speech_report(sender, receiver, link, original, duration, outputs, transcript=transcript,
                              voice_seconds=config.voice_seconds, score=config.metrics)


def _portrait(config: RunConfig) -> np.ndarray:
    from semtalk.enroll.portrait import read_portrait

    return read_portrait(config.portrait)


def _still(image: np.ndarray, duration: float, fps: float) -> Iterator[np.ndarray]:
    """The input's "video" when it is an audio file: the portrait, for the call's length (what the sender crops,
    and the output is scored against: how far the animation moves from the still picture)."""
    for _ in range(round(duration * fps)):
        yield image


def _knowledge_bases(input_path: str | Path, staged: StagedFiles, config: RunConfig, mode_class):
    """The stream's KB (loaded, or enrolled by the mode from the input into the run's ``kb.stkb``) and the
    receiver's, which must be the same."""
    from semtalk.kb.knowledge_base import KnowledgeBase, kb_hash, read_kb

    if config.kb:
        kb, kb_bytes = read_kb(config.kb)
    else:
        kb_bytes = mode_class.enroll(input_path, config).save(staged.path("kb.stkb"))
        kb = KnowledgeBase.from_bytes(kb_bytes)  # exactly what the file (and a later --kb run) holds
    receiver, receiver_bytes = read_kb(config.receiver_kb) if config.receiver_kb else (kb, kb_bytes)
    if kb_hash(receiver_bytes) != kb_hash(kb_bytes):
        raise SemtalkError(f"the receiver's knowledge base {kb_hash(receiver_bytes)[:12]} does not match the "
                           f"stream's {kb_hash(kb_bytes)[:12]}: refusing to render with the wrong speaker model")
    return kb, kb_bytes, receiver


def _outputs(config: RunConfig, videos: list[Path] | None, tmp: Path, audio_rate: int | None, input_path,
             duration: float, speaking: bool, enroll_frames: int, timer: StageTimer):
    from tqdm import tqdm

    from semtalk.call.outputs import Outputs
    from semtalk.media.reader import iter_audio

    audio = iter_audio(input_path, rate=16000, duration=duration) if audio_rate else iter([])
    # disable=None: a bar on a terminal, nothing in logs and CI.
    progress = tqdm(total=round(duration * 25), desc=Path(input_path).name, unit="frame",
                    disable=None if config.progress else True, leave=False)
    return Outputs(videos, tmp, fps=25.0, audio_rate=audio_rate, audio=audio,
                   enroll_frames=enroll_frames, vmaf=config.vmaf and config.metrics,
                   measure_mouth=speaking and config.metrics, score=config.metrics, timer=timer, progress=progress)


def kb_config(config: RunConfig):
    """The enrollment settings of a run (a KB with a voice profile when the run speaks)."""
    from semtalk.enroll.build import run_kb_config

    return run_kb_config(config)


def crop_config(config: RunConfig):
    from semtalk.semantics.face.encoder import CropConfig

    return CropConfig(size=config.crop_size)


def _exact_length(input_path, duration: float) -> np.ndarray:
    """The input's audio at 16 kHz padded with silence to the call's duration (streams may end early)."""
    from semtalk.media.reader import read_audio

    audio = read_audio(input_path, rate=16000, duration=duration)
    n = round(duration * 16000)
    return np.pad(audio[:n], (0, max(0, n - audio.size))).astype(np.float32)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _timed(it: Iterator, timer: StageTimer, stage: str) -> Iterator:
    """Wrap a generator so the time spent producing each item is charged to ``stage``."""
    while True:
        t = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            return
        timer.add(stage, time.perf_counter() - t)
        yield item


RADIO_FLAGS = {"snr": "--snr", "modulation": "--modulation", "ldpc_rate": "--ldpc-rate", "csi": "--csi",
               "coherence": "--coherence", "pilots": "--pilots"}
PACKET_FLAGS = {"loss": "--loss", "burst": "--burst", "jitter": "--jitter"}


def _check_channel(config: RunConfig) -> None:
    """A packet channel takes no radio flags and a radio channel no loss flags: one clear line, not a silent
    setting that does nothing."""
    if config.channel not in registry.names("channel"):
        return  # check_config has said so
    radio = registry.get("channel", config.channel).kind == "radio"
    wrong = PACKET_FLAGS if radio else RADIO_FLAGS
    defaults = RunConfig()
    for name, flag in wrong.items():
        if getattr(config, name) != getattr(defaults, name):
            if radio:
                raise SemtalkError(f"{flag} is for the packet channels: over --channel {config.channel} packets are "
                                   "lost by the radio itself (set --snr)")
            raise SemtalkError(f"{flag} sets up a radio link: add --channel awgn or --channel rayleigh")
    if not radio:
        return
    from semtalk.phy.modem import BITS_PER_SYMBOL
    from semtalk.phy.radio import ldpc_rate

    if config.modulation not in BITS_PER_SYMBOL:
        raise SemtalkError(f"--modulation must be one of {', '.join(BITS_PER_SYMBOL)}, got '{config.modulation}'")
    try:
        ldpc_rate(config.ldpc_rate)
    except ValueError as exc:
        raise SemtalkError(f"--ldpc-rate: {exc}") from exc
    if not -30.0 <= config.snr <= 60.0:
        raise SemtalkError(f"--snr is Es/N0 in dB and must be in [-30, 60], got {config.snr}")
    if config.csi == "estimated" and config.channel != "rayleigh":
        raise SemtalkError("--csi estimated needs --channel rayleigh: AWGN has no fading to estimate")
    if config.coherence < 1:
        raise SemtalkError(f"--coherence is the fading block in symbols and must be ≥ 1, got {config.coherence}")
    if config.csi == "estimated" and not 1 <= config.pilots < config.coherence:
        raise SemtalkError(f"--pilots must be in 1..{config.coherence - 1} (fewer than --coherence {config.coherence} "
                           f"symbols), got {config.pilots}")


def check_config(config: RunConfig) -> None:
    """Reject impossible settings with one clear line before any work starts."""
    for kind, name, flag in (("mode", config.mode, "--mode"), ("channel", config.channel, "--channel"),
                             ("fec", config.fec, "--fec")):
        if name not in registry.names(kind):
            raise SemtalkError(f"{flag} must be one of {', '.join(registry.names(kind))}, got '{name}'")
    _check_finite(config)
    _check_channel(config)
    if not 0.0 <= config.loss <= 1.0:
        raise SemtalkError(f"--loss must be in [0, 1], got {config.loss}")
    if config.burst < 1.0:
        raise SemtalkError(f"--burst is a mean burst length in packets and must be ≥ 1, got {config.burst}")
    for name in ("delay", "jitter"):
        if getattr(config, name) < 0.0:
            raise SemtalkError(f"--{name} must be ≥ 0 seconds, got {getattr(config, name)}")
    if config.seed < 0:
        raise SemtalkError(f"--seed must be ≥ 0, got {config.seed}")
    _check_fec(config)
    _check_wav2vid(config)
    _check_lgmtsc(config)
    _check_m3e(config)
    try:
        config_from(ChannelConfig, config).make(0)
    except ValueError as exc:
        raise SemtalkError(f"--channel {config.channel}: {exc}") from exc
    if not 1 <= config.text_window <= 16:
        raise SemtalkError(f"--text-window must be in 1..16 words, got {config.text_window}")
    if config.transcript is not None and not Path(config.transcript).is_file():
        raise SemtalkError(f"transcript not found: {config.transcript}")
    if config.lm_text is not None and config.kb:
        raise SemtalkError("--lm-text goes into a KB built for this run; with --kb, build the KB with "
                           "`semtalk kb build --lm-text FILE` instead")
    check_kb_config(kb_config(config))
    if config.crop_size < 64 or config.crop_size % 2:
        raise SemtalkError(f"--crop-size must be an even number ≥ 64, got {config.crop_size}")
    if config.max_seconds is not None and config.max_seconds <= 0:
        raise SemtalkError(f"--max-seconds must be positive, got {config.max_seconds}")


WAV2VID_FLAGS = {"pose_threshold": "--pose-threshold", "clip_frames": "--clip-frames", "clip_codec": "--clip-codec",
                 "clip_kbps": "--clip-kbps", "clip_preset": "--clip-preset", "clip_cache": "--clip-cache",
                 "audio_carrier": "--audio-carrier",
                 "audio_kbps": "--audio-kbps"}


def _check_wav2vid(config: RunConfig) -> None:
    """Wav2Vid's flags act only in its mode, and the ASC's analog symbols need a radio channel."""
    from semtalk.media.video_codec import check_preset
    from semtalk.streams.audio import CARRIERS
    from semtalk.streams.clip import CLIP_CODECS, MAX_CLIP_FRAMES

    if config.mode != "wav2vid":
        _refuse_outside("wav2vid", config, WAV2VID_FLAGS)
        return
    if not config.pose_threshold > 0:
        raise SemtalkError(f"--pose-threshold is ε of HdPoseEst in degrees and must be positive, got "
                           f"{config.pose_threshold}")
    if not 1 <= config.clip_frames <= MAX_CLIP_FRAMES:
        raise SemtalkError(f"--clip-frames must be in 1..{MAX_CLIP_FRAMES}, got {config.clip_frames}")
    if config.clip_codec not in CLIP_CODECS:
        raise SemtalkError(f"--clip-codec must be one of {', '.join(CLIP_CODECS)}, got '{config.clip_codec}'")
    if not 10 <= config.clip_kbps <= 20_000:
        raise SemtalkError(f"--clip-kbps must be in [10, 20000], got {config.clip_kbps}")
    if not 0 <= config.clip_cache <= MAX_CLIP_CACHE:
        raise SemtalkError(f"--clip-cache is the clips kept for reuse and must be in 0..{MAX_CLIP_CACHE}, got "
                           f"{config.clip_cache}")
    try:
        check_preset(config.clip_codec, config.clip_preset)
    except ValueError as exc:
        raise SemtalkError(f"--clip-preset: {exc}") from exc
    if config.audio_carrier not in CARRIERS:
        raise SemtalkError(f"--audio-carrier must be one of {', '.join(CARRIERS)}, got '{config.audio_carrier}'")
    if not 6 <= config.audio_kbps <= 510:
        raise SemtalkError(f"--audio-kbps is Opus' bitrate and must be in [6, 510], got {config.audio_kbps}")
    if (config.audio_carrier == "asc" and config.channel not in registry.names("channel")) or (
            config.audio_carrier == "asc" and registry.get("channel", config.channel).kind != "radio"):
        raise SemtalkError("--audio-carrier asc sends analog symbols: it needs --channel awgn or --channel rayleigh")
    if config.fec not in ("rs", "none"):
        raise SemtalkError(f"--mode wav2vid protects its clips and audio with --fec rs or none, got '{config.fec}'")


LGMTSC_FLAGS = {"lm": "--lm", "lm_endpoint": "--lm-endpoint", "lm_model": "--lm-model", "lm_correct": "--no-lm-correct",
                "text_coder": "--text-coder", "length_class": "--length-class", "portrait": "--portrait"}


def _check_lgmtsc(config: RunConfig) -> None:
    """LGM-TSC's flags act only in its mode; the learned text coder's analog symbols need a radio channel, and an
    OpenAI-compatible LM needs its endpoint."""
    if config.mode != "lgmtsc":
        _refuse_outside("lgmtsc", config, {k: v for k, v in LGMTSC_FLAGS.items()
                                           if not (config.mode == "m3e" and k == "text_coder")})  # M3E's too
        return
    lms = ["none", *registry.names("lm")]
    if config.lm not in lms:
        raise SemtalkError(f"--lm must be one of {', '.join(lms)}, got '{config.lm}'")
    if (config.lm == "openai") != (config.lm_endpoint is not None):
        raise SemtalkError("--lm openai needs --lm-endpoint URL (an OpenAI-compatible server), and --lm-endpoint "
                           "only goes with --lm openai")
    if config.lm_model is not None and config.lm != "openai":
        raise SemtalkError("--lm-model names the model of an --lm openai endpoint")
    _check_text_coder(config)
    if config.length_class not in LENGTH_CHOICES:
        raise SemtalkError(f"--length-class must be one of {', '.join(LENGTH_CHOICES)}, got '{config.length_class}'")
    if config.fec not in ("rs", "none"):
        raise SemtalkError(f"--mode lgmtsc sends one sentence a packet with no packet FEC; --fec {config.fec} does "
                           "not apply")
    if config.portrait is not None and not Path(config.portrait).is_file():
        raise SemtalkError(f"--portrait: no such file: {config.portrait}")


M3E_FLAGS = {"keyframe_threshold": "--keyframe-threshold", "keyframe_codec": "--keyframe-codec",
             "keyframe_bpp": "--keyframe-bpp", "xi_min": "--xi-min", "retransmit": "--retransmit", "fill": "--fill"}


def _refuse_outside(mode: str, config: RunConfig, flags: dict[str, str]) -> None:
    """A mode's own flags (field name → flag) changed from their defaults outside that mode: one line, exit 2."""
    defaults = RunConfig()
    for name, flag in flags.items():
        if getattr(config, name) != getattr(defaults, name):
            raise SemtalkError(f"{flag} is a setting of --mode {mode}")


def _check_text_coder(config: RunConfig) -> None:
    """``--text-coder`` (LGM-TSC's and M3E's): a known coder, and the learned one's analog symbols need a radio."""
    from semtalk.streams.sentence import TEXT_CODERS

    if config.text_coder not in TEXT_CODERS:
        raise SemtalkError(f"--text-coder must be one of {', '.join(TEXT_CODERS)}, got '{config.text_coder}'")
    if config.text_coder == "learned" and (config.channel not in registry.names("channel")
                                           or registry.get("channel", config.channel).kind != "radio"):
        raise SemtalkError("--text-coder learned sends analog symbols: it needs --channel awgn or --channel rayleigh "
                           "(or choose a digital --text-coder: huffman, brotli, 5bit)")


def _check_m3e(config: RunConfig) -> None:
    """M3E's flags act only in its mode; its keyframe codec is an image codec its packets can name, and the learned
    text coder's analog symbols need a radio channel."""
    from semtalk.modes.m3e.config import FILLS
    from semtalk.streams.keyframe import KEYFRAME_CODECS

    if config.mode != "m3e":
        _refuse_outside("m3e", config, M3E_FLAGS)
        return
    if not -1.0 < config.keyframe_threshold <= 1.0:
        raise SemtalkError(f"--keyframe-threshold is τ of eq. 2, a correlation in (-1, 1], got "
                           f"{config.keyframe_threshold}")
    codecs = [c for c in registry.names("image_codec") if c in KEYFRAME_CODECS]
    if config.keyframe_codec not in codecs:
        raise SemtalkError(f"--keyframe-codec must be one of {', '.join(codecs)}, got '{config.keyframe_codec}'")
    if not 0.01 <= config.keyframe_bpp <= 24.0:
        raise SemtalkError(f"--keyframe-bpp must be in [0.01, 24] bits per pixel, got {config.keyframe_bpp}")
    if not 0.0 <= config.xi_min <= 1.0:
        raise SemtalkError(f"--xi-min is a cosine similarity threshold in [0, 1], got {config.xi_min}")
    if not 0 <= config.retransmit <= 10:
        raise SemtalkError(f"--retransmit must be in 0..10 requests a sentence, got {config.retransmit}")
    if config.fill not in FILLS:
        raise SemtalkError(f"--fill must be one of {', '.join(FILLS)}, got '{config.fill}'")
    _check_text_coder(config)
    if config.fec not in ("rs", "none"):
        raise SemtalkError(f"--mode m3e asks again for what is lost instead of a packet FEC (--fec rs or none sets "
                           f"only --fill face's coefficient stream); --fec {config.fec} does not apply")


def _check_fec(config: RunConfig) -> None:
    """The FEC classes hold their own limits (RS: n ≤ 255 for the 8-bit header; PacSC: its trained rates and
    block); here their message is tied to the flags that set them. ``--fec-k`` is checked for every code, because
    the words are interleaved over blocks of ``--fec-k`` packets even under ``--fec none``."""
    if not 0.0 < config.code_rate <= 1.0:
        raise SemtalkError(f"--code-rate must be in (0, 1], got {config.code_rate}")
    if config.fec_k < 1:
        raise SemtalkError(f"--fec-k must be ≥ 1, got {config.fec_k}")
    if not 1 <= config.frames_per_packet <= 16:
        raise SemtalkError(f"--frames-per-packet must be in 1..16, got {config.frames_per_packet}")
    try:
        code = registry.get("fec", config.fec)(k=config.fec_k, code_rate=config.code_rate)
    except ValueError as exc:
        raise SemtalkError(f"--fec-k {config.fec_k} and --code-rate {config.code_rate:g} do not fit "
                           f"--fec {config.fec}: {exc}") from exc
    try:
        code.check_stream(config.frames_per_packet)
    except ValueError as exc:
        raise SemtalkError(f"--frames-per-packet {config.frames_per_packet} does not fit --fec {config.fec}: "
                           f"{exc}") from exc
    _check_video_kbps(config, code)
    _check_flow_grid(config)
    _check_refresh(config)


MAX_FLOW_GRID = 16


def _check_flow_grid(config: RunConfig) -> None:
    """``--flow-grid``: SyncSC's motion field, 0 (none) or a lattice of 2..16 vectors a side."""
    if config.mode != "syncsc":
        _refuse_outside("syncsc", config, {"flow_grid": "--flow-grid"})
    elif config.flow_grid != 0 and not 2 <= config.flow_grid <= MAX_FLOW_GRID:
        raise SemtalkError(f"--flow-grid must be 0 (no motion field) or 2..{MAX_FLOW_GRID}, got {config.flow_grid}")


REFRESH_FLAGS = {"refresh_kbps": "--refresh-kbps", "refresh_ssim": "--refresh-ssim", "refresh_codec": "--refresh-codec",
                 "refresh_quality": "--refresh-quality"}
MAX_REFRESH_KBPS = 10_000.0


def _check_refresh(config: RunConfig) -> None:
    """SyncSC's KB refresh: a budget in kbps (0: off), an SSIM in (0, 1], a keyframe codec and its quality."""
    from semtalk.modes.syncsc.config import REFRESH_CODECS

    if config.mode != "syncsc":
        _refuse_outside("syncsc", config, REFRESH_FLAGS)
        return
    if not 0.0 <= config.refresh_kbps <= MAX_REFRESH_KBPS:
        raise SemtalkError(f"--refresh-kbps must be in [0, {MAX_REFRESH_KBPS:g}] (0: no refresh), got "
                           f"{config.refresh_kbps:g}")
    if not 0.0 < config.refresh_ssim <= 1.0:
        raise SemtalkError(f"--refresh-ssim must be in (0, 1], got {config.refresh_ssim:g}")
    if config.refresh_codec not in REFRESH_CODECS:
        raise SemtalkError(f"--refresh-codec must be one of {', '.join(REFRESH_CODECS)}, got "
                           f"'{config.refresh_codec}'")
    if not 1 <= config.refresh_quality <= 100:
        raise SemtalkError(f"--refresh-quality must be in 1..100, got {config.refresh_quality}")


MAX_VIDEO_KBPS = 64.0  # far above what 16 coefficients at 25 fps can spend


def _check_video_kbps(config: RunConfig, code) -> None:
    """``--video-kbps``: SyncSC's entropy-coded face stream under a packet FEC; 0 asks for the version-1 stream."""
    from semtalk.fec.base import PacketCode

    kbps = config.video_kbps
    if kbps is None:
        return
    if config.mode != "syncsc":
        raise SemtalkError("--video-kbps is a setting of --mode syncsc")
    if not isinstance(code, PacketCode):
        raise SemtalkError(f"--video-kbps needs the entropy-coded face stream (--fec rs or none); --fec {config.fec} "
                           "codes the coefficients itself")
    if kbps != 0 and not 0.2 <= kbps <= MAX_VIDEO_KBPS:
        raise SemtalkError(f"--video-kbps must be in [0.2, {MAX_VIDEO_KBPS:g}] (or 0: the uncontrolled version-1 "
                           f"stream), got {kbps:g}")


def check_kb_config(config: KbConfig) -> None:
    """The KB builder's limits (``semtalk run`` and ``semtalk kb build``), checked before enrollment starts."""
    from semtalk.semantics.face.quantize import crop_quantizer

    _check_finite(config)
    for flag, value in (("--enroll-seconds", config.enroll_seconds), ("--voice-seconds", config.voice_seconds)):
        if value <= 0:
            raise SemtalkError(f"{flag} must be positive, got {value}")
    for flag, value in (("--expr", config.n_expr), ("--keyframes", config.keyframes)):
        if value < 1:  # no expression basis, or no reference frame to render from (k-means needs k ≥ 1)
            raise SemtalkError(f"{flag} must be ≥ 1, got {value}")
    try:
        crop_quantizer(config.bits)  # the quantiser's own range of bits
    except ValueError as exc:
        raise SemtalkError(f"--bits: {exc}") from exc
    if config.lm_text is not None and not Path(config.lm_text).is_file():
        raise SemtalkError(f"--lm-text file not found: {config.lm_text}")
    if config.image_codec not in registry.names("image_codec"):
        raise SemtalkError(f"the KB image codec must be one of {', '.join(registry.names('image_codec'))}, "
                           f"got '{config.image_codec}'")
    if config.image_quality is not None and not 1 <= config.image_quality <= 100:
        raise SemtalkError(f"--image-quality must be in 1..100, got {config.image_quality}")


def _check_finite(config: RunConfig | KbConfig) -> None:
    """inf and nan pass every range check written as a comparison (``--burst inf`` would mean no loss at all), so
    every float field of a config dataclass is refused unless finite; the flag is the field's name."""
    for f in fields(config):
        value = getattr(config, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise SemtalkError(f"--{f.name.replace('_', '-')} must be a finite number, got {value}")


def check_output_dir(folder: Path) -> None:
    """Create ``folder`` and write a probe file into it, so an output folder that cannot take the outputs is
    refused in one line before the KB and the call, not by a traceback after them."""
    if folder.exists() and not folder.is_dir():
        raise SemtalkError(f"--out: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SemtalkError(f"--out: cannot create the folder {folder} ({exc.strerror or exc})") from exc
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".semtalk-probe-"):
            pass
    except OSError as exc:
        raise SemtalkError(f"--out: cannot write into {folder} ({exc.strerror or exc})") from exc
