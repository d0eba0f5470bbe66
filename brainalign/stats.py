"""Statistics shared by the analyses (one implementation each, used by similarity and units)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidDataError


def fdr_qvalues(p: Any, *, method: str = "bh", axis: int | None = None) -> np.ndarray:
    """False discovery rate adjusted p-values (q-values), NaN-aware.

    ``method="bh"``: Benjamini & Hochberg (1995); ``"by"``: Benjamini & Yekutieli (2001). Same
    values as :func:`scipy.stats.false_discovery_control` on the finite entries (checked in the
    tests); NaN p-values stay NaN and do not count as tests.

    Parameters
    ----------
    p : array of p-values in [0, 1], any shape.
    method : "bh" or "by".
    axis : adjust each 1-D slice along ``axis`` separately; ``None`` adjusts all entries together.

    Returns
    -------
    q : array of the same shape as ``p``.
    """
    if method not in ("bh", "by"):
        raise InvalidDataError(f"fdr method must be 'bh' or 'by', got {method!r}")
    arr = np.asarray(p, dtype=np.float64)
    ok_all = np.isfinite(arr)
    if np.any((arr[ok_all] < 0) | (arr[ok_all] > 1)):
        raise InvalidDataError("p-values must lie in [0, 1]")
    if axis is None:
        return _fdr_1d(arr.ravel(), method).reshape(arr.shape)
    moved = np.moveaxis(arr, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    out = np.stack([_fdr_1d(r, method) for r in rows]) if rows.size else rows.copy()
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


def _fdr_1d(v: np.ndarray, method: str) -> np.ndarray:
    q = np.full_like(v, np.nan)
    ok = np.isfinite(v)
    m = int(ok.sum())
    if m == 0:
        return q
    x = v[ok]
    order = np.argsort(x)
    scale = m / np.arange(1, m + 1)
    if method == "by":
        scale = scale * np.sum(1.0 / np.arange(1, m + 1))
    adj = np.minimum.accumulate((x[order] * scale)[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    q[ok] = out
    return q
