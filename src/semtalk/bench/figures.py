"""Matplotlib figures of the SyncSC suite (Agg backend: no display needed, safe on workers and CI)."""

from __future__ import annotations

from pathlib import Path

from semtalk.bench.curves import loss_curves


def make_figures(rows: list[dict], out: Path) -> dict[str, Path]:
    """Rate–quality curves (Table I as a plot), quality vs loss (Fig. 8), BLEU vs loss (Fig. 9); name → PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    ok = [r for r in rows if r["status"] == "ok"]
    made: dict[str, Path] = {}

    rq = [r for r in ok if r["table"] == "rate_quality" and r["kbps"] is not None and r["ssim"] is not None]
    if rq:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for metric, ax in zip(("ssim", "psnr"), axes, strict=True):
            for codec in sorted({r["codec"] for r in rq}):
                pts = sorted((r["kbps"], r[metric]) for r in rq if r["codec"] == codec and r[metric] is not None)
                by_rate: dict[float, list[float]] = {}
                for kbps, v in pts:  # average clips at the same target rate
                    by_rate.setdefault(round(kbps, 1), []).append(v)
                xs = sorted(by_rate)
                style = "*" if codec == "semtalk" else "o-"
                ax.plot(xs, [sum(by_rate[x]) / len(by_rate[x]) for x in xs], style, label=codec, markersize=8)
            _rate_axis(ax, sorted({r["target_kbps"] for r in rq if r["target_kbps"] is not None}))
            ax.set_xlabel("actual bitrate (kbps, stream only)")
            ax.set_ylabel(metric.upper())
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle("Rate–quality on held-out 256×256 face crops (Table I)")
        made["rate_quality"] = _save(fig, out / "rate_quality.png")

    curves = loss_curves(ok)
    if curves:
        bursts = sorted({burst for _, burst in curves})
        fig, axes = plt.subplots(1, len(bursts), figsize=(6 * len(bursts), 4.5), sharey=True, squeeze=False)
        for ax, burst in zip(axes[0], bursts, strict=True):
            for (label, b), pts in curves.items():
                ps = [p for p in pts if pts[p] is not None]
                if b == burst and ps:
                    ax.plot(ps, [pts[p] for p in ps], "o-" if label.startswith("semtalk") else "s--", label=label,
                            markersize=4)
            ax.set_xlabel("packet loss probability p")
            ax.set_title("Bernoulli" if burst == 1.0 else f"bursty (Gilbert–Elliott, L = {burst:g})")
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("SSIM (held-out frames)")
        axes[0][0].legend(fontsize=7)
        fig.suptitle("Quality vs packet loss (Fig. 8)")
        made["quality_vs_loss"] = _save(fig, out / "quality_vs_loss.png")

    text = [r for r in ok if r["method"] == "text_loss" and r["bleu"] is not None]
    if text:
        fig, ax = plt.subplots(figsize=(6, 4))
        for conceal in (False, True):
            for burst in sorted({r["burst"] for r in text}):
                by: dict[float, list[float]] = {}
                for r in text:
                    if bool(r["conceal"]) == conceal and (r["burst"] == burst or r["loss"] == 0.0):
                        by.setdefault(r["loss"], []).append(r["bleu"])
                ps = sorted(by)
                ax.plot(ps, [sum(by[p]) / len(by[p]) for p in ps], "o-" if burst == 1.0 else "s--",
                        label=("RS + concealment" if conceal else "RS alone") + ("" if burst == 1.0 else " (bursty)"))
        ax.set_xlabel("packet loss probability p")
        ax.set_ylabel("BLEU")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title("Text over loss (Fig. 9)")
        made["bleu_vs_loss"] = _save(fig, out / "bleu_vs_loss.png")
    return made


def _rate_axis(ax, ladder: list[float]) -> None:
    """A log bitrate axis labelled at the ladder's rates alone: over fewer than two decades matplotlib's log
    formatter also labels minor ticks (2, 3, 4, 6 × 10ⁿ), and those labels run into each other. Without codec
    rows (semtalk's point alone) matplotlib's own labels stay."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    if ladder:
        ax.set_xticks(ladder, [f"{r:g}" for r in ladder])
        ax.xaxis.set_minor_formatter(NullFormatter())


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
