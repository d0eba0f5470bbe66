"""HTML reports: layer profiles, best layers, ceilings and provenance of benchmark results.

The report is one self-contained HTML file (plots embedded as PNG) written where the user asks.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

from ..benchmarks.results import ScoreResult

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}
h1{font-size:1.6em} h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0;font-size:.9em} td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#fff4c2} .meta{color:#555;font-size:.9em} details{margin:.5em 0}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em}
"""


def _png(fig) -> str:  # noqa: ANN001 - matplotlib figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def layer_profile_figure(results: Sequence[ScoreResult]):  # noqa: ANN201 - matplotlib Figure
    """One line per (model, target) over layers; bootstrap intervals and noise ceilings as bands."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8))
    for r in results:
        names = list(r.layers)
        x = range(len(names))
        ci = r.details.get("ci95_bootstrap_stimuli", {})
        for t in r.target_names:
            (line,) = ax.plot(x, [r.targets[n][t] for n in names], marker="o", ms=3,
                              label=f"{r.model}: {t}")
            if all(n in ci and t in ci[n] for n in names):
                ax.fill_between(list(x), [ci[n][t][0] for n in names], [ci[n][t][1] for n in names],
                                color=line.get_color(), alpha=0.12, lw=0)
        ax.plot(x, [r.layers[n] for n in names], marker="s", ms=4, lw=2,
                label=f"{r.model}: score" if r.targets else r.model)
        ax.set_xticks(list(x), names, rotation=60, ha="right", fontsize=8)
        for tname, c in r.ceiling.items():
            if isinstance(c, dict) and "lower" in c:
                ax.axhspan(c["lower"], c["upper"], color="grey", alpha=0.2, label=f"{tname} noise ceiling")
    ax.set_ylabel(results[0].details.get("score_label", "score") if results else "score", fontsize=9)
    ax.set_xlabel("layer")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(results[0].benchmark if results else "")
    fig.tight_layout()
    return fig


def write_report(results: Sequence[ScoreResult], out: str | os.PathLike,
                 title: str = "brainalign report") -> Path:
    """Write a self-contained HTML report of ``results`` to ``out`` (a file or a directory).

    Returns the path of the HTML file.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    path = out if out.suffix == ".html" else out / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    by_bench: dict[str, list[ScoreResult]] = {}
    for r in results:
        by_bench.setdefault(r.benchmark, []).append(r)

    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    parts.append("<h2>Summary</h2><table><tr><th>model</th><th>benchmark</th><th>version</th>"
                 "<th>best layer</th><th>score</th><th>metric</th></tr>")
    for r in sorted(results, key=lambda r: (r.benchmark, -r.score if r.score == r.score else 0)):
        parts.append(f"<tr><td>{html.escape(r.model)}</td><td>{html.escape(r.benchmark)}</td>"
                     f"<td class=num>{r.benchmark_version}</td><td>{html.escape(r.best_layer)}</td>"
                     f"<td class=num>{r.score:.3f}</td><td class=meta>{html.escape(r.metric)}</td></tr>")
    parts.append("</table>")
    for bench, rs in by_bench.items():
        fig = layer_profile_figure(rs)
        img = _png(fig)
        plt.close(fig)
        parts.append(f"<h2>{html.escape(bench)}</h2>")
        parts.append(f"<img alt='layer profile of {html.escape(bench)}' src='data:image/png;base64,{img}'>")
        for r in rs:
            tnames = r.target_names
            parts.append(f"<h3>{html.escape(r.model)}</h3><p class=meta>{html.escape(r.metric)}</p>")
            if r.ceiling:
                parts.append("<p class=meta>Noise ceiling: " + html.escape(json.dumps(r.ceiling)) + "</p>")
            head = "".join(f"<th>{html.escape(t)}</th>" for t in tnames)
            parts.append(f"<table><tr><th>layer</th><th>score</th>{head}</tr>")
            for name, s in r.layers.items():
                cls = " class=best" if name == r.best_layer else ""
                cells = "".join(f"<td class=num>{r.targets[name][t]:.3f}</td>" for t in tnames)
                parts.append(f"<tr{cls}><td>{html.escape(name)}</td><td class=num>{s:.3f}</td>{cells}</tr>")
            parts.append("</table>")
            parts.append("<details><summary>details and provenance</summary><pre>"
                         + html.escape(json.dumps({"details": r.details, "provenance": r.provenance,
                                                   "elapsed_s": r.elapsed_s}, indent=1, default=str))
                         + "</pre></details>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
