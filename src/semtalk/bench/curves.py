"""Aggregates of result rows shared by the tables (``report``) and the figures (``figures``)."""

from __future__ import annotations


def mean_of(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def loss_label(r: dict) -> str:
    name = "semtalk" if r["method"] in ("semtalk", "semtalk_loss") else r["codec"] or r["method"]
    fec = ("PacSC" if r["fec"] == "pacsc" else "no FEC" if r["fec"] == "none" or r["code_rate"] == 1.0
           else f"RS {r['code_rate']:g}")
    return f"{name} + {fec}" + (f" @ {r['target_kbps']:g} kbps" if r["target_kbps"] else "") + (
        f" {r['code_rate']:g}" if r["fec"] == "pacsc" else "")


def loss_curves(rows: list[dict], metric: str = "ssim") -> dict[tuple[str, float], dict[float, float]]:
    """(series label, burst) → {p: mean metric over clips}; the p = 0 cell (run once) starts every burst's curve."""
    loss_rows = [r for r in rows if r["table"] == "loss" and r[metric] is not None]
    bursts = sorted({r["burst"] for r in loss_rows if r["loss"] > 0.0}) or [1.0]
    curves: dict[tuple[str, float], dict[float, list]] = {}
    for r in loss_rows:
        for burst in bursts if r["loss"] == 0.0 else [r["burst"]]:
            curves.setdefault((loss_label(r), burst), {}).setdefault(r["loss"], []).append(r[metric])
    return {k: {p: mean_of(v) for p, v in sorted(pts.items())} for k, pts in sorted(curves.items())}
