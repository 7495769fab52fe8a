"""report.html: one self-contained file (tables, figures and thumbnails inlined as base64 PNG).

Self-contained so it can be mailed or attached to a paper review: no ``src=`` points outside the file.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;
margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f4f4f4}
td:first-child{text-align:left}figure{display:inline-block;margin:4px;text-align:center;font-size:12px}
img{image-rendering:auto}"""


def render_html(rows: list[dict], tables: dict[str, str], figures: dict[str, Path]) -> str:
    """The whole report as one HTML string."""

    ok = [r for r in rows if r["status"] == "ok"]
    failed = [r for r in rows if r["status"] != "ok"]
    shas = sorted({r["git_sha"] for r in rows if r["git_sha"]})
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>semtalk SyncSC benchmark</title>"
             f"<style>{STYLE}</style></head><body><h1>semtalk — SyncSC benchmark</h1>",
             f"<p>{len(ok)} cells ok, {len(failed)} failed; code {html.escape(', '.join(shas))}; "
             f"seeds {sorted({r['seed'] for r in rows})}. Schema: docs/benchmark.md.</p>"]
    for title, md in tables.items():
        parts.append(f"<h2>{html.escape(title)}</h2>{markdown_table_html(md)}")
    for name, path in figures.items():
        parts.append(f"<h2>Figure: {html.escape(name.replace('_', ' '))}</h2>{_img(path, name)}")
    parts.append("<h2>Side by side at comparable rates (middle held-out frame, p = 0)</h2>")
    parts += _thumbnails(ok)
    if failed:
        parts.append("<h2>Failed cells</h2><ul>" + "".join(
            f"<li>{html.escape(r['method'])} {html.escape(r['clip'])} {html.escape(r['config'] or '')}: "
            f"{html.escape(r['error'] or '')}</li>" for r in failed) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _img(path: Path | str, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    size = f" width='{width}'" if width else ""
    return f"<img alt='{html.escape(alt)}'{size} src='data:image/png;base64,{data}'>"


def _thumbnails(rows: list[dict]) -> list[str]:
    """Per clip: the original, semtalk, and each codec at the ladder rate nearest semtalk's and at the lowest."""
    out = []
    for clip in sorted({r["clip"] for r in rows if r["table"] == "rate_quality"}):
        cells = [r for r in rows if r["clip"] == clip and r["table"] == "rate_quality" and r["thumb"]
                 and Path(r["thumb"]).is_file()]
        sem = next((r for r in cells if r["codec"] == "semtalk"), None)
        figs = []
        original = Path(cells[0]["thumb"]).parent / "original.png" if cells else None
        if original is not None and original.is_file():
            figs.append(figure_html(original, "original crop"))
        if sem is not None:
            figs.append(figure_html(sem["thumb"], f"semtalk {sem['kbps']:.2f} kbps, SSIM {_num(sem['ssim'])}"))
        for codec in sorted({r["codec"] for r in cells} - {"semtalk"}):
            mine = sorted((r for r in cells if r["codec"] == codec), key=lambda r: r["kbps"] or 0)
            picks = {id(mine[0]): mine[0]}
            if sem is not None and sem["kbps"]:
                near = min(mine, key=lambda r: abs((r["kbps"] or 0) - max(sem["kbps"], 1e-3)))
                picks[id(near)] = near
            for r in picks.values():
                floor = " (floor)" if r["floor"] else ""
                figs.append(figure_html(r["thumb"], f"{codec} {r['kbps']:.1f} kbps{floor}, SSIM {_num(r['ssim'])}"))
        out.append(f"<h3>{html.escape(clip)}</h3><div>{''.join(figs)}</div>")
    return out


def figure_html(path: Path | str, caption: str, width: int | None = 128) -> str:
    """An inlined PNG with its caption (thumbnails at 128 px; ``width=None`` keeps a figure's own size)."""
    return f"<figure>{_img(path, caption, width)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _num(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def markdown_table_html(md: str) -> str:
    """Our own markdown tables (``| a | b |`` lines) as HTML; other lines become paragraphs."""
    out, rows = [], []

    def flush() -> None:
        if rows:
            head, body = rows[0], rows[2:]
            out.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>" + "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body) + "</table>")
            rows.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        else:
            flush()
            if line.strip():
                out.append(f"<p>{html.escape(line.strip('_'))}</p>")
    flush()
    return "\n".join(out)
