"""Stimulus properties to label stimuli by: image luminance and contrast, quantile bins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data.stimuli import StimulusSet
from ..errors import InvalidDataError

__all__ = ["PROPERTIES", "image_properties", "quantile_labels"]

#: Columns of :func:`image_properties`.
PROPERTIES = ("luminance", "contrast", "saturation", "edge_density")

# Rec. 709 / sRGB luma weights, applied to gamma-encoded values scaled to [0, 1].
_LUMA = np.array([0.2126, 0.7152, 0.0722])


def image_properties(stimuli: StimulusSet) -> pd.DataFrame:
    """Low-level properties of every image of a stimulus set.

    Conventions: pixel values are scaled to [0, 1]; ``L = 0.2126 R + 0.7152 G + 0.0722 B`` on the
    gamma-encoded values (Rec. 709 luma).

    Returns
    -------
    DataFrame indexed by stimulus id with columns ``luminance`` (mean of ``L``), ``contrast`` (RMS
    contrast: standard deviation of ``L``), ``saturation`` (mean of ``max(RGB) - min(RGB)``) and
    ``edge_density`` (mean absolute finite-difference gradient of ``L``).
    """
    if stimuli.kind != "image":
        raise InvalidDataError(f"image_properties needs image stimuli; {stimuli.name!r} holds {stimuli.kind}")
    rows: list[dict[str, float]] = []
    for img in stimuli:
        a = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
        lum = a @ _LUMA
        gy, gx = np.abs(np.diff(lum, axis=0)), np.abs(np.diff(lum, axis=1))
        r, g, b = a[..., 0], a[..., 1], a[..., 2]
        sat = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
        rows.append({"luminance": float(lum.mean()), "contrast": float(lum.std()),
                     "saturation": float(sat.mean()),
                     "edge_density": float((gy.mean() + gx.mean()) / 2)})
    return pd.DataFrame(rows, index=pd.Index(stimuli.ids, name="stimulus"))


def quantile_labels(values: Sequence[float] | np.ndarray | pd.Series, n_bins: int = 2, *,
                    names: Sequence[str] | None = None, drop_middle: bool = False) -> Any:
    """Bin a continuous property into equal-count classes (for :func:`selectivity`).

    Parameters
    ----------
    values : one value per stimulus (a Series keeps its index).
    n_bins : number of quantile bins.
    names : class names, lowest first; default ``"q1".."qN"`` (``"low"``, ``"high"`` for 2,
        ``"low"``, ``"mid"``, ``"high"`` for 3).
    drop_middle : with an odd or larger ``n_bins``, keep only the lowest and highest bins (the
        others become ``None``, i.e. left out of the analysis).

    Returns
    -------
    Same type as ``values`` (Series or object array) of class names, ``None`` for NaN inputs.
    """
    if n_bins < 2:
        raise InvalidDataError(f"n_bins must be at least 2, got {n_bins}")
    v = np.asarray(values, dtype=np.float64)
    if names is None:
        names = {2: ["low", "high"], 3: ["low", "mid", "high"]}.get(n_bins,
                                                                    [f"q{i + 1}" for i in range(n_bins)])
    names = list(names)
    if len(names) != n_bins:
        raise InvalidDataError(f"{len(names)} names for {n_bins} bins")
    ok = np.isfinite(v)
    if ok.sum() < n_bins:
        raise InvalidDataError(f"{int(ok.sum())} finite values cannot fill {n_bins} bins")
    ranks = np.full(v.shape, -1)
    order = np.argsort(v[ok], kind="stable")
    r = np.empty(len(order), dtype=int)
    r[order] = np.arange(len(order))
    ranks[ok] = (r * n_bins) // len(order)
    out = np.asarray([names[k] if k >= 0 else None for k in ranks], dtype=object)
    if drop_middle:
        out[(ranks > 0) & (ranks < n_bins - 1)] = None
    if isinstance(values, pd.Series):
        return pd.Series(out, index=values.index, name=values.name)
    return out
