"""What a call leaves behind, frame by frame: the videos, the held-out quality metrics, the VMAF inputs,
the output's mouth curve (for AV sync) and the progress bar. Bounded memory: frames are written as they
are played.

Scoring and writing a frame cost as much as making it (SSIM, MS-SSIM, landmarks on the output, two video
encoders), and they need nothing the call needs, so they run on a second thread, in play-out order, while the
call goes on: numpy, torch, OpenCV, MediaPipe and FFmpeg release the GIL, so a 2-core machine does both at
once. At most ``PENDING`` frames wait for it, which keeps memory bounded when it falls behind. When the call
fails or is interrupted, the frames still queued are dropped: only the one being written is waited for.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import numpy as np

from semtalk.modes.base import Captured, Played
from semtalk.records import StageTimer

VIDEOS = ("received.mp4", "side_by_side.mp4")
PENDING = 8  # frames queued for the output thread before the call waits for it


class Outputs(contextlib.ExitStack):
    """``frame()`` for every played frame; a context manager that closes every file it opened.

    ``videos``: where to write the received and the side-by-side video (None: no videos);
    ``audio``: chunks of the original audio to pass through into the videos (empty when the receiver
    regenerates speech, which is muxed in afterwards); ``enroll_frames``: frames the KB was built from,
    which are not scored; ``measure_mouth``: run landmarks on the output (AV-sync metric); ``score``: False
    skips the quality metrics (``--no-metrics``: a long call's outputs cost only their writing).
    """

    def __init__(self, videos: Sequence[Path] | None, tmp: Path, *, fps: float, audio_rate: int | None,
                 audio: Iterator[np.ndarray], enroll_frames: int, vmaf: bool, measure_mouth: bool, score: bool = True,
                 timer: StageTimer, progress):
        from semtalk.media.writer import VideoWriter
        from semtalk.media.y4m import Y4mWriter
        from semtalk.metrics.video import VideoQuality

        super().__init__()
        self.score = score
        self.timer, self.progress, self.tmp = timer, progress, tmp
        self.fps, self.enroll_frames = fps, enroll_frames
        self.quality = VideoQuality()
        self.heldout = [math.inf, -1]
        self.audio = audio
        self.writers = [] if videos is None else [
            self.enter_context(VideoWriter(path, fps, audio_rate=audio_rate)) for path in videos]
        self.y4m = [self.enter_context(Y4mWriter(tmp / name, fps)) for name in ("ref.y4m", "out.y4m")] if vmaf else []
        self.sent_mouth: list[float] = []
        self.out_mouth: list[float] = []
        self._landmarker = None
        self.blink = None  # eye-aspect-ratio correlation of the scored frames (``metrics.blink``)
        if score:
            from semtalk.metrics.blink import BlinkCorrelation

            self.blink = BlinkCorrelation()
            self.callback(self.blink.close)
        if measure_mouth:
            from semtalk.semantics.face.landmarks import FaceLandmarker

            self._landmarker = FaceLandmarker()
            self.callback(self._landmarker.close)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semtalk-outputs")
        self._pending: deque[Future] = deque()
        self.push(self._stop)  # closed files must not be written: stop the thread first (callbacks run last first)

    def frame(self, captured: Captured, played: Played) -> None:
        """Queue one played frame (and the captured one it shows) for scoring and writing."""
        self.sent_mouth.append(captured.mouth)
        while len(self._pending) >= PENDING:
            self._pending.popleft().result()  # re-raises what went wrong on the output thread
        self._pending.append(self._worker.submit(self._frame, captured.crop, played.image, played.index))
        self.progress.update(1)

    def _drain(self) -> None:
        """Wait for every queued frame (raising the first error) and stop the output thread."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._worker.shutdown(wait=True, cancel_futures=True)

    def _stop(self, exc_type: type[BaseException] | None, exc: BaseException | None,
              tb: TracebackType | None) -> None:
        """Stop the output thread as the block ends: after the call, once every frame is written; after an
        error or an interrupt, without the queued frames (their files are about to be thrown away)."""
        if exc_type is None:
            self._drain()
        else:
            self._worker.shutdown(wait=True, cancel_futures=True)

    def _frame(self, original: np.ndarray, image: np.ndarray, index: int) -> None:
        points = None
        if self._landmarker is not None:
            from semtalk.semantics.face.mesh import mouth_opening

            t = time.perf_counter()
            points = self._landmarker(image)
            self.out_mouth.append(np.nan if points is None else mouth_opening(points))
            self.timer.add("lips", time.perf_counter() - t)
        t = time.perf_counter()
        if index >= self.enroll_frames:
            if self.score:
                self.quality.update(original, image)
                self.blink.update(original, image, points)
            self.heldout[0], self.heldout[1] = min(self.heldout[0], index), index
            for writer, picture in zip(self.y4m, (original, image), strict=False):
                writer.write(picture)
        self.timer.add("metrics", time.perf_counter() - t)
        t = time.perf_counter()
        if self.writers:
            self.writers[0].write(image)
            self.writers[1].write(np.hstack([original, image]))
            for chunk in self._audio_until((index + 1) / self.fps):
                for w in self.writers:
                    w.write_audio(chunk)
        self.timer.add("write", time.perf_counter() - t)

    def finish(self) -> float | None:
        """Write the rest of the audio, close every file; the VMAF of the scored frames (None without)."""
        from semtalk.metrics.vmaf import vmaf

        self._drain()
        for chunk in self.audio if self.writers else ():
            for w in self.writers:
                w.write_audio(chunk)
        self.progress.close()
        self.close()
        if not self.y4m or not self.quality.frames:
            return None
        return vmaf(self.tmp / "ref.y4m", self.tmp / "out.y4m")

    def _audio_until(self, t: float) -> Iterator[np.ndarray]:
        """Audio chunks to push so the audio keeps about one chunk ahead of the video."""
        w = self.writers[0]
        while w.audio_rate and w.audio_pushed < (t + 0.5) * w.audio_rate:
            chunk = next(self.audio, None)
            if chunk is None:
                return
            yield chunk
