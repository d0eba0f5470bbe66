"""A self-contained HTML report page (plots embedded as PNG) for unit analyses."""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["Report"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;font-size:.8em}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f4f4f4}img{max-width:100%}pre{background:#f8f8f8;padding:.5em;font-size:.75em;overflow:auto}
.note{color:#555;font-size:.9em}"""


@dataclass
class Report:
    """An HTML page built section by section; nothing is written until :meth:`write`.

    >>> rep = Report("V4 selectivity")
    >>> rep.add_text("Selectivity of 89 V4 neurons to luminance.")
    >>> rep.write("report.html")  # doctest: +SKIP
    """

    title: str
    parts: list[str] = field(default_factory=list)

    def add_heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def add_text(self, text: str, *, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def add_table(self, df: pd.DataFrame, *, max_rows: int = 50, float_format: str = "{:.3g}") -> None:
        shown = df.head(max_rows)
        self.parts.append(shown.to_html(index=False, float_format=float_format.format, border=0))
        if len(df) > max_rows:
            self.add_text(f"({len(df) - max_rows} more rows not shown)", note=True)

    def add_figure(self, fig: Figure, *, alt: str = "figure", dpi: int = 90) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        data = base64.b64encode(buf.getvalue()).decode()
        self.parts.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">')

    def add_json(self, obj: Any, *, summary: str = "settings and provenance") -> None:
        text = html.escape(json.dumps(obj, indent=1, default=str))
        self.parts.append(f"<details><summary>{html.escape(summary)}</summary><pre>{text}</pre></details>")

    def add_list(self, items: Sequence[str]) -> None:
        self.parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")

    def html(self) -> str:
        body = "\n".join(self.parts)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>")

    def write(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (creating parent folders) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")
        return path


def units_report(title: str, *, responses: Any = None, labels: Any = None, result: Any = None,
                 stimuli: Any = None, n: int = 6, notes: Sequence[str] = (), ablation: Any = None,
                 found: Any = None, descriptions: Any = None, decomposition: Any = None) -> Report:
    """A report page from any of: a selectivity ``result`` (with its ``responses`` and ``labels``),
    an ``ablation`` result and its ``found`` units, ``descriptions``, a ``decomposition``.

    Image stimuli add grids of each top unit's preferred images.
    """
    from ..provenance import loads
    from . import plots
    from ._common import top_stimuli
    from .selectivity import selective_units

    rep = Report(title)
    for note in notes:
        rep.add_text(note, note=True)
    if result is not None:
        classes = [str(c) for c in result["label"].values]
        counts = dict(zip(classes, result["n_stimuli"].values.tolist(), strict=True))
        prov = loads(result.attrs.get("provenance"))
        params = prov.get("params", {})
        rep.add_heading("Selectivity")
        rep.add_text(f"{result.sizes['unit']} units; classes {counts}; {params.get('t', 'welch')} t, one-vs-rest; "
                     f"{params.get('n_permutations')} label permutations; FDR ({params.get('fdr')}) across "
                     f"units per class; {params.get('n_constant_units', 0)} constant units left out.")
        sig = {c: int((result["q"].sel(label=c) <= 0.05).sum()) for c in classes}
        rep.add_text(f"Units with q <= 0.05 per class: {sig}")
        rep.add_figure(plots.plot_statistic_histogram(result), alt="t histograms")
        for c in classes if len(classes) > 2 else classes[-1:]:
            rep.add_heading(f"Most selective units for {c!r}")
            rep.add_table(selective_units(result, c, n=max(n, 10)))
            if responses is not None and labels is not None:
                rep.add_figure(plots.plot_selective_units(responses, result, labels, c, n=n), alt=f"units {c}")
            if stimuli is not None and getattr(stimuli, "kind", "") == "image" and responses is not None:
                best = selective_units(result, c, n=n)["unit"].tolist()
                if best:
                    top = top_stimuli(responses.sel(unit=best), k=6)
                    rep.add_figure(plots.plot_top_stimuli(stimuli, top), alt=f"top images {c}")
        rep.add_json(prov)
    if ablation is not None:
        s = ablation.settings
        rep.add_heading("Ablation")
        rep.add_text(f"{s['n_units']} units ablated ({s['value']}); compared with {s['n_random']} sets of as many "
                     f"random units per layer. Effect = {s['effect']}; {int(s['level'] * 100)}% bootstrap "
                     "intervals over items (and seeds for random units).")
        rep.add_figure(plots.plot_ablation(ablation), alt="ablation effects")
        rep.add_table(ablation.summary)
        rep.add_heading("Contrasts (selectivity of the effect)")
        rep.add_table(ablation.contrasts)
        rep.add_json({k: v for k, v in s.items() if k != "random_units"})
    if found is not None:
        rep.add_heading(f"Units found ({found.settings.get('method')})")
        rep.add_text(found.settings.get("citation", ""), note=True)
        rep.add_table(found.table, max_rows=30)
    if descriptions is not None:
        rep.add_heading("Descriptions")
        rep.add_table(descriptions.table)
    if decomposition is not None:
        rep.add_heading(f"Decomposition ({decomposition.method})")
        rep.add_text(f"fraction of variance unexplained {decomposition.fvu:.3f}")
        if stimuli is not None and getattr(stimuli, "kind", "") == "image":
            rep.add_figure(plots.plot_top_stimuli(stimuli, decomposition.top_stimuli(6)), alt="parts")
    return rep
