"""Significance and uncertainty of per-target scores: permutation tests, bootstrap CIs,
variance partitioning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from ._metrics import pearson_r
from ._timeseries import block_permutation

__all__ = ["permutation_test", "bootstrap_ci", "PermutationResult", "variance_partitioning",
           "partition_from_r2"]


@dataclass
class PermutationResult:
    """Observed Pearson r per target, its null distribution and one-sided p-values.

    ``p_values = (1 + #{null >= observed}) / (1 + n_permutations)`` (never 0).
    """

    observed: np.ndarray
    null: np.ndarray
    p_values: np.ndarray
    block_size: int | None



def _pair_2d(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 (n_samples, n_targets); a clear error if their shapes differ."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if y.ndim == 1:
        y, p = y[:, None], p[:, None]
    if y.shape != p.shape:
        raise InvalidDataError(f"y_true {y.shape} and y_pred {p.shape} differ in shape")
    return y, p

def _r_from_centred(yc: np.ndarray, pc: np.ndarray, ny: np.ndarray, npred: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.einsum("ij,ij->j", yc, pc) / (ny * npred)


def permutation_test(y_true: Any, y_pred: Any, *, n_permutations: int = 1000, seed: int | None = 0,
                     block_size: int | None = None) -> PermutationResult:
    """Permutation test of the Pearson r between observations and predictions, per target.

    The rows of ``y_pred`` are permuted (the same permutation for all targets, so the
    dependence between targets is kept). For time series pass ``block_size`` (samples): whole
    contiguous blocks are permuted, keeping the autocorrelation inside blocks.

    Parameters
    ----------
    y_true, y_pred : (n_samples, n_targets), e.g. held-out responses and out-of-fold
        predictions (``EncodingResult.predictions``).
    """
    y, p = _pair_2d(y_true, y_pred)
    rng = np.random.default_rng(seed)
    n = y.shape[0]
    yc = y - y.mean(0)
    pc = p - p.mean(0)
    ny = np.sqrt((yc ** 2).sum(0))
    npd = np.sqrt((pc ** 2).sum(0))
    obs = _r_from_centred(yc, pc, ny, npd)
    null = np.empty((n_permutations, y.shape[1]))
    for i in range(n_permutations):
        perm = block_permutation(n, block_size, rng) if block_size else rng.permutation(n)
        null[i] = _r_from_centred(yc, pc[perm], ny, npd)
    pv = (1 + (null >= obs[None, :]).sum(0)) / (1 + n_permutations)
    pv = np.where(np.isfinite(obs), pv, np.nan)
    return PermutationResult(obs, null, pv, block_size)


def bootstrap_ci(y_true: Any, y_pred: Any, *, n_bootstraps: int = 1000, ci: float = 0.95,
                 seed: int | None = 0, block_size: int | None = None,
                 indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile bootstrap confidence interval of the Pearson r per target.

    Samples (stimuli, or contiguous blocks of ``block_size`` time points: moving-block
    bootstrap) are resampled with replacement, the same resample for all targets.

    Parameters
    ----------
    indices : (n_bootstraps, n_samples) explicit resampling indices (overrides seed/block).

    Returns
    -------
    low, high : (n_targets,) the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` percentiles.
    boot : (n_bootstraps, n_targets) bootstrap distribution.
    """
    y, p = _pair_2d(y_true, y_pred)
    if not 0 < ci < 1:
        raise InvalidDataError(f"ci={ci} must be in (0, 1)")
    n = y.shape[0]
    if indices is None:
        rng = np.random.default_rng(seed)
        if block_size:
            nb = int(np.ceil(n / block_size))
            starts = rng.integers(0, n - block_size + 1, size=(n_bootstraps, nb))
            indices = (starts[:, :, None] + np.arange(block_size)).reshape(n_bootstraps, -1)[:, :n]
        else:
            indices = rng.integers(0, n, size=(n_bootstraps, n))
    indices = np.asarray(indices)
    boot = np.empty((len(indices), y.shape[1]))
    for i, idx in enumerate(indices):
        boot[i] = pearson_r(y[idx], p[idx])
    alpha = (1 - ci) / 2
    with np.errstate(invalid="ignore"):
        low = np.nanquantile(boot, alpha, axis=0) if np.isfinite(boot).any() else np.full(y.shape[1], np.nan)
        high = np.nanquantile(boot, 1 - alpha, axis=0) if np.isfinite(boot).any() else np.full(y.shape[1], np.nan)
    return low, high, boot


def partition_from_r2(r2: Mapping[tuple[str, ...], np.ndarray]) -> dict[str, np.ndarray]:
    """Variance partitions from the R^2 of every non-empty subset of 2 or 3 feature sets.

    Parameters
    ----------
    r2 : maps a sorted tuple of set names (every non-empty subset) to (n_targets,) R^2.

    Returns
    -------
    dict: for two sets A, B: ``"A only"``, ``"B only"``, ``"A & B"`` (shared); for three sets
    the seven regions of the Venn diagram (``"A only"``, ``"A & B only"``, ``"A & B & C"``...),
    by inclusion-exclusion. Shared parts can be negative (suppression); they are not clipped.
    """
    names = sorted({n for k in r2 for n in k})
    if len(names) not in (2, 3):
        raise InvalidDataError(f"variance partitioning needs 2 or 3 feature sets; got {names}")
    full = tuple(names)

    def R(s: tuple[str, ...]) -> np.ndarray:
        key = tuple(sorted(s))
        if key not in r2:
            raise InvalidDataError(f"missing the R^2 of the model with {key}")
        return np.asarray(r2[key], dtype=np.float64)

    out: dict[str, np.ndarray] = {}
    if len(names) == 2:
        a, b = names
        out[f"{a} only"] = R(full) - R((b,))
        out[f"{b} only"] = R(full) - R((a,))
        out[f"{a} & {b}"] = R((a,)) + R((b,)) - R(full)
        return out
    a, b, c = names
    tot = R(full)
    for x in names:
        rest = tuple(n for n in names if n != x)
        out[f"{x} only"] = tot - R(rest)
    for x, y in combinations(names, 2):
        z = next(n for n in names if n not in (x, y))
        # region in x and y but not z: R(x,z) + R(y,z) - R(z) - R(x,y,z)
        out[f"{x} & {y} only"] = R((x, z)) + R((y, z)) - R((z,)) - tot
    out[f"{a} & {b} & {c}"] = (R((a,)) + R((b,)) + R((c,)) - R((a, b)) - R((a, c)) - R((b, c)) + tot)
    return out


def variance_partitioning(feature_sets: Mapping[str, Any], Y: Any, **cv_kwargs: Any) -> dict[str, Any]:
    """Cross-validated variance partitioning between 2 or 3 feature sets.

    Fits :func:`~brainalign.encoding.cross_validate` on every non-empty union of the sets
    (features concatenated), computes the out-of-fold R^2 per target from the pooled
    out-of-fold predictions, and splits it with :func:`partition_from_r2`.

    Returns
    -------
    dict with ``"r2"`` (subset -> (n_targets,) R^2) and ``"partitions"`` (name -> (n_targets,)).
    """
    from ._cv import as_matrix, cross_validate
    from ._metrics import r2_score

    names = sorted(feature_sets)
    if len(names) not in (2, 3):
        raise InvalidDataError(f"variance partitioning needs 2 or 3 feature sets; got {names}")
    mats = {k: as_matrix(v, k)[0] for k, v in feature_sets.items()}
    Ym = as_matrix(Y, "Y")[0]
    r2: dict[tuple[str, ...], np.ndarray] = {}
    for size in range(1, len(names) + 1):
        for subset in combinations(names, size):
            X = np.concatenate([mats[s] for s in subset], axis=1)
            res = cross_validate(X, Ym, **cv_kwargs)
            pred = res.predictions
            ok = np.isfinite(pred).all(axis=0)
            val = np.full(Ym.shape[1], np.nan)
            if ok.any():
                val[ok] = r2_score(Ym[:, ok], pred[:, ok])
            r2[subset] = val
    return {"r2": r2, "partitions": partition_from_r2(r2)}
