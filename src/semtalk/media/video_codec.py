"""Classic video codecs in a low-delay call configuration: SyncSC Table I baselines and the Wav2Vid clip coder.

Every codec runs single-pass with bitrate-targeted rate control, one I-frame then P-frames only
(no B-frames, no lookahead, no scene-cut I-frames), one thread (deterministic, and the benchmark
parallelises over tasks instead):

==========  ================================  =========================================================
name        encoder                           settings
==========  ================================  =========================================================
x264        libx264 via PyAV                  preset veryfast, tune zerolatency, VBR, 1 s VBV buffer
x265        libx265 via PyAV                  preset ultrafast, tune zerolatency, 1 s VBV, closed GOP
svtav1      libsvtav1 via PyAV                preset 10, rtc (low-delay) mode, CBR
aom         libaom-av1 via imageio's ffmpeg   usage realtime, cpu-used 8, lag-in-frames 0, VBR
==========  ================================  =========================================================

(PyAV's wheel has no libaom, the static ffmpeg has; its IVF output is demuxed with PyAV.) The presets above are
the call defaults (``DEFAULT_PRESETS``); ``encode_video(..., preset=)`` picks another (``PRESETS``; libaom none).
Frames enter as BT.601 limited-range yuv420p made by ``semtalk.media.color`` -- the conversion our
metrics use -- and leave as RGB from the decoder (h264, hevc, libdav1d).

Loss convention (FREEZE), applied by ``decode_video`` to every method: the receiver shows the last
frame it decoded. A frame is decodable iff its packet arrived and, unless it is an I-frame, the
frame before it was decodable (a P-frame references earlier frames of its GOP). So one lost frame
freezes the picture until the next I-frame; before any decodable frame the receiver shows mid-grey.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from semtalk.errors import SemtalkError
from semtalk.media.color import rgb_to_yuv420
from semtalk.media.reader import require_av

CODECS = ("x264", "x265", "svtav1", "aom")
_X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                 "placebo")
PRESETS = {"x264": _X26X_PRESETS, "x265": _X26X_PRESETS, "svtav1": tuple(str(i) for i in range(14)), "aom": ()}
DEFAULT_PRESETS = {"x264": "veryfast", "x265": "ultrafast", "svtav1": "10"}  # the table above (aom: cpu-used 8)
_DECODERS = {"x264": "h264", "x265": "hevc", "svtav1": "libdav1d", "aom": "libdav1d"}
GREY = 128  # what the receiver shows before it has decoded any frame


@dataclass(frozen=True)
class EncodedVideo:
    """One encoded clip: one packet per frame (low delay: no reordering, no hidden frames)."""

    codec: str
    width: int
    height: int
    fps: float
    packets: tuple[bytes, ...]
    keyframes: tuple[bool, ...]
    params: dict[str, Any] = field(default_factory=dict)  # the knob that produced it (target bitrate)

    @property
    def n_frames(self) -> int:
        return len(self.packets)

    @property
    def frame_types(self) -> str:
        """'I' or 'P' per frame, e.g. 'IPPPP...'."""
        return "".join("I" if k else "P" for k in self.keyframes)

    @property
    def total_bytes(self) -> int:
        return sum(len(p) for p in self.packets)

    @property
    def kbps(self) -> float:
        """Actual bitrate of the elementary stream (packet payloads, no container or RTP overhead)."""
        return self.total_bytes * 8 * self.fps / self.n_frames / 1000

    @property
    def bpp(self) -> float:
        """Bits per pixel per frame."""
        return self.total_bytes * 8 / (self.n_frames * self.width * self.height)


@dataclass(frozen=True)
class YuvClip:
    """Frames as yuv420p planes, converted once so that a rate search does not repeat it."""

    planes: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    fps: float

    @classmethod
    def from_rgb(cls, frames: Sequence[np.ndarray], fps: float = 25.0) -> YuvClip:
        if not frames:
            raise ValueError("no frames to encode")
        h, w = frames[0].shape[:2]
        if h % 2 or w % 2:
            raise ValueError(f"frame size must be even for yuv420p, got {w}x{h}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        return cls(tuple(rgb_to_yuv420(f) for f in frames), float(fps))

    @property
    def height(self) -> int:
        return self.planes[0][0].shape[0]

    @property
    def width(self) -> int:
        return self.planes[0][0].shape[1]

    def raw(self) -> bytes:
        return b"".join(p.tobytes() for frame in self.planes for p in frame)


def check_preset(codec: str, preset: str | None) -> None:
    """ValueError unless ``preset`` is one of ``codec``'s speed presets (None: the table's call default always is)."""
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; choose one of {', '.join(CODECS)}")
    if preset is not None and preset not in PRESETS[codec]:
        valid = f"{PRESETS[codec][0]}–{PRESETS[codec][-1]}" if codec == "svtav1" else ", ".join(PRESETS[codec])
        raise ValueError(f"{codec} has no preset {preset!r}" + (f"; choose one of {valid}" if valid else
                                                               " (it takes none)"))


def encode_video(
    frames: Sequence[np.ndarray] | YuvClip, codec: str, kbps: float, fps: float = 25.0, gop: int | None = None,
    preset: str | None = None,
) -> EncodedVideo:
    """Encode RGB uint8 frames (or a ``YuvClip``) aiming at ``kbps``; ``gop`` frames per I-frame,
    None for a single I-frame. The bitrate achieved is ``.kbps``; ``rate_match`` makes it meet a target.
    ``preset``: the encoder's speed preset (x264/x265 names, SVT-AV1 0–13); None, the table's call default.
    A slower one spends encoder time for fewer bytes at the same quality -- Wav2Vid's rare clips can afford it."""
    clip = frames if isinstance(frames, YuvClip) else YuvClip.from_rgb(frames, fps)
    check_preset(codec, preset)
    if not kbps > 0:
        raise ValueError(f"target bitrate must be positive, got {kbps} kbps")
    n = len(clip.planes)
    period = n + 1 if gop is None else gop
    if period < 1:
        raise ValueError(f"gop must be at least 1 frame, got {gop}")
    packets = (_encode_ffmpeg(clip, kbps, period) if codec == "aom"
               else _encode_pyav(clip, codec, kbps, period, preset or DEFAULT_PRESETS[codec]))
    if len(packets) != n:
        raise SemtalkError(f"{codec} gave {len(packets)} packets for {n} frames; low delay needs one per frame")
    return EncodedVideo(
        codec,
        clip.width,
        clip.height,
        clip.fps,
        tuple(p for p, _ in packets),
        tuple(k for _, k in packets),
        {"bitrate_kbps": float(kbps), "gop": gop, **({"preset": preset} if preset is not None else {})},
    )


def _pyav_options(codec: str, gop: int, preset: str) -> tuple[str, dict[str, str]]:
    if codec == "x264":
        return "libx264", {
            "preset": preset,
            "tune": "zerolatency",
            "x264-params": f"scenecut=0:bframes=0:rc-lookahead=0:keyint={gop}:min-keyint={gop}",
        }
    if codec == "x265":
        return "libx265", {
            "preset": preset,
            "tune": "zerolatency",
            "x265-params": f"scenecut=0:bframes=0:open-gop=0:info=0:keyint={gop}:min-keyint={gop}"
            ":log-level=error:pools=1:frame-threads=1",
        }
    return "libsvtav1", {"preset": preset, "svtav1-params": f"rtc=1:rc=2:scd=0:keyint={gop}:lp=1"}


def _encode_pyav(clip: YuvClip, codec: str, kbps: float, gop: int, preset: str) -> list[tuple[bytes, bool]]:
    av = require_av()
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its whole config per encoder unless told: errors only
    name, options = _pyav_options(codec, gop, preset)
    cc = av.CodecContext.create(name, "w")
    cc.width, cc.height, cc.pix_fmt = clip.width, clip.height, "yuv420p"
    rate = Fraction(clip.fps).limit_denominator(1001)
    cc.time_base, cc.framerate = 1 / rate, rate
    cc.bit_rate = round(kbps * 1000)
    if codec != "svtav1":  # CBR-like, as a call needs: a 1 s VBV buffer (SVT-AV1's CBR has its own)
        options = {**options, "maxrate": str(cc.bit_rate), "bufsize": str(cc.bit_rate)}
    cc.gop_size, cc.max_b_frames, cc.thread_count = gop, 0, 1
    cc.options = options
    out: list[tuple[bytes, bool]] = []
    for i, (y, u, v) in enumerate(clip.planes):
        frame = av.VideoFrame.from_ndarray(
            np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(-1, clip.width), format="yuv420p"
        )
        frame.pts = i
        out += [(bytes(p), bool(p.is_keyframe)) for p in cc.encode(frame)]
    out += [(bytes(p), bool(p.is_keyframe)) for p in cc.encode(None)]
    return out


def _encode_ffmpeg(clip: YuvClip, kbps: float, gop: int) -> list[tuple[bytes, bool]]:
    """libaom-av1 through the static ffmpeg (stdin raw yuv → stdout IVF), packets demuxed by PyAV."""
    from semtalk.media.reader import ffmpeg_exe

    av = require_av()
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{clip.width}x{clip.height}", "-r", f"{clip.fps:g}",
           "-i", "pipe:0", "-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8", "-lag-in-frames", "0",
           "-g", str(gop), "-keyint_min", str(gop), "-b:v", f"{kbps * 1000:.0f}", "-threads", "1", "-row-mt", "0",
           "-f", "ivf", "pipe:1"]  # fmt: skip
    proc = subprocess.run(cmd, input=clip.raw(), capture_output=True, check=False)
    if proc.returncode != 0:
        raise SemtalkError(f"ffmpeg libaom-av1 failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    with av.open(io.BytesIO(proc.stdout), format="ivf") as container:
        return [(bytes(p), bool(p.is_keyframe)) for p in container.demux(container.streams.video[0]) if p.size]


def decodable(encoded: EncodedVideo, keep: Sequence[bool] | None = None) -> np.ndarray:
    """Which frames the receiver can decode: arrived, and an I-frame or following a decodable frame."""
    n = encoded.n_frames
    arrived = np.ones(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if arrived.shape != (n,):
        raise ValueError(f"keep mask has shape {arrived.shape}, expected ({n},)")
    ok = np.zeros(n, dtype=bool)
    for i in range(n):
        ok[i] = arrived[i] and (encoded.keyframes[i] or (i > 0 and ok[i - 1]))
    return ok


def decode_video(encoded: EncodedVideo, keep: Sequence[bool] | None = None) -> list[np.ndarray]:
    """RGB uint8 frames, one per encoded frame, under the FREEZE convention of this module.

    ``keep[i]`` says whether frame i's bytes all reached the receiver (None: all did). Only
    decodable frames (``decodable``) are given to the decoder, a fresh one at each I-frame after a
    gap, so the output never depends on a decoder's own error concealment.
    """
    av = require_av()
    ok = decodable(encoded, keep)
    shown = np.full((encoded.height, encoded.width, 3), GREY, dtype=np.uint8)
    out: list[np.ndarray] = []
    decoder: Any = None
    for i in range(encoded.n_frames):
        if ok[i]:
            if decoder is None or not ok[i - 1]:
                decoder = av.CodecContext.create(_DECODERS[encoded.codec], "r")
                decoder.thread_count = 1
            pictures = decoder.decode(av.Packet(encoded.packets[i]))
            if len(pictures) != 1:  # zero-delay decoding: one picture per packet
                raise SemtalkError(f"{encoded.codec} decoder gave {len(pictures)} pictures for frame {i}")
            shown = pictures[0].to_ndarray(format="rgb24")
            out.append(shown)
        else:  # a frozen frame gets its own array, so a caller drawing on one spares the others
            out.append(shown.copy())
    return out
