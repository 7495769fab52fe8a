"""Write RGB frames (and optionally mono audio) to an H.264/AAC mp4, frame by frame.

Frames are encoded as they arrive, so a long clip never sits in memory. Audio can be given whole or
pushed in chunks; it is encoded only up to the length of the video written so far, and at close it
is trimmed or padded with silence to the video length, so the two streams end together.
"""

from __future__ import annotations

import contextlib
import wave
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from semtalk.errors import SemtalkError
from semtalk.media.reader import require_av


def _rate(fps: float) -> Fraction:
    """fps as an exact fraction (25 → 25/1, 29.97 → 30000/1001)."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Stream RGB uint8 frames into an mp4 (libx264, yuv420p), with an optional AAC mono track.

    >>> with VideoWriter("out.mp4", fps=25, audio_rate=16000) as w:   # doctest: +SKIP
    ...     w.write_audio(samples)              # whole track or a chunk; call again for more
    ...     for frame in frames:
    ...         w.write(frame)

    Frame size is fixed by the first frame and must be even (yuv420p halves the chroma planes).
    ``crf`` 18 is visually lossless for x264, so the writer adds little error of its own.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float = 25.0,
        audio_rate: int | None = None,
        crf: int = 18,
        preset: str = "veryfast",
    ):
        self.path = Path(path)
        self.fps = _rate(fps)
        self.audio_rate = audio_rate
        self.crf = crf
        self.preset = preset
        self.n_frames = 0
        self._container: Any = None
        self._video: Any = None
        self._audio: Any = None
        self._pending = np.zeros(0, dtype=np.float32)  # audio pushed but not yet encoded
        self._audio_done = 0  # samples encoded so far

    def __enter__(self) -> VideoWriter:
        av = require_av()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._container = av.open(str(self.path), mode="w", format="mp4")
        except av.FFmpegError as exc:
            raise SemtalkError(f"cannot write {self.path}: {exc}") from exc
        if self.audio_rate:
            self._audio = self._container.add_stream("aac", rate=self.audio_rate, layout="mono")
        return self

    def _open_video(self, height: int, width: int) -> None:
        if height % 2 or width % 2:
            raise ValueError(f"frame size must be even for yuv420p, got {width}x{height}")
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        self._video = stream

    def write(self, frame: np.ndarray) -> None:
        """Encode one HxWx3 uint8 RGB frame now."""
        if self._container is None:
            raise RuntimeError("VideoWriter must be used as a context manager")
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {frame.dtype} {frame.shape}")
        if self._video is None:
            self._open_video(frame.shape[0], frame.shape[1])
        elif frame.shape[:2] != (self._video.height, self._video.width):
            raise ValueError(
                f"frame size {frame.shape[1]}x{frame.shape[0]} differs from the first frame's "
                f"{self._video.width}x{self._video.height}"
            )
        av = require_av()
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24").reformat(
            format="yuv420p"
        )
        vf.pts = self.n_frames
        vf.time_base = 1 / self.fps
        self._container.mux(self._video.encode(vf))
        self.n_frames += 1
        self._drain_audio(limit=self._video_samples())

    def write_audio(self, samples: np.ndarray) -> None:
        """Queue mono float32 samples (a whole track or the next chunk).

        They are encoded only as far as the video written so far reaches, so audio pushed ahead of
        the video can still be trimmed at close.
        """
        if self._audio is None:
            raise ValueError("this VideoWriter has no audio track: pass audio_rate to enable one")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._pending = np.concatenate([self._pending, samples])
        self._drain_audio(limit=self._video_samples())

    @property
    def audio_pushed(self) -> int:
        """Audio samples handed to the writer so far (encoded or queued)."""
        return self._audio_done + int(self._pending.size)

    def _video_samples(self) -> int:
        """Audio samples that span the frames written so far."""
        return round(self.n_frames / self.fps * (self.audio_rate or 0))

    def _drain_audio(self, limit: int, final: bool = False) -> None:
        """Encode whole codec frames of pending audio, never past ``limit`` samples in total."""
        if self._audio is None:
            return
        size = self._audio.codec_context.frame_size or 1024
        while True:
            n = min(size, limit - self._audio_done, self._pending.size)
            if n <= 0 or (n < size and not final):
                return
            self._encode_audio(self._pending[:n])
            self._pending = self._pending[n:]

    def _encode_audio(self, block: np.ndarray) -> None:
        av = require_av()
        af = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="fltp", layout="mono")
        af.sample_rate = self.audio_rate
        af.pts = self._audio_done
        af.time_base = Fraction(1, self.audio_rate)
        self._container.mux(self._audio.encode(af))
        self._audio_done += block.size

    def close(self) -> None:
        """Match the audio to the video length, flush both encoders and finish the file."""
        if self._container is None:
            return
        try:
            if self._audio is not None:
                target = self._video_samples()
                missing = target - self._audio_done - self._pending.size
                if missing > 0:
                    self._pending = np.concatenate([self._pending, np.zeros(missing, np.float32)])
                self._drain_audio(limit=target, final=True)
                self._container.mux(self._audio.encode(None))
            if self._video is not None:
                self._container.mux(self._video.encode(None))
        finally:
            self._container.close()
            self._container = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        elif self._container is not None:  # the body failed: release the file, keep its error
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None


def mux_audio(video_path: str | Path, audio: np.ndarray, rate: int, out_path: str | Path) -> None:
    """Copy the video stream of ``video_path`` unchanged and add ``audio`` as an AAC mono track.

    The receiver renders video before its speech is synthesised, so audio is joined afterwards; the
    track is trimmed or padded to the video's length, like ``VideoWriter`` does, so both end together.
    """
    av = require_av()
    out_path = Path(out_path)
    try:
        src = av.open(str(video_path))
    except av.FFmpegError as exc:
        raise SemtalkError(f"cannot read {video_path}: {exc}") from exc
    with src, av.open(str(out_path), mode="w", format="mp4") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream("aac", rate=rate, layout="mono")
        n_frames = 0
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            n_frames += 1
            packet.stream = vout
            dst.mux(packet)
        fps = vin.average_rate or vin.guessed_rate
        n = round(n_frames / float(fps) * rate) if fps else len(audio)
        track = np.zeros(n, np.float32)
        track[: min(n, len(audio))] = np.asarray(audio, np.float32).reshape(-1)[:n]
        size = aout.codec_context.frame_size or 1024
        for start in range(0, n, size):
            af = av.AudioFrame.from_ndarray(track[start:start + size].reshape(1, -1), format="fltp", layout="mono")
            af.sample_rate, af.pts, af.time_base = rate, start, Fraction(1, rate)
            dst.mux(aout.encode(af))
        dst.mux(aout.encode(None))


def write_wav(path: str | Path, audio: np.ndarray, rate: int) -> None:
    """Write mono float audio in [-1, 1] as 16-bit PCM WAV (values outside are clipped)."""
    pcm = np.clip(np.asarray(audio, dtype=np.float64).reshape(-1), -1.0, 1.0)
    pcm16 = np.rint(pcm * 32767).astype("<i2")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(rate))
        out.writeframes(pcm16.tobytes())
