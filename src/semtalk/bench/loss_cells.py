"""semtalk's loss cells of Fig. 8: the receiver alone re-run per channel condition.

The sender side of a call (tracker → face encoder → quantised codes) is deterministic per clip and
KB, so ``prepare`` runs it once (``FaceCrops.codes``) and a loss cell re-runs only what the channel
changes — the real packetiser (face payload + RS / no FEC, or PacSC rows), the seeded channel of
``SimulatedLink``, the receiver's decoder and ``FacePlayout`` with its concealment, timed as in
``FaceCall`` — through ``semtalk.bench.pacsc.receive``, the PacSC sweep's own function, so both
sweeps run the identical receiver. The played coefficients are rendered and scored against the
sender's crops on every ``stride``-th held-out frame. The renderer is a pure function of the
coefficients, so a frame received intact reuses the clip's loss-free score (``clean_scores``, computed
once per clip) and concealed frames that repeat coefficients are rendered once.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Mapping

import numpy as np

from semtalk.atomic import atomic_bytes
from semtalk.bench.clips import crops_path, kb_path
from semtalk.bench.runner import BenchEnv, Task
from semtalk.link.simulated import ChannelConfig


def channel_config(loss: float, burst: float, seed: int) -> ChannelConfig:
    """A grid cell's channel: Gilbert–Elliott when the cell has a burst length, else Bernoulli."""
    bursty = burst > 1.0
    return ChannelConfig(channel="gilbert_elliott" if bursty else "bernoulli", loss=loss,
                         burst=channel_burst(loss, burst), seed=seed)


def channel_burst(loss: float, burst: float) -> float:
    """The mean burst the channel really uses: Gilbert–Elliott needs L ≥ p / (1 − p), so at high loss the
    shortest allowed (the PacSC sweep's rule, ``bench.pacsc.Condition.burst``); 1 = Bernoulli."""
    return max(burst, loss / (1.0 - loss) + 1e-6) if burst > 1.0 else 1.0


def score_frames(frames: np.ndarray, shown: Mapping[int, np.ndarray]) -> dict:
    """Mean luma PSNR (identical frames capped like ``VideoQuality``) and SSIM of ``shown[i]`` vs ``frames[i]``."""
    from semtalk.metrics.video import PSNR_CAP, psnr, ssim

    pairs = [(frames[i], img) for i, img in sorted(shown.items())]
    return {"psnr": float(np.mean([min(psnr(a, b), PSNR_CAP) for a, b in pairs])),
            "ssim": float(np.mean([ssim(a, b) for a, b in pairs]))}


@functools.lru_cache(maxsize=2)
def _receiver(path: str):
    """The KB's quantiser, reference codes and renderer, loaded once per worker process and clip."""
    from semtalk.generators.face_renderer import FaceRenderer
    from semtalk.kb.knowledge_base import read_kb

    kb, _ = read_kb(path)
    return kb.quantizer, kb.reference.codes, FaceRenderer(kb)


def semtalk_loss_method(task: Task, env: BenchEnv) -> dict:
    """semtalk's face stream over one channel condition (fec none / rs / pacsc at a code rate)."""
    from semtalk.bench.crops import FaceCrops
    from semtalk.bench.pacsc import Condition, code_error, receive

    p = task.params
    crops = FaceCrops.load(crops_path(env, task.clip))
    if not len(crops.codes):
        raise ValueError(f"{crops_path(env, task.clip)} holds no face codes: delete it so prepare remakes it")
    quantizer, reference, renderer = _receiver(str(kb_path(env, task.clip)))
    cond = Condition(p["fec"], p["code_rate"], p["loss"], p["burst"] > 1.0, task.seed)
    if cond.burst != channel_burst(p["loss"], p["burst"]):
        raise ValueError(f"grid burst {p['burst']} differs from the PacSC sweep's {cond.burst}")
    played, info = receive(crops.codes, quantizer, cond, reference)
    scored = range(crops.heldout_start, len(crops.frames), p["stride"])
    clean = clean_scores(env, task.clip, crops, p["stride"])
    exact = quantizer.dequantize(crops.codes)
    renders: dict[bytes, np.ndarray] = {}
    shown, reused = {}, {"psnr": [], "ssim": []}
    for i in scored:
        if np.array_equal(played[i], exact[i]):  # what the loss-free call shows: its score is known
            reused["psnr"].append(clean["psnr"][i])
            reused["ssim"].append(clean["ssim"][i])
            continue
        key = np.asarray(played[i], dtype=np.float32).tobytes()
        if key not in renders:
            renders[key] = renderer(played[i])
        shown[i] = renders[key]
    q = _pool(score_frames(crops.frames, shown) if shown else None, len(shown), reused)
    seconds = len(crops.frames) / crops.fps
    return {"codec": "semtalk", "frames": len(crops.frames), "heldout_start": crops.heldout_start,
            "channel_kbps": info["channel_kbps"], **q,
            "code_error": code_error(played[crops.heldout_start:], crops.codes[crops.heldout_start:], quantizer),
            "packet_loss": info["lost"] / info["packets"] if info["packets"] else 0.0,
            "concealed_frames": int(info["concealed"]),
            "details": json.dumps({"channel_burst": cond.burst, "packets": info["packets"], "lost": info["lost"],
                                   "scored_frames": len(scored), "renders": len(renders),
                                   "exact_frames": len(reused["ssim"]), "seconds": seconds},
                                  sort_keys=True)}


def _pool(fresh: dict | None, n_fresh: int, reused: dict[str, list[float]]) -> dict:
    """Frame-weighted means over freshly rendered frames and frames whose clean score was reused."""
    n = n_fresh + len(reused["ssim"])
    return {m: (n_fresh * (fresh[m] if fresh else 0.0) + float(np.sum(reused[m]))) / n for m in ("psnr", "ssim")}


def clean_scores(env: BenchEnv, clip: str, crops, stride: int) -> dict[str, np.ndarray]:
    """Per-frame PSNR/SSIM of the render of the exact sent codes on the scored frames (NaN elsewhere).

    A frame the receiver gets intact (every frame at p = 0, most at low loss with RS) is rendered from
    exactly these coefficients, and the renderer is a pure function of them, so every loss cell of the
    clip reuses these scores instead of rendering it again. Cached in ``work/<clip>/clean_scores_s<stride>.npz``.
    """
    path = env.clip_dir(clip) / f"clean_scores_s{stride}.npz"
    if not path.is_file():
        quantizer, _, renderer = _receiver(str(kb_path(env, clip)))
        exact = quantizer.dequantize(crops.codes)
        out = {m: np.full(len(crops.frames), np.nan) for m in ("psnr", "ssim")}
        for i in range(crops.heldout_start, len(crops.frames), stride):
            q = score_frames(crops.frames, {i: renderer(exact[i])})
            out["psnr"][i], out["ssim"][i] = q["psnr"], q["ssim"]
        buf = io.BytesIO()
        np.savez(buf, **out)
        atomic_bytes(path, buf.getvalue())
    with np.load(path) as z:
        return {m: z[m] for m in ("psnr", "ssim")}
