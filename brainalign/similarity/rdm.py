"""Representational dissimilarity matrices (RDMs) from labelled responses.

Every measure is computed from one Gram matrix per representation (a BLAS product, optionally on a
torch device), so many RDMs are formed at the cost of many matrix products, not of pairwise loops.

Conventions (all checked against :func:`scipy.spatial.distance.pdist` or rsatoolbox in the tests):

========================  =========================================================================
``"correlation"``         ``1 - r`` (Pearson r between the two stimuli's unit patterns), = pdist
``"cosine"``              ``1 - cos`` of the two patterns, = pdist ``"cosine"``
``"euclidean"``           ``||x_i - x_j||``, = pdist ``"euclidean"``
``"sqeuclidean"``         ``||x_i - x_j||^2``, = pdist ``"sqeuclidean"``
``"mahalanobis"``         ``sqrt((x_i - x_j) P (x_i - x_j)^T)`` with ``P`` the noise precision,
                          = pdist ``"mahalanobis"`` with ``VI=P``
``"crossnobis"``          cross-validated squared Mahalanobis over folds (repeats or runs):
                          mean over fold pairs ``k != l`` of ``(x_i^k - x_j^k) P (x_i^l - x_j^l)^T``
                          divided by the number of units (rsatoolbox ``calc_rdm_crossnobis``);
                          unbiased, can be negative
``"poisson"``             symmetrised KL divergence of Poisson rates,
                          ``sum_u (l_iu - l_ju)(log l_iu - log l_ju) / n_units`` after shrinking
                          rates towards ``prior_lambda`` (rsatoolbox ``calc_rdm_poisson``)
========================  =========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import make_provenance
from ..registry import Registry
from ..responses import check_same_stimuli, make_rdms, validate
from ._util import as_named_list, input_hash, matmul_t

RDM_METRICS: Registry[Callable[..., np.ndarray]] = Registry("rdm metric")


def _sq_from_gram(g: np.ndarray) -> np.ndarray:
    d = np.diag(g)
    sq = d[:, None] + d[None, :] - 2.0 * g
    np.maximum(sq, 0.0, out=sq)
    np.fill_diagonal(sq, 0.0)
    return sq


def _const_rows(x: np.ndarray, ids: list[str], what: str) -> None:
    bad = np.flatnonzero(np.all(x == x[:, :1], axis=1)) if x.shape[1] else np.arange(len(x))
    if len(bad):
        raise InvalidDataError(
            f"{what} distance is undefined for stimuli whose pattern is constant (zero variance "
            f"or zero norm): {[ids[i] for i in bad[:8]]}{' ...' if len(bad) > 8 else ''}; drop them "
            "or use metric='euclidean'")


def _one_minus_normalised(g: np.ndarray, x: np.ndarray, ids: list[str], what: str) -> np.ndarray:
    """``1 - g_ij / sqrt(g_ii g_jj)`` in place (the Gram's diagonal gives the norms: no pass over
    the responses for them)."""
    d = np.diag(g).copy()
    if np.any(d == 0):
        if what == "cosine":
            bad = np.flatnonzero(d == 0)
            raise InvalidDataError(
                f"cosine distance is undefined for all-zero patterns: {[ids[i] for i in bad[:8]]}; "
                "drop them or use metric='euclidean'")
        _const_rows(x, ids, what)
    with np.errstate(invalid="ignore"):
        s = 1.0 / np.sqrt(d)
    g *= s[:, None]
    g *= s[None, :]
    np.subtract(1.0, g, out=g)
    np.fill_diagonal(g, 0.0)
    return g


@RDM_METRICS.register("correlation", formula="1 - pearson r", reference="scipy pdist 'correlation'")
def _correlation(x: np.ndarray, *, ids: list[str], device: Any = None, dtype: Any = np.float64,
                 **_: Any) -> np.ndarray:
    # centre straight into the product's dtype (one pass, no float64 copy for float32 products)
    xc = np.empty(x.shape, dtype=np.dtype(dtype))
    np.subtract(x, x.mean(axis=1, keepdims=True), out=xc, casting="same_kind")
    return _one_minus_normalised(matmul_t(xc, device=device, dtype=dtype), x, ids, "correlation")


@RDM_METRICS.register("cosine", formula="1 - cosine similarity", reference="scipy pdist 'cosine'")
def _cosine(x: np.ndarray, *, ids: list[str], device: Any = None, dtype: Any = np.float64,
            **_: Any) -> np.ndarray:
    return _one_minus_normalised(matmul_t(x, device=device, dtype=dtype), x, ids, "cosine")


def _sqeuclid(x: np.ndarray, device: Any, dtype: Any) -> np.ndarray:
    # centring the columns first removes most of the cancellation of |x|^2 + |y|^2 - 2 x.y
    xc = x - x.mean(axis=0, keepdims=True)
    return _sq_from_gram(matmul_t(xc, device=device, dtype=dtype))


@RDM_METRICS.register("sqeuclidean", formula="||x_i - x_j||^2", reference="scipy pdist 'sqeuclidean'")
def _sqeuclidean(x: np.ndarray, *, device: Any = None, dtype: Any = np.float64, **_: Any) -> np.ndarray:
    return _sqeuclid(x, device, dtype)


@RDM_METRICS.register("euclidean", formula="||x_i - x_j||", reference="scipy pdist 'euclidean'")
def _euclidean(x: np.ndarray, *, device: Any = None, dtype: Any = np.float64, **_: Any) -> np.ndarray:
    return np.sqrt(_sqeuclid(x, device, dtype))


def _whitener(precision: np.ndarray | None, p: int, what: str) -> np.ndarray | None:
    """Matrix W with W W^T = precision (Cholesky), so distances become Euclidean in x W."""
    if precision is None:
        return None
    prec = np.asarray(precision, dtype=np.float64)
    if prec.ndim == 1:
        if prec.shape != (p,):
            raise InvalidDataError(f"{what}: noise precision has {prec.shape[0]} entries for {p} units")
        if np.any(prec < 0):
            raise InvalidDataError(f"{what}: a diagonal noise precision must be non-negative")
        return np.diag(np.sqrt(prec))
    if prec.shape != (p, p):
        raise InvalidDataError(
            f"{what}: noise precision has shape {prec.shape}, expected ({p}, {p}) (units x units); "
            "estimate it with brainalign.similarity.noise_precision(residuals)")
    try:
        return np.linalg.cholesky((prec + prec.T) / 2)
    except np.linalg.LinAlgError as exc:
        raise InvalidDataError(
            f"{what}: the noise precision is not positive definite; use shrinkage "
            "(noise_precision(residuals, shrinkage=...))") from exc


@RDM_METRICS.register("mahalanobis", formula="sqrt((x_i - x_j) P (x_i - x_j)^T)",
                      reference="scipy pdist 'mahalanobis' (VI = P)")
def _mahalanobis(x: np.ndarray, *, noise: np.ndarray | None = None, device: Any = None,
                 dtype: Any = np.float64, **_: Any) -> np.ndarray:
    if noise is None:
        raise InvalidDataError(
            "metric='mahalanobis' needs noise=<precision matrix (units x units)>; estimate it from "
            "residuals with brainalign.similarity.noise_precision(residuals)")
    w = _whitener(noise, x.shape[1], "mahalanobis")
    return np.sqrt(_sqeuclid(x @ w, device, dtype))


@RDM_METRICS.register("crossnobis", formula="mean_{k!=l} (x_i^k - x_j^k) P (x_i^l - x_j^l)^T / n_units",
                      reference="rsatoolbox calc_rdm_crossnobis", needs_folds=True)
def _crossnobis(x: np.ndarray, *, noise: np.ndarray | None = None, device: Any = None,
                dtype: Any = np.float64, ids: list[str], **_: Any) -> np.ndarray:
    """x: (n_stim, n_units, n_folds), no NaN."""
    if x.ndim != 3 or x.shape[2] < 2:
        raise InvalidDataError(
            "metric='crossnobis' needs at least two independent folds per stimulus: responses with a "
            "'repeat' dimension (runs or repeats)")
    n, p, k = x.shape
    if np.isnan(x).any():
        bad = np.flatnonzero(np.isnan(x).any(axis=(1, 2)))
        raise InvalidDataError(
            f"crossnobis needs every stimulus in every fold; stimuli {[ids[i] for i in bad[:8]]} have "
            "NaN (missing repeats). Keep the repeats present for all stimuli "
            "(responses.isel(repeat=...)) or drop those stimuli")
    w = _whitener(noise, p, "crossnobis")
    folds = [x[:, :, i] if w is None else x[:, :, i] @ w for i in range(k)]
    s = np.sum(folds, axis=0)
    total = _sq_from_gram(matmul_t(s - s.mean(0), device=device, dtype=dtype))
    within = np.zeros((n, n))
    for f in folds:
        within += _sq_from_gram(matmul_t(f - f.mean(0), device=device, dtype=dtype))
    # sum_{k != l} u_k . u_l = |sum_k u_k|^2 - sum_k |u_k|^2, with u_k = x_i^k - x_j^k
    out = (total - within) / (k * (k - 1)) / p
    np.fill_diagonal(out, 0.0)
    return out


@RDM_METRICS.register("poisson", formula="sum_u (l_iu - l_ju)(log l_iu - log l_ju) / n_units",
                      reference="rsatoolbox calc_rdm_poisson")
def _poisson(x: np.ndarray, *, prior_lambda: float = 1.0, prior_weight: float = 0.1,
             device: Any = None, dtype: Any = np.float64, ids: list[str], **_: Any) -> np.ndarray:
    if np.any(x < 0):
        raise InvalidDataError("metric='poisson' needs non-negative spike counts or rates")
    lam = (x + prior_lambda * prior_weight) / (1.0 + prior_weight)
    if np.any(lam <= 0):
        raise InvalidDataError("metric='poisson' with prior_weight=0 needs strictly positive rates")
    kern = matmul_t(lam, np.log(lam), device=device, dtype=dtype)  # lam_i . log lam_j
    d = np.diag(kern)
    out = (d[:, None] + d[None, :] - kern - kern.T) / x.shape[1]
    np.fill_diagonal(out, 0.0)
    return out


def noise_precision(residuals: np.ndarray | xr.DataArray, *, shrinkage: float | str = "ledoit_wolf",
                    diagonal: bool = False) -> np.ndarray:
    """Noise precision matrix (inverse covariance) of residuals, for Mahalanobis and crossnobis.

    Parameters
    ----------
    residuals : array, shape (n_observations, n_units)
        Measurement noise, e.g. responses minus their stimulus mean, stacked over repeats.
    shrinkage : "ledoit_wolf" (scikit-learn's estimator) or a float in [0, 1] (towards the
        scaled identity).
    diagonal : keep only the variances (univariate noise normalisation).

    Returns
    -------
    array, shape (n_units, n_units)
    """
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim != 2:
        raise InvalidDataError(f"residuals must be (n_observations, n_units); got shape {r.shape}")
    r = r[~np.isnan(r).any(axis=1)]
    if len(r) < 2:
        raise InvalidDataError("need at least two complete residual rows to estimate noise")
    if diagonal:
        var = r.var(axis=0, ddof=1)
        if np.any(var <= 0):
            raise InvalidDataError("some units have zero noise variance; drop them")
        return np.diag(1.0 / var)
    if shrinkage == "ledoit_wolf":
        from sklearn.covariance import ledoit_wolf

        cov, _ = ledoit_wolf(r)
    else:
        lam = float(shrinkage)
        if not 0 <= lam <= 1:
            raise InvalidDataError(f"shrinkage must be in [0, 1] or 'ledoit_wolf'; got {shrinkage}")
        s = np.cov(r, rowvar=False)
        cov = (1 - lam) * s + lam * np.trace(s) / s.shape[0] * np.eye(s.shape[0])
    return np.linalg.inv(cov)


def _zscore_units(x: np.ndarray) -> np.ndarray:
    """z-score along stimuli (axis 0), ddof=0; constant units become 0."""
    mu = np.nanmean(x, axis=0, keepdims=True)
    sd = np.nanstd(x, axis=0, keepdims=True)
    out = x - mu
    np.divide(out, sd, out=out, where=sd > 0)
    out[np.broadcast_to(sd == 0, out.shape)] = 0.0
    return out


def _groups(da: xr.DataArray, by: str) -> list[tuple[str, np.ndarray]]:
    if by not in da.coords or da[by].dims != ("unit",):
        unit_coords = [k for k in da.coords if da[k].dims == ("unit",)]
        raise InvalidDataError(
            f"by={by!r} is not a coordinate of the unit dimension; unit coordinates are "
            f"{unit_coords}")
    vals = np.asarray(da[by].values)
    order: list[Any] = []
    seen = set()
    for v in vals.tolist():
        if v not in seen:
            seen.add(v)
            order.append(v)
    return [(str(v), np.flatnonzero(vals == v)) for v in order]


def _matrix(da: xr.DataArray, metric: str) -> tuple[np.ndarray, bool]:
    """(n_stim, n_unit) or (n_stim, n_unit, n_fold) float64; True if repeats were averaged."""
    if "time" in da.dims:
        raise InvalidDataError(
            "responses have a 'time' dimension; use brainalign.similarity.time_resolved_rdms "
            "(one RDM per time point) or select/average time first (da.mean('time'))")
    needs_folds = RDM_METRICS.meta(metric).get("needs_folds", False)
    if "repeat" in da.dims:
        da = da.transpose("stimulus", "unit", "repeat")
        x = np.asarray(da.values, dtype=np.float64)
        if needs_folds:
            return x, False
        with np.errstate(invalid="ignore"):
            return np.nanmean(x, axis=2), True
    if needs_folds:
        raise InvalidDataError(
            f"metric={metric!r} needs independent folds: give the responses a 'repeat' dimension "
            "(stimulus x unit x repeat, runs or repeats), e.g. make_responses(..., "
            "dims=('stimulus', 'unit', 'repeat'))")
    return np.asarray(da.transpose("stimulus", "unit").values, dtype=np.float64), False


def compute_rdms(
    responses: xr.DataArray | list[xr.DataArray] | dict[str, xr.DataArray],
    metric: str = "correlation",
    *,
    by: str | None = None,
    standardize: bool = False,
    noise: np.ndarray | None = None,
    device: Any = None,
    dtype: Any = np.float64,
    **options: Any,
) -> xr.DataArray:
    """RDMs of one or many representations, as a labelled stack.

    Parameters
    ----------
    responses : responses DataArray (stimulus x unit [x repeat]), or a list / dict of them
        (each one RDM, named by the dict key, else by ``attrs["name"]`` / ``.name``). Arrays are
        put on the stimulus order of the first; different stimulus sets are an error.
    metric : a registered measure, see the module docstring and ``RDM_METRICS.names()``:
        "correlation", "cosine", "euclidean", "sqeuclidean", "mahalanobis", "crossnobis",
        "poisson".
    by : a unit coordinate (e.g. ``"layer"``, ``"region"``): one RDM per distinct value, named by
        the value, in order of first appearance (all layers of a model recording at once).
    standardize : z-score every unit over stimuli first (units that are constant become 0).
        Net2Brain does this before its correlation-distance RDMs.
    noise : noise precision (units x units, or its diagonal) for "mahalanobis" / "crossnobis"
        (see :func:`noise_precision`); crossnobis without it is the cross-validated Euclidean.
    device : None (numpy) or a torch device for the Gram products ("cpu", "cuda", ...).
    dtype : precision of the Gram products (float64 by default; float32 is faster on GPUs).
    **options : metric options, e.g. ``prior_lambda``, ``prior_weight`` for "poisson".

    Returns
    -------
    DataArray, dims ("rdm", "stimulus", "stimulus2"), float64, with coordinates ``n_units`` per
    RDM, the stimulus coordinates of the (first) input, ``attrs["dissimilarity"]`` and
    provenance. With a ``repeat`` dimension, non-cross-validated metrics use the mean over
    repeats (NaN-aware), recorded as ``attrs["repeats"] = "averaged"``.
    """
    fn = RDM_METRICS.get(metric)
    items = as_named_list(responses, "responses")
    first = validate(items[0][1])
    ids = [str(s) for s in first["stimulus"].values]
    reps: list[tuple[str, xr.DataArray]] = []
    for i, (nm, da) in enumerate(items):
        if i:
            validate(da)
        check_same_stimuli(ids, [str(s) for s in da["stimulus"].values],
                           names=(items[0][0], nm), order=False)
        if [str(s) for s in da["stimulus"].values] != ids:
            da = da.sel(stimulus=first["stimulus"].values)
        if by is None:
            reps.append((nm, da))
        else:
            prefix = "" if len(items) == 1 else f"{nm}/"
            reps.extend((prefix + g, da.isel(unit=idx)) for g, idx in _groups(da, by))
    mats, n_units, averaged = [], [], False
    for _nm, da in reps:
        x, avg = _matrix(da, metric)
        averaged |= avg
        if standardize:
            x = _zscore_units(x)
        needs_folds = RDM_METRICS.meta(metric).get("needs_folds", False)
        mat = fn(x, ids=ids, noise=noise, device=device, dtype=dtype, **options)
        # NaN in the responses propagates to the RDM: test the (small) result, not the input
        if not needs_folds and np.isnan(mat).any() and np.isnan(x).any():
            bad = np.flatnonzero(np.isnan(x).any(axis=tuple(range(1, x.ndim))))
            raise InvalidDataError(
                f"responses {_nm!r} contain NaN for stimuli {[ids[i] for i in bad[:8]]}; drop those "
                "stimuli or units, or impute, before computing RDMs")
        mats.append(mat)
        n_units.append(x.shape[1])
    scoords = {k: first[k].values for k in first.coords
               if k != "stimulus" and first[k].dims == ("stimulus",)}
    params = {"metric": metric, "by": by, "standardize": standardize, "device": None if device is None else str(device),
              "dtype": np.dtype(dtype).name, "noise": noise is not None, **options}
    prov = make_provenance("similarity.compute_rdms", params,
                           inputs={nm: input_hash(da) for nm, da in items})
    out = make_rdms(np.stack(mats), ids, [nm for nm, _ in reps], rdm_coords={"n_units": n_units},
                    stimulus_coords=scoords, dissimilarity=RDM_METRICS.meta(metric)["formula"],
                    provenance=prov, check=False)
    out.attrs["metric"] = metric
    if averaged:
        out.attrs["repeats"] = "averaged"
    return out
