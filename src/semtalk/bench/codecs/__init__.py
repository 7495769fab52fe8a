"""Classic-codec baselines for the SyncSC comparisons: video codecs rate-matched in a low-delay call
configuration, their bitstreams over RS-protected lossy packets or over the simulated digital radio
(codec + LDPC + QAM, with JPEG for single pictures), speech codecs, and the metrics with an ffmpeg
cross-check. Pure functions; the harness (``semtalk.bench``) schedules and caches."""

from semtalk.bench.codecs.lossy import LOSS_GOP, LossOutcome, protect_and_lose
from semtalk.bench.codecs.quality import block_ssim, crosscheck, video_metrics
from semtalk.bench.codecs.radio import (
    RadioDelivery,
    RadioJpeg,
    RadioVideoOutcome,
    audio_over_radio,
    channel_uses,
    jpeg_over_radio,
    radio_kbps,
    send_frames,
    video_over_radio,
)
from semtalk.bench.codecs.rate import RatePoint, rate_match
from semtalk.media.audio_codec import (
    AUDIO_CODECS,
    AudioPackets,
    CodedAudio,
    decode_audio,
    encode_audio,
    encode_audio_packets,
)
from semtalk.media.video_codec import CODECS, EncodedVideo, YuvClip, decodable, decode_video, encode_video

__all__ = [
    "AUDIO_CODECS",
    "CODECS",
    "LOSS_GOP",
    "AudioPackets",
    "CodedAudio",
    "EncodedVideo",
    "LossOutcome",
    "RadioDelivery",
    "RadioJpeg",
    "RadioVideoOutcome",
    "RatePoint",
    "YuvClip",
    "audio_over_radio",
    "block_ssim",
    "channel_uses",
    "crosscheck",
    "decodable",
    "decode_audio",
    "decode_video",
    "encode_audio",
    "encode_audio_packets",
    "encode_video",
    "jpeg_over_radio",
    "protect_and_lose",
    "radio_kbps",
    "rate_match",
    "send_frames",
    "video_metrics",
    "video_over_radio",
]
