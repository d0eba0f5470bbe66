"""Noise ceilings from repeated presentations, and noise-corrected scores.

Conventions (also in ``docs/encoding.md``); ``R`` holds single-trial responses with shape
(n_stimuli, n_units, n_repeats), NaN for missing repeats:

- :func:`split_half_reliability`: repeats are split at random into two halves, each half is
  averaged, the two half-averages are correlated over stimuli (Pearson, per unit) and the
  correlation is stepped up to the full number of repeats with Spearman-Brown
  ``rho = 2 r / (1 + r)``; the result is averaged over ``n_splits`` random splits. ``rho``
  estimates the reliability of the repeat-averaged response (the correlation between two
  independent full averages).
- :func:`ncsnr`: noise-ceiling signal-to-noise ratio (Allen et al. 2022, NSD):
  ``sigma_noise^2`` = mean over stimuli of the across-repeat variance (ddof=1);
  ``sigma_signal^2 = max(0, var_stimuli(mean over repeats) - sigma_noise^2 * mean(1/n_rep))``;
  ``ncsnr = sigma_signal / sigma_noise``; the ceiling on the fraction of variance of the
  ``n``-repeat average that any model can explain is ``ncsnr^2 / (ncsnr^2 + 1/n)``.
- :func:`noise_corrected_r`: ``r / sqrt(ceiling)`` where ``ceiling`` is a reliability (variance
  fraction) of the averaged responses. A correlation with noisy data cannot exceed
  ``sqrt(reliability)``, so 1.0 means "as good as the noise allows". Squared correlations
  divided by the ceiling (``explained_fraction``) are the other published convention; both are
  offered and named.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ._metrics import pearson_r

__all__ = ["split_half_reliability", "ncsnr", "ncsnr_ceiling", "noise_corrected_r",
           "explained_fraction", "repeats_array"]


def repeats_array(R: Any) -> np.ndarray:
    """(n_stimuli, n_units, n_repeats) float64 from an array or a responses DataArray with a
    ``repeat`` dimension."""
    if isinstance(R, xr.DataArray):
        if "repeat" not in R.dims:
            raise InvalidDataError("responses have no 'repeat' dimension; the ceiling needs single "
                                   "trials (e.g. load_dataset('cowley2023', session='210325')"
                                   ".responses['210325_raw'])")
        R = R.transpose("stimulus", "unit", "repeat").values
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 3:
        raise InvalidDataError(f"repeats must have shape (n_stimuli, n_units, n_repeats); got {R.shape}")
    if R.shape[2] < 2:
        raise InvalidDataError("need at least 2 repeats to estimate a noise ceiling")
    return R


def split_half_reliability(R: Any, *, n_splits: int = 100, seed: int | None = 0) -> np.ndarray:
    """Spearman-Brown corrected split-half reliability per unit.

    Parameters
    ----------
    R : (n_stimuli, n_units, n_repeats) single trials (NaN = missing) or a DataArray with a
        ``repeat`` dimension.
    n_splits : random splits of the repeats averaged over.
    seed : seed of the splits.

    Returns
    -------
    rho : (n_units,) reliability of the repeat average (can be negative for pure noise);
        NaN for units without variance.
    """
    R = repeats_array(R)
    n_rep = R.shape[2]
    rng = np.random.default_rng(seed)
    out = np.zeros(R.shape[1])
    cnt = np.zeros(R.shape[1])
    for _ in range(n_splits):
        perm = rng.permutation(n_rep)
        a, b = perm[: n_rep // 2], perm[n_rep // 2:]
        with np.errstate(invalid="ignore"):
            ma = _nanmean_last(R[:, :, a])
            mb = _nanmean_last(R[:, :, b])
        ok = np.isfinite(ma) & np.isfinite(mb)
        ma = np.where(ok, ma, np.nan)
        mb = np.where(ok, mb, np.nan)
        r = _pearson_nan(ma, mb)
        sb = 2 * r / (1 + r)
        good = np.isfinite(sb)
        out[good] += sb[good]
        cnt[good] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, out / np.maximum(cnt, 1), np.nan)


def _nanmean_last(a: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(a)
    c = ok.sum(axis=-1)
    s = np.where(ok, a, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def _pearson_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r per column over the rows where both are finite."""
    ok = np.isfinite(a) & np.isfinite(b)
    out = np.full(a.shape[1], np.nan)
    if ok.all():
        return pearson_r(a, b)
    for j in range(a.shape[1]):  # rare path: stimuli missing in some units
        m = ok[:, j]
        if m.sum() > 2:
            out[j] = pearson_r(a[m, j], b[m, j])
    return out


def ncsnr(R: Any) -> np.ndarray:
    """Noise-ceiling SNR per unit (see module docstring). Returns (n_units,), >= 0."""
    R = repeats_array(R)
    nrep = (~np.isnan(R)).sum(axis=2)  # (n_stim, n_units)
    ok = nrep >= 2
    mean = _nanmean_last(R)
    dev = np.where(np.isnan(R), 0.0, R - mean[:, :, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        var_rep = (dev ** 2).sum(axis=2) / np.maximum(nrep - 1, 1)
        noise_var = np.where(ok, var_rep, 0.0).sum(axis=0) / ok.sum(axis=0)
        has = nrep >= 1
        m = np.where(has, mean, 0.0)
        cnt = has.sum(axis=0)
        mu = m.sum(axis=0) / cnt
        var_mean = (np.where(has, (mean - mu) ** 2, 0.0)).sum(axis=0) / (cnt - 1)
        inv_n = np.where(has, 1.0 / np.maximum(nrep, 1), 0.0).sum(axis=0) / cnt
        signal_var = np.maximum(0.0, var_mean - noise_var * inv_n)
        out = np.sqrt(signal_var) / np.sqrt(noise_var)
    return np.where(noise_var > 0, out, np.nan)


def ncsnr_ceiling(snr: Any, n_repeats: float) -> np.ndarray:
    """Fraction of the variance of the ``n_repeats``-average that is signal:
    ``snr^2 / (snr^2 + 1 / n_repeats)`` (a reliability, comparable to split-half ``rho``)."""
    s2 = np.asarray(snr, dtype=np.float64) ** 2
    return s2 / (s2 + 1.0 / float(n_repeats))


def noise_corrected_r(r: Any, ceiling: Any) -> np.ndarray:
    """``r / sqrt(ceiling)``; NaN where the ceiling is <= 0 or NaN (no reliable signal)."""
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(ceiling, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, r / np.sqrt(np.where(c > 0, c, 1.0)), np.nan)


def explained_fraction(r: Any, ceiling: Any) -> np.ndarray:
    """``r^2 / ceiling`` (squared correlation as a fraction of the explainable variance)."""
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(ceiling, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, r ** 2 / np.where(c > 0, c, 1.0), np.nan)
