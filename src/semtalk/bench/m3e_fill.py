"""What each way of filling the frames between M3E's keyframes contributes (issue 22, item 5): the ``m3e_fill``
cells of ``semtalk bench --suite m3e``.

Per clip, the sender's face crops exactly as the M3E call makes them (``bench.crops.face_crops`` with the clip's
LGM-TSC knowledge base: the ``FaceTracker`` window ``LgmtscSender.frame`` crops), keyframes chosen by the mode's
own eqs. 1–2 selector (``modes.m3e.keyframes``) at its default τ and coded as the call codes them (its default
keyframe codec at its default bpp, ``imagecodec.base.at_bpp``) on a clean channel. Every frame strictly between two
keyframes a < t < b (α = (t − a)/(b − a)) is then filled by one of

- ``hold``: the nearer keyframe (a when α ≤ ½) — what a receiver without interpolation shows;
- ``crossfade``: (1 − α)·A + α·B — interpolation in time without motion;
- ``flow``: the mode's eq.-10 interpolator (``modes.m3e.flow.Interpolator``: DIS flow both ways, warp and blend),
  what ``M3eReceiver`` shows;
- ``face``: face-guided — SyncSC's face renderer (``generators.face_renderer.FaceRenderer``) with the two decoded
  keyframes as its only warp sources (``set_sources``, as Wav2Vid animates its cached clip), driven by frame t's
  face coefficients as SyncSC's coefficient stream delivers them (its default rate target, range coded: the
  sender's codes packetised by ``FacePacketizer`` and read back by ``FaceDepacketizer``); that stream is the extra
  cost (``extra_kbps``, payload bits as SyncSC's report counts them).

After the last keyframe every fill holds it, as the receiver does. Scores: luma PSNR and SSIM
(``metrics.video``) against the sender's crops, over the in-between frames and over all the frames the call scores
(the held-out range: keyframes, in-between and the held tail).
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Sequence

import numpy as np

from semtalk.bench.runner import BenchEnv, Task

FILLS = ("hold", "crossfade", "flow", "face")
CROPS_NAME = "m3e_crops.npz"  # the crops and face codes under the LGM-TSC KB's window (per clip, made once)

Fill = Callable[[np.ndarray, np.ndarray, float, tuple[int, int]], np.ndarray]  # (A, B, α, (a, b)) → frame t


def hold(a: np.ndarray, b: np.ndarray, alpha: float, key: tuple[int, int] | None = None) -> np.ndarray:
    """The nearer keyframe (the earlier one halfway)."""
    return a if alpha <= 0.5 else b


def crossfade(a: np.ndarray, b: np.ndarray, alpha: float, key: tuple[int, int] | None = None) -> np.ndarray:
    """(1 − α)·A + α·B, rounded."""
    out = (1 - alpha) * a.astype(np.float32) + alpha * b.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class FaceFill:
    """``fill(A, B, α, (a, b))``: frame t = a + α(b − a) rendered by SyncSC's face renderer from frame t's codes
    (``codes``: N×C, the KB's quantiser) with the keyframes A (codes of frame a) and B (of frame b) as sources."""

    def __init__(self, kb, codes: np.ndarray) -> None:
        from semtalk.generators.face_renderer import FaceRenderer

        self.renderer = FaceRenderer(kb)
        self.quantizer = kb.quantizer
        self.codes = codes
        self._key: tuple[int, int] | None = None

    def __call__(self, a: np.ndarray, b: np.ndarray, alpha: float, key: tuple[int, int]) -> np.ndarray:
        from semtalk.kb.knowledge_base import Keyframe

        first, last = key
        if key != self._key:
            self.renderer.set_sources([Keyframe(np.ascontiguousarray(a), self.codes[first]),
                                       Keyframe(np.ascontiguousarray(b), self.codes[last])])
            self._key = key
        t = round(first + alpha * (last - first))
        return self.renderer(self.quantizer.dequantize(self.codes[t]).astype(np.float64))


def select_keyframes(frames: Sequence[np.ndarray], tau: float) -> list[int]:
    """The frames the M3E sender sends as keyframes (eqs. 1–2 at threshold ``tau``)."""
    from semtalk.modes.m3e.keyframes import KeyframeSelector

    selector = KeyframeSelector(tau)
    return [i for i, frame in enumerate(frames) if selector(frame)]


def code_keyframes(frames: Sequence[np.ndarray], indices: Sequence[int], codec: str,
                   bpp: float) -> tuple[dict[int, np.ndarray], int]:
    """Frame index → the keyframe as the receiver decodes it (``codec`` at ``bpp``, as ``M3eSender`` codes it), and
    the coded bits."""
    from semtalk import registry
    from semtalk.imagecodec.base import at_bpp

    coder = registry.get("image_codec", codec)()
    pictures, bits = {}, 0
    for i in indices:
        data, _ = at_bpp(coder, frames[i], bpp)
        pictures[i] = coder.decode(data)
        bits += 8 * len(data)
    return pictures, bits


def reconstruct(n: int, pictures: dict[int, np.ndarray], fill: Fill) -> list[np.ndarray]:
    """Frames 0..n−1: a keyframe as decoded, a frame strictly between two keyframes by ``fill``, any other the
    nearest keyframe held (``M3eReceiver._picture`` on a clean channel)."""
    keys = sorted(pictures)
    if not keys:
        raise ValueError("reconstruct needs at least one keyframe")
    out = []
    for t in range(n):
        at = bisect.bisect_left(keys, t)
        if at < len(keys) and keys[at] == t:
            out.append(pictures[t])
        elif 0 < at < len(keys):
            a, b = keys[at - 1], keys[at]
            out.append(fill(pictures[a], pictures[b], (t - a) / (b - a), (a, b)))
        else:
            out.append(pictures[keys[min(at, len(keys) - 1)]])
    return out


def score(reference: Sequence[np.ndarray], shown: Sequence[np.ndarray], keys: Sequence[int],
          start: int = 0) -> dict:
    """Mean luma PSNR / SSIM of frames ``start``.. over the in-between frames (strictly between the first and last
    keyframe, not keyframes) and over all of them."""
    from semtalk.metrics.video import PSNR_CAP, psnr, ssim

    key_set, lo, hi = set(keys), min(keys), max(keys)
    between, every = [], []
    for t in range(start, len(reference)):
        q = (min(psnr(reference[t], shown[t]), PSNR_CAP), ssim(reference[t], shown[t]))
        every.append(q)
        if lo < t < hi and t not in key_set:
            between.append(q)

    def mean(values: list[tuple[float, float]], i: int) -> float | None:
        return float(np.mean([v[i] for v in values])) if values else None

    return {"psnr_between": mean(between, 0), "ssim_between": mean(between, 1), "frames_between": len(between),
            "psnr": mean(every, 0), "ssim": mean(every, 1), "frames": len(every)}


def coefficient_stream(kb, kb_bytes: bytes, codes: np.ndarray, fps: float) -> tuple[np.ndarray, float]:
    """The codes as SyncSC's face stream delivers them on a clean channel (its default format: range coded at its
    default rate target, ``SyncscConfig.stream_format``), and the stream's payload kbps. ``FaceCrops`` keeps no
    face flags, so every frame goes as found (one without a face carries the encoder's held codes)."""
    from semtalk.modes.syncsc.mode import SyncscConfig
    from semtalk.records import CodedFrame
    from semtalk.streams.face import FaceDepacketizer, FacePacketizer

    fmt = SyncscConfig().stream_format(kb, kb_bytes)
    send, receive = FacePacketizer(fmt), FaceDepacketizer(fmt)
    got: dict[int, np.ndarray] = {}
    packets = [p for i, c in enumerate(codes) for p in send.push(CodedFrame(i, c, True))] + send.flush()
    for packet in packets:
        got.update((f.index, f.codes) for f in receive(packet))
    if len(got) != len(codes):
        raise RuntimeError(f"the coefficient stream delivered {len(got)} of {len(codes)} frames")
    return np.stack([got[i] for i in range(len(codes))]), send.payload_bits / (len(codes) / fps) / 1000


def m3e_crops(env: BenchEnv, clip: str):
    """The clip's crops and face codes in the M3E call's window (``bench.crops.FaceCrops``), tracked once."""
    from semtalk.bench.crops import FaceCrops, face_crops
    from semtalk.bench.lgmtsc import kb_file

    path = env.clip_dir(clip) / CROPS_NAME
    if not path.is_file():
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.partial.npz")
        face_crops(env.clip_path(clip), kb_file(env, clip)).save(tmp)
        os.replace(tmp, path)
    return FaceCrops.load(path)


def m3e_fill_method(task: Task, env: BenchEnv) -> dict:
    """One clip filled by one method (``fill``), keyframes by ``tau`` coded by ``codec`` at ``bpp``."""
    from semtalk.bench.lgmtsc import kb_file
    from semtalk.kb.knowledge_base import read_kb

    p = task.params
    crops = m3e_crops(env, task.clip)
    frames = crops.frames
    keys = select_keyframes(frames, p["tau"])
    pictures, bits = code_keyframes(frames, keys, p["codec"], p["bpp"])
    seconds = len(frames) / crops.fps
    extra = 0.0
    if p["fill"] == "face":
        kb, kb_bytes = read_kb(kb_file(env, task.clip))
        codes, extra = coefficient_stream(kb, kb_bytes, crops.codes, crops.fps)
        fill: Fill = FaceFill(kb, codes)
    else:
        fill = fill_of(p["fill"])
    shown = reconstruct(len(frames), pictures, fill)
    return {"table": "fill", "system": p["fill"], **score(frames, shown, keys, crops.heldout_start),
            "keyframes": len(keys), "gop_frames_mean": len(frames) / len(keys),
            "keyframe_kbps": bits / seconds / 1000, "extra_kbps": extra, "seconds": seconds}


def fill_of(name: str) -> Fill:
    """The fills that need nothing but the two keyframes."""
    from semtalk.modes.m3e.flow import Interpolator

    fills: dict[str, Callable[[], Fill]] = {"hold": lambda: hold, "crossfade": lambda: crossfade,
                                            "flow": Interpolator}
    if name not in fills:
        raise ValueError(f"unknown fill '{name}'; choose one of: {', '.join(FILLS)}")
    return fills[name]()

