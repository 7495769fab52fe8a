"""Classic-codec baselines for the SyncSC comparisons: video codecs rate-matched in a low-delay call
configuration, their bitstreams over RS-protected lossy packets, speech codecs, and the metrics
with an ffmpeg cross-check. Pure functions; the harness (``semtalk.bench``) schedules and caches."""

from semtalk.bench.codecs.audio import AUDIO_CODECS, CodedAudio, encode_audio
from semtalk.bench.codecs.lossy import LOSS_GOP, LossOutcome, protect_and_lose
from semtalk.bench.codecs.quality import block_ssim, crosscheck, video_metrics
from semtalk.bench.codecs.rate import RatePoint, rate_match
from semtalk.bench.codecs.video import CODECS, EncodedVideo, YuvClip, decodable, decode_video, encode_video

__all__ = [
    "AUDIO_CODECS",
    "CODECS",
    "LOSS_GOP",
    "CodedAudio",
    "EncodedVideo",
    "LossOutcome",
    "RatePoint",
    "YuvClip",
    "block_ssim",
    "crosscheck",
    "decodable",
    "decode_video",
    "encode_audio",
    "encode_video",
    "protect_and_lose",
    "rate_match",
    "video_metrics",
]
