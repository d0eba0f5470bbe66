"""Per-target scores, vectorised over targets (no Python loop over voxels or neurons).

Conventions (also in ``docs/encoding.md``):

- :func:`pearson_r` is the sample Pearson correlation of each column of ``y_true`` with the same
  column of ``y_pred``; NaN where either column is constant (correlation undefined).
- :func:`r2_score` is the coefficient of determination ``1 - SS_res / SS_tot`` with ``SS_tot``
  around the mean of ``y_true`` (scikit-learn's ``r2_score(multioutput="raw_values")``); NaN where
  ``y_true`` is constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["pearson_r", "r2_score"]


def _as_float(a: Any) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    return a


def pearson_r(y_true: Any, y_pred: Any, axis: int = 0) -> np.ndarray:
    """Pearson correlation between ``y_true`` and ``y_pred`` along ``axis``, for every target.

    Parameters
    ----------
    y_true, y_pred : arrays of the same shape, e.g. (n_samples, n_targets).
    axis : the sample axis (default 0).

    Returns
    -------
    r : array with ``axis`` removed, e.g. shape (n_targets,); float64. NaN where either input is
        constant along ``axis`` or contains NaN.

    Notes
    -----
    Computed in float64 from centred inputs: ``sum(a b) / sqrt(sum(a^2) sum(b^2))``, identical to
    :func:`scipy.stats.pearsonr` per column.
    """
    a = np.asarray(y_true, dtype=np.float64)
    b = np.asarray(y_pred, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"y_true has shape {a.shape} but y_pred has shape {b.shape}")
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    num = (a * b).sum(axis=axis)
    ssa = (a * a).sum(axis=axis)
    ssb = (b * b).sum(axis=axis)
    den = np.sqrt(ssa * ssb)
    # constant within rounding: relative to the squared scale of the data
    n = a.shape[axis]
    tiny_a = np.finfo(np.float64).eps * n * np.abs(np.asarray(y_true, dtype=np.float64)).max(axis=axis) ** 2
    tiny_b = np.finfo(np.float64).eps * n * np.abs(np.asarray(y_pred, dtype=np.float64)).max(axis=axis) ** 2
    bad = (ssa <= tiny_a) | (ssb <= tiny_b) | ~np.isfinite(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    r = np.clip(r, -1.0, 1.0)
    r = np.where(bad, np.nan, r)
    return r[()] if np.ndim(r) == 0 else r


def r2_score(y_true: Any, y_pred: Any, axis: int = 0) -> np.ndarray:
    """Coefficient of determination per target: ``1 - SS_res / SS_tot``.

    Parameters
    ----------
    y_true, y_pred : arrays of the same shape, e.g. (n_samples, n_targets).
    axis : the sample axis.

    Returns
    -------
    r2 : array with ``axis`` removed; float64. Can be negative (worse than predicting the mean of
        ``y_true``). NaN where ``y_true`` is constant along ``axis``.
    """
    a = np.asarray(y_true, dtype=np.float64)
    b = np.asarray(y_pred, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"y_true has shape {a.shape} but y_pred has shape {b.shape}")
    ss_res = ((a - b) ** 2).sum(axis=axis)
    ss_tot = ((a - a.mean(axis=axis, keepdims=True)) ** 2).sum(axis=axis)
    n = a.shape[axis]
    tiny = np.finfo(np.float64).eps * n * np.abs(a).max(axis=axis) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    r2 = np.where(ss_tot <= tiny, np.nan, r2)
    return r2[()] if np.ndim(r2) == 0 else r2
