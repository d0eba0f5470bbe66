"""Outer cross-validation of encoding models: fit on some stimuli, score on held-out ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .. import provenance as prov
from ..errors import InvalidDataError
from ..responses import align, validate
from ._metrics import pearson_r
from ._ridge import RidgeCV, check_alphas, make_inner_splits

__all__ = ["EncodingResult", "cross_validate", "kfold_splits", "group_kfold_splits",
           "target_validity", "as_matrix"]


@dataclass
class EncodingResult:
    """Out-of-sample encoding scores per target.

    Attributes
    ----------
    scores : (n_folds, n_targets) Pearson r between held-out responses and predictions, per
        outer fold; NaN for invalid targets (and where a fold's held-out target is constant).
    mean_scores : (n_targets,) mean of ``scores`` over folds (NaN folds ignored); NaN if invalid.
    predictions : (n_stimuli, n_targets) out-of-fold predictions (NaN for invalid targets).
    best_alphas : (n_folds, n_targets) alpha chosen by the inner CV of each outer fold.
    valid : (n_targets,) False for targets with NaN/inf responses or constant over stimuli.
    invalid_reason : (n_targets,) "" (valid), "nan" or "constant".
    fold : (n_stimuli,) index of the outer fold in which each stimulus was held out.
    alphas : (n_alphas,) candidate alphas.
    target_ids : n_targets ids (unit ids of a DataArray Y, else "t0", "t1", ...).
    stimulus_ids : n_stimuli ids (of Y if a DataArray, else "s0", ...).
    provenance : provenance record (dict).
    """

    scores: np.ndarray
    mean_scores: np.ndarray
    predictions: np.ndarray
    best_alphas: np.ndarray
    valid: np.ndarray
    invalid_reason: np.ndarray
    fold: np.ndarray
    alphas: np.ndarray
    target_ids: list[str]
    stimulus_ids: list[str]
    provenance: dict[str, Any]
    unit_coords: dict[str, np.ndarray] = field(default_factory=dict)
    metric: str = "pearson_r"

    @property
    def n_folds(self) -> int:
        return int(self.scores.shape[0])

    def median(self) -> float:
        """Median over valid targets of ``mean_scores``."""
        v = self.mean_scores[self.valid]
        return float(np.nanmedian(v)) if v.size else float("nan")

    def to_xarray(self) -> xr.DataArray:
        """``mean_scores`` as a DataArray with dims ("unit",), the unit ids and metadata of Y,
        ``valid``/``invalid_reason``/``best_alpha`` (median over folds) coordinates, and the
        provenance and metric convention in ``attrs``."""
        coords: dict[str, Any] = {"unit": np.asarray(self.target_ids, dtype=object)}
        for k, v in self.unit_coords.items():
            coords[k] = ("unit", np.asarray(v))
        coords["valid"] = ("unit", self.valid)
        coords["invalid_reason"] = ("unit", self.invalid_reason.astype(object))
        ba = np.full(len(self.valid), np.nan)
        if self.valid.any() and self.n_folds:
            ba[self.valid] = np.median(self.best_alphas[:, self.valid], axis=0)
        coords["best_alpha"] = ("unit", ba)
        return xr.DataArray(
            self.mean_scores, dims=("unit",), coords=coords, name=self.metric,
            attrs={"metric": self.metric,
                   "convention": "Pearson r between held-out responses and out-of-fold predictions, "
                                 "computed per outer fold and averaged over folds (not squared)",
                   "n_folds": self.n_folds,
                   "provenance": prov.dumps(self.provenance)})

    def to_dataset(self) -> xr.Dataset:
        """Everything per unit and fold: ``score`` (unit), ``fold_score`` (fold, unit),
        ``best_alpha`` (fold, unit), ``prediction`` (stimulus, unit)."""
        da = self.to_xarray()
        ds = da.to_dataset(name="score").drop_vars("best_alpha")
        ds["fold_score"] = (("fold", "unit"), self.scores)
        ds["best_alpha"] = (("fold", "unit"), self.best_alphas)
        ds["prediction"] = (("stimulus", "unit"), self.predictions)
        ds = ds.assign_coords(stimulus=np.asarray(self.stimulus_ids, dtype=object),
                              stimulus_fold=("stimulus", self.fold))
        ds.attrs = dict(da.attrs)
        return ds

    def __repr__(self) -> str:
        nv = int(self.valid.sum())
        return (f"EncodingResult({self.n_folds} folds, {len(self.valid)} targets ({nv} valid), "
                f"median {self.metric} = {self.median():.4f})")


def kfold_splits(n: int, n_splits: int, *, seed: int | None = 0,
                 shuffle: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold over ``n`` samples, shuffled with ``seed``; fold sizes as scikit-learn KFold."""
    if n_splits < 2:
        raise InvalidDataError(f"n_splits={n_splits}: need at least 2 folds")
    if n < n_splits:
        raise InvalidDataError(f"{n} stimuli are fewer than n_splits={n_splits}; "
                               "use fewer folds or more stimuli")
    idx = np.arange(n)
    if shuffle:
        idx = np.random.default_rng(seed).permutation(n)
    sizes = np.full(n_splits, n // n_splits)
    sizes[: n % n_splits] += 1
    edges = np.concatenate([[0], np.cumsum(sizes)])
    out = []
    for i in range(n_splits):
        te = np.sort(idx[edges[i]: edges[i + 1]])
        tr = np.sort(np.concatenate([idx[: edges[i]], idx[edges[i + 1]:]]))
        out.append((tr, te))
    return out


def group_kfold_splits(groups: Sequence[Any], n_splits: int, *,
                       seed: int | None = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold in which all samples of a group fall in the same fold.

    Groups are shuffled with ``seed`` and assigned greedily (largest first) to the fold with the
    fewest samples, so fold sizes are balanced.
    """
    g = np.asarray(groups)
    uniq, inv, counts = np.unique(g, return_inverse=True, return_counts=True)
    if len(uniq) < n_splits:
        raise InvalidDataError(f"{len(uniq)} groups are fewer than n_splits={n_splits}; "
                               "use fewer folds or more groups")
    order = np.random.default_rng(seed).permutation(len(uniq))
    order = order[np.argsort(-counts[order], kind="stable")]
    load = np.zeros(n_splits, dtype=np.int64)
    fold_of_group = np.empty(len(uniq), dtype=np.int64)
    for gi in order:
        f = int(np.argmin(load))
        fold_of_group[gi] = f
        load[f] += counts[gi]
    fold = fold_of_group[inv]
    idx = np.arange(len(g))
    return [(idx[fold != f], idx[fold == f]) for f in range(n_splits)]


def target_validity(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid mask and reason per target (column) of Y (n_samples, n_targets).

    Invalid: any NaN/inf ("nan"), or constant over samples within rounding ("constant").
    """
    Y = np.asarray(Y)
    finite = np.isfinite(Y).all(axis=0)
    Yf = np.where(np.isfinite(Y), Y, 0.0).astype(np.float64, copy=False)
    rng_ = Yf.max(axis=0) - Yf.min(axis=0)
    scale = np.abs(Yf).max(axis=0)
    const = rng_ <= 8 * np.finfo(Y.dtype if Y.dtype.kind == "f" else np.float64).eps * scale
    reason = np.where(~finite, "nan", np.where(const, "constant", ""))
    return reason == "", reason.astype("<U8")


def as_matrix(A: Any, name: str) -> tuple[np.ndarray, list[str] | None, xr.DataArray | None]:
    """(n_stimuli, n_columns) array, stimulus ids (if labelled), and the DataArray (if any)."""
    if isinstance(A, xr.DataArray):
        validate(A)
        extra = [d for d in A.dims[2:]]
        if "repeat" in extra:
            raise InvalidDataError(
                f"{name} has a 'repeat' dimension; average repeats first (e.g. {name}.mean('repeat')) "
                "and use brainalign.encoding.noise_ceiling on the repeats for the ceiling")
        if extra:
            raise InvalidDataError(
                f"{name} has extra dimensions {extra}; encoding needs (stimulus, unit). Select or "
                f"stack them first (e.g. {name}.stack(feature=('unit', 'time')) after renaming)")
        return np.asarray(A.values), [str(s) for s in A["stimulus"].values], A
    arr = np.asarray(A)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InvalidDataError(f"{name} must be 2-D (n_stimuli, n_columns); got shape {arr.shape}")
    if arr.dtype.kind not in "fiub":
        raise InvalidDataError(f"{name} must be numeric; got dtype {arr.dtype}")
    return arr, None, None


def _nanmean0(a: np.ndarray) -> np.ndarray:
    """Mean over axis 0 ignoring NaN; NaN (without a warning) where all are NaN."""
    ok = ~np.isnan(a)
    cnt = ok.sum(axis=0)
    tot = np.where(ok, a, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def _standardize(Xtr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = Xtr.mean(axis=0)
    s = Xtr.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    return (Xtr - m) / s, (Xte - m) / s


def cross_validate(X: Any, Y: Any, *, alphas: Any = None, n_splits: int = 5, groups: Any = None,
                   seed: int | None = 0, cv: Any = None, inner_cv: Any = 5, scoring: str = "r2",
                   standardize: bool = True, backend: Any = "numpy", dtype: str = "float32",
                   memory_budget: str | int = "512MB") -> EncodingResult:
    """Out-of-sample encoding: ridge from features X to every target of Y, scored by Pearson r.

    Parameters
    ----------
    X : (n_stimuli, n_features) array or responses DataArray (dims stimulus, unit).
    Y : (n_stimuli, n_targets) array or responses DataArray. DataArrays are aligned on stimulus
        ids (``brainalign.responses.align``; Y's order is kept); different ids raise
        :class:`~brainalign.errors.StimulusMismatchError`.
    alphas : candidate penalties (default :data:`~brainalign.encoding.DEFAULT_ALPHAS`).
    n_splits : number of outer folds (K-fold over stimuli, shuffled with ``seed``).
    groups : (n_stimuli,) labels; stimuli of a group are held out together (outer and inner).
    seed : seed of the outer shuffle.
    cv : explicit outer splits instead (a splitter with ``split`` such as
        :class:`~brainalign.encoding.BlockedKFold`, or (train, test) pairs).
    inner_cv : the ``cv`` of the :class:`RidgeCV` fitted on each training fold (default 5
        contiguous folds; grouped when ``groups`` is given).
    scoring : inner-CV score used to choose alpha ("r2", "neg_mse", "pearson").
    standardize : z-score features with the training fold's mean and standard deviation.
    backend, dtype, memory_budget : passed to :class:`RidgeCV`.

    Returns
    -------
    EncodingResult with ``scores`` (n_folds, n_targets) Pearson r per held-out fold.
    """
    Yda = Y if isinstance(Y, xr.DataArray) else None
    Xda = X if isinstance(X, xr.DataArray) else None
    if Yda is not None and Xda is not None:
        Yda, Xda = align(Yda, Xda)
        X, Y = Xda, Yda
    # one labelled and one plain array: the rows must match in order (checked below)
    Xm, xids, _ = as_matrix(X, "X")
    Ym, yids, _ = as_matrix(Y, "Y")
    if Xm.shape[0] != Ym.shape[0]:
        raise InvalidDataError(f"X has {Xm.shape[0]} rows (stimuli) but Y has {Ym.shape[0]}; "
                               "they must describe the same stimuli in the same order")
    if not np.isfinite(Xm).all():
        bad = np.flatnonzero(~np.isfinite(Xm).all(axis=0))
        raise InvalidDataError(f"X contains NaN or inf in {len(bad)} features (first: {bad[:5].tolist()}); "
                               "drop or impute them first")
    n = Xm.shape[0]
    stim_ids = yids or xids or [f"s{i}" for i in range(n)]
    alphas = check_alphas(alphas)
    valid, reason = target_validity(Ym)
    t = Ym.shape[1]
    if cv is not None:
        splits = make_inner_splits(cv, n, Xm, None, groups)
    elif groups is not None:
        g = np.asarray(groups)
        if len(g) != n:
            raise InvalidDataError(f"groups has {len(g)} labels for {n} stimuli")
        splits = group_kfold_splits(g, n_splits, seed=seed)
    else:
        splits = kfold_splits(n, n_splits, seed=seed)
    cdt = np.float32 if dtype == "float32" and Xm.dtype != np.float64 else np.float64
    Yv = np.ascontiguousarray(Ym[:, valid], dtype=cdt if Ym.dtype.kind == "f" else np.float64)
    nf = len(splits)
    scores = np.full((nf, t), np.nan)
    best = np.full((nf, t), np.nan)
    preds = np.full((n, t), np.nan)
    fold = np.full(n, -1, dtype=np.int64)
    X64 = np.asarray(Xm, dtype=np.float64)
    for i, (tr, te) in enumerate(splits):
        fold[te] = i
        Xtr, Xte = (_standardize(X64[tr], X64[te]) if standardize else (X64[tr], X64[te]))
        if groups is not None and isinstance(inner_cv, (int, np.integer)) and cv is None:
            icv: Any = group_kfold_splits(np.asarray(groups)[tr], int(inner_cv), seed=seed)
        else:
            icv = inner_cv
        if isinstance(icv, (int, np.integer)) and len(tr) < int(icv):
            raise InvalidDataError(f"outer fold {i} has {len(tr)} training stimuli, fewer than "
                                   f"inner_cv={icv} folds; use fewer folds")
        if Yv.shape[1] == 0:
            continue
        model = RidgeCV(alphas=alphas, cv=icv, scoring=scoring, backend=backend, dtype=dtype,
                        memory_budget=memory_budget)
        model.fit(Xtr.astype(cdt), Yv[tr])
        p = model.predict(Xte.astype(cdt))
        preds[np.ix_(te, np.flatnonzero(valid))] = p
        scores[i, valid] = pearson_r(Yv[te], p)
        best[i, valid] = model.best_alphas_
    # stimuli never held out by custom splits keep fold -1 and NaN predictions
    mean = _nanmean0(scores)
    mean[~valid] = np.nan
    parents = []
    for da in (X if isinstance(X, xr.DataArray) else None, Y if isinstance(Y, xr.DataArray) else None):
        if da is not None and da.attrs.get("provenance"):
            parents.append(json.loads(da.attrs["provenance"]))
    record = prov.make_provenance(
        "encoding.cross_validate",
        params={"estimator": "brainalign.encoding.RidgeCV", "n_splits": nf,
                "grouped": groups is not None, "custom_cv": cv is not None,
                "inner_cv": repr(inner_cv), "scoring": scoring, "standardize": standardize,
                "alphas": alphas, "dtype": dtype, "backend": str(backend),
                "metric": "pearson_r per outer fold, mean over folds",
                "n_invalid_targets": int((~valid).sum())},
        inputs={"X": prov.hash_array(Xm), "Y": prov.hash_array(Ym),
                "stimulus_ids": prov.hash_strings(stim_ids)},
        seed=seed, parents=parents or None)
    unit_coords: dict[str, np.ndarray] = {}
    if isinstance(Y, xr.DataArray):
        target_ids = [str(u) for u in Y["unit"].values]
        for k, c in Y.coords.items():
            if k != "unit" and c.dims == ("unit",):
                unit_coords[str(k)] = np.asarray(c.values)
    else:
        target_ids = [f"t{j}" for j in range(t)]
    return EncodingResult(scores=scores, mean_scores=mean, predictions=preds, best_alphas=best,
                          valid=valid, invalid_reason=reason, fold=fold, alphas=alphas,
                          target_ids=target_ids, stimulus_ids=list(stim_ids), provenance=record,
                          unit_coords=unit_coords)
