"""Plots of unit analyses, drawn on :class:`matplotlib.figure.Figure` objects (no pyplot state)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ._common import LabelsLike, resolve_labels
from .selectivity import selective_units

__all__ = ["plot_selective_units", "plot_statistic_histogram", "plot_top_stimuli", "plot_ablation"]


def plot_selective_units(responses: xr.DataArray, result: xr.Dataset, labels: LabelsLike, label: str, *,
                         n: int = 6, by: str = "t", seed: int = 0) -> Figure:
    """Responses of the ``n`` units most selective for ``label``, one panel per unit.

    Each panel shows the unit's responses to every stimulus, grouped by class (jittered points and
    the class mean), with t, d' and q in the title.
    """
    table = selective_units(result, label, n=n, by=by)
    lab, _ = resolve_labels(responses, labels)
    classes = [str(c) for c in result["label"].values]
    cols = min(3, max(len(table), 1))
    rows = int(np.ceil(max(len(table), 1) / cols))
    fig = Figure(figsize=(3.4 * cols, 2.6 * rows), layout="constrained")
    rng = np.random.default_rng(seed)
    for i, row in enumerate(table.itertuples()):
        ax = fig.add_subplot(rows, cols, i + 1)
        y = np.asarray(responses.sel(unit=row.unit).values, dtype=float)
        for j, c in enumerate(classes):
            v = y[lab == c]
            color = "tab:red" if c == label else "tab:gray"
            ax.scatter(j + rng.uniform(-0.2, 0.2, len(v)), v, s=6, alpha=0.6, color=color)
            ax.hlines(v.mean(), j - 0.3, j + 0.3, color="k")
        ax.set_xticks(range(len(classes)), classes, rotation=30, fontsize=7)
        ax.set_title(f"{row.unit}\nt={row.t:.1f} d'={row.dprime:.2f} q={row.q:.2g}", fontsize=8)
        ax.tick_params(labelsize=7)
    if len(table) == 0:
        fig.add_subplot(1, 1, 1).text(0.5, 0.5, f"no selective units for {label!r}", ha="center")
    fig.suptitle(f"most selective units for {label!r}", fontsize=10)
    return fig


def plot_statistic_histogram(result: xr.Dataset, *, stat: str = "t", q_max: float = 0.05) -> Figure:
    """Histogram of a statistic over units, per class, with the units at ``q <= q_max`` highlighted."""
    classes = [str(c) for c in result["label"].values]
    fig = Figure(figsize=(3.2 * len(classes), 2.6), layout="constrained")
    for i, c in enumerate(classes):
        ax = fig.add_subplot(1, len(classes), i + 1)
        v = np.asarray(result[stat].sel(label=c).values, dtype=float)
        q = np.asarray(result["q"].sel(label=c).values, dtype=float)
        ok = np.isfinite(v)
        bins = np.histogram_bin_edges(v[ok], bins=40) if ok.any() else 10
        ax.hist(v[ok], bins=bins, color="lightgray", label="all")
        sig = ok & (q <= q_max)
        ax.hist(v[sig], bins=bins, color="tab:red", label=f"q<={q_max} ({int(sig.sum())})")
        ax.set_title(f"{c}", fontsize=9)
        ax.set_xlabel(stat)
        ax.legend(fontsize=7)
    return fig


def plot_top_stimuli(stimuli: Any, top: xr.DataArray, *, units: Sequence[str] | None = None,
                     max_units: int = 6, thumb: int = 64) -> Figure:
    """Grid of each unit's (or component's) preferred images: rows = units, columns = ranks.

    Parameters
    ----------
    stimuli : an image :class:`~brainalign.data.StimulusSet`.
    top : output of :func:`top_stimuli` (``unit`` x ``rank``) or ``Decomposition.top_stimuli``.
    """
    dim = top.dims[0]
    all_names = [str(u) for u in top[dim].values]
    names = (all_names if units is None else [str(u) for u in units])[:max_units]
    pos = {s: i for i, s in enumerate(stimuli.ids)}
    k = top.sizes["rank"]
    fig = Figure(figsize=(1.1 * k + 1.2, 1.1 * len(names) + 0.3), layout="constrained")
    for r, u in enumerate(names):
        ids = [str(s) for s in top["stimulus_id"].values[all_names.index(u)]]
        for c, sid in enumerate(ids):
            ax = fig.add_subplot(len(names), k, r * k + c + 1)
            img = stimuli[pos[sid]].convert("RGB").resize((thumb, thumb))
            ax.imshow(np.asarray(img))
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(u, fontsize=6, rotation=0, ha="right", va="center")
    return fig


def plot_ablation(result: Any) -> Figure:
    """Effect of ablating the found units vs random units, per evaluation set, with 95% CIs."""
    summ = result.summary
    sets = list(dict.fromkeys(summ["set"]))
    fig = Figure(figsize=(1.8 + 1.6 * len(sets), 3.0), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    width = 0.38
    for j, (kind, color) in enumerate((("found", "tab:red"), ("random", "tab:gray"))):
        rows = summ[summ["units"] == kind].set_index("set").reindex(sets)
        x = np.arange(len(sets)) + (j - 0.5) * width
        m = rows["effect"].to_numpy(dtype=float)
        err = np.vstack([m - rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float) - m])
        ax.bar(x, m, width, yerr=err, color=color, label=f"{kind} units", capsize=3)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(range(len(sets)), sets)
    ax.set_ylabel(result.settings.get("effect_label", "effect"))
    ax.legend(fontsize=8)
    return fig
