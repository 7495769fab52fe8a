"""Read video frames and audio samples from any container FFmpeg knows, as small generators.

Everything streams: one decoded frame (or one audio chunk) is alive at a time, so memory does not
grow with clip length. Frames come out at a constant rate chosen by the caller, whatever the source
rate, and audio comes out mono float32 at the caller's sample rate, both measured from the same
origin (the start of the video stream) so that they stay in sync.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from semtalk.errors import MissingDependencyError, SemtalkError


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds, from its headers (``n_frames`` is an estimate when the container has no count)."""

    width: int
    height: int
    fps: float
    duration: float
    n_frames: int
    has_audio: bool
    audio_rate: int
    audio_channels: int
    has_video: bool = True  # False: an audio file (width, height, fps and n_frames are then 0)


def require_av() -> Any:
    """The PyAV module, imported on first use (it is heavy), with a clear error when missing."""
    try:
        import av
    except ImportError as exc:
        raise MissingDependencyError("av", "reading and writing media") from exc
    return av


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of imageio-ffmpeg's static ffmpeg (found once)."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise MissingDependencyError("imageio-ffmpeg", "VMAF and ffmpeg metrics") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def _open(path: str | Path) -> Any:
    """Open a container for reading, turning FFmpeg's failures into one-line user errors."""
    av = require_av()
    p = Path(path)
    if not p.is_file():
        raise SemtalkError(f"no such media file: {p}")
    try:
        return av.open(str(p), mode="r")
    except av.FFmpegError as exc:
        raise SemtalkError(f"cannot read {p}: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _video_stream(container: Any, path: str | Path) -> Any:
    if not container.streams.video:
        raise SemtalkError(f"{path} has no video stream")
    return container.streams.video[0]


def _stream_fps(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 25.0


def _stream_start(stream: Any) -> float | None:
    if stream.start_time is None or stream.time_base is None:
        return None
    return float(stream.start_time * stream.time_base)


def _stream_duration(container: Any, stream: Any) -> float:
    """A stream's duration from the headers: its own, unless the container's is much longer.

    MPEG-PS (GRID's .mpg) only estimates stream durations from timestamps and can get the video's
    badly wrong, while its overall duration is sound; Matroska stores no stream durations at all.
    """
    own = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
    overall = 0.0
    if container.duration:
        overall = container.duration / 1_000_000  # AV_TIME_BASE
        start = _stream_start(stream)
        if start is not None and container.start_time is not None:
            overall -= start - container.start_time / 1_000_000
    return own if own >= 0.5 * overall else overall


def probe(path: str | Path) -> MediaInfo:
    """Read the headers of a media file (nothing is decoded). An audio file (no video stream) is described too,
    with ``has_video`` False; a file with neither is refused."""
    with _open(path) as container:
        if not container.streams.video and container.streams.audio:
            audio = container.streams.audio[0]
            return MediaInfo(0, 0, 0.0, _stream_duration(container, audio), 0, True,
                             int(audio.codec_context.sample_rate or 0), int(audio.codec_context.channels or 0),
                             has_video=False)
        video = _video_stream(container, path)
        fps = _stream_fps(video)
        duration = _stream_duration(container, video)
        n_frames = video.frames or math.floor(duration * fps + 0.5)
        audio = container.streams.audio[0] if container.streams.audio else None
        return MediaInfo(
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=fps,
            duration=duration,
            n_frames=int(n_frames),
            has_audio=audio is not None,
            audio_rate=int(audio.codec_context.sample_rate or 0) if audio else 0,
            audio_channels=int(audio.codec_context.channels or 0) if audio else 0,
        )


def _decoded(container: Any, stream: Any, path: str | Path) -> Iterator[Any]:
    """Decoded frames of one stream, with FFmpeg's errors as user errors."""
    av = require_av()
    try:
        yield from container.decode(stream)
    except av.FFmpegError as exc:
        raise SemtalkError(f"cannot decode {path}: {_reason(exc)}") from exc


def _timed_frames(path: str | Path, start: float) -> Iterator[tuple[float, float, Any]]:
    """(time since stream start, source frame period, frame) for each decoded video frame.

    Seeks to a keyframe before ``start`` when ``start > 0``; frames before ``start`` still come out,
    because the resampler needs the one shown at ``start``.
    """
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        period = 1.0 / _stream_fps(stream)
        origin = _stream_start(stream)
        if start > 0 and origin is not None:
            target = origin + max(start - 1.0, 0.0)
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except require_av().FFmpegError:
                container.seek(0)
        for frame in _decoded(container, stream, path):
            if frame.time is None:
                continue
            if origin is None:
                origin = frame.time
            yield frame.time - origin, period, frame


def read_video(
    path: str | Path, fps: float = 25.0, start: float = 0.0, duration: float | None = None
) -> Iterator[np.ndarray]:
    """RGB uint8 HxWx3 frames at a constant ``fps``, from ``start`` seconds for ``duration`` seconds.

    Source frames are dropped or repeated by their presentation times alone, as ffmpeg's ``fps``
    filter does: each source time is rounded to the nearest output tick (halves up) and a tick shows
    the latest frame rounded to it or before. No frame count is needed, so MPEG-1 files that carry
    none work. The stream ends at the last source frame's end or at ``start + duration``.
    Only the frame on screen is held, so memory does not grow with clip length.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    half = 0.5 / fps
    eps = 1e-6  # timestamps in coarse time bases are not exact; ties must still go one way
    stop = (math.inf if duration is None else start + duration) - eps
    k = 0
    held: Any = None  # the source frame on screen
    held_rgb: np.ndarray | None = None  # ... converted once, however often it is repeated
    held_end = 0.0

    def ticks_until(t: float) -> Iterator[np.ndarray]:
        """The held frame, for every tick whose time rounds to before ``t``."""
        nonlocal k, held_rgb
        while start + k / fps <= t - half + eps and start + k / fps < stop:
            if held_rgb is None:
                held_rgb = held.to_ndarray(format="rgb24")
                yield held_rgb
            else:  # a repeat gets its own array, so a caller drawing on one frame spares the next
                yield held_rgb.copy()
            k += 1

    for t, period, frame in _timed_frames(path, start):
        if held is not None:  # the first frame also covers the ticks before it
            yield from ticks_until(t)
        if start + k / fps >= stop:
            return
        held, held_rgb = frame, None
        held_end = t + (float(frame.duration * frame.time_base) if frame.duration else period)
    if held is not None:
        yield from ticks_until(held_end)


def iter_audio(
    path: str | Path,
    rate: int = 16000,
    chunk_seconds: float = 1.0,
    start: float = 0.0,
    duration: float | None = None,
) -> Iterator[np.ndarray]:
    """Mono float32 audio at ``rate`` Hz in chunks of ``chunk_seconds`` (the last may be shorter).

    Sample 0 is the start of the video stream (or of the audio, for audio-only files): an audio
    stream that starts later is padded with silence, one that starts earlier is trimmed. Nothing
    is yielded for a file without audio. Decoding always starts at the beginning (audio decodes
    fast; seeking would cost exactness).
    """
    chunk = max(1, round(chunk_seconds * rate))
    skip = round(start * rate)
    remaining = math.inf if duration is None else round(duration * rate)
    pending: list[np.ndarray] = []
    n_pending = 0
    for block in _audio_blocks(path, rate):
        if skip:
            cut = min(skip, block.size)
            block, skip = block[cut:], skip - cut
        if remaining < block.size:
            block = block[: int(remaining)]
        remaining -= block.size
        if block.size:
            pending.append(block)
            n_pending += block.size
        while n_pending >= chunk:
            joined = np.concatenate(pending)
            yield joined[:chunk]
            pending, n_pending = [joined[chunk:]], joined.size - chunk
        if remaining <= 0:
            break
    if n_pending:
        yield np.concatenate(pending)


def read_audio(
    path: str | Path, rate: int = 16000, start: float = 0.0, duration: float | None = None
) -> np.ndarray:
    """The whole (or a slice of the) audio as one mono float32 array; empty when there is no audio."""
    chunks = list(iter_audio(path, rate, chunk_seconds=60.0, start=start, duration=duration))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def _audio_blocks(path: str | Path, rate: int) -> Iterator[np.ndarray]:
    """Resampled mono float32 blocks as the decoder produces them, aligned to the media origin."""
    av = require_av()
    with _open(path) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        origin = _stream_start(container.streams.video[0]) if container.streams.video else None
        if origin is None:
            origin = _stream_start(stream)
        limit = _exact_audio_end(container, stream, origin, rate)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        offset: int | None = None  # samples of silence to add (>0) or to drop (<0) at the start
        done = 0

        def cut(block: np.ndarray) -> np.ndarray:
            nonlocal offset, done
            block = block.reshape(-1).astype(np.float32, copy=False)
            if offset is not None and offset < 0:
                drop = min(-offset, block.size)
                offset, block = offset + drop, block[drop:]
            if limit is not None:
                block = block[: max(0, limit - done)]
            done += block.size
            return block

        for frame in _decoded(container, stream, path):
            if offset is None:
                known = frame.time is not None and origin is not None
                offset = round((frame.time - origin) * rate) if known else 0
                if offset > 0:
                    yield cut(np.zeros(offset, dtype=np.float32))
            for out in resampler.resample(frame):
                yield cut(out.to_ndarray())
            if limit is not None and done >= limit:
                return
        for out in resampler.resample(None):
            yield cut(out.to_ndarray())


def _exact_audio_end(container: Any, stream: Any, origin: float | None, rate: int) -> int | None:
    """Sample count at which the audio really ends, where the container says so exactly.

    MP4/MOV headers hold the exact audio length (the edit list), but decoders still return the
    padding of the last AAC frame; other containers only estimate their stream durations, so
    nothing is cut there.
    """
    if "mp4" not in container.format.name or not stream.duration or stream.time_base is None:
        return None
    start = _stream_start(stream) or 0.0
    end = start + float(stream.duration * stream.time_base)
    return round((end - (origin if origin is not None else start)) * rate)
