"""scikit-learn compatible ridge estimators with per-target regularisation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InvalidDataError
from ._backend import Backend, get_backend
from ._solvers import (
    SCORINGS,
    choose_form,
    decompose,
    decompose64,
    kfold_alpha_scores,
    loo_alpha_scores,
    parse_bytes,
    refit_coefs,
    select_alphas,
)

__all__ = ["RidgeCV", "DEFAULT_ALPHAS", "check_alphas", "make_inner_splits"]

#: Default candidate penalties: 21 values, half a decade apart, from 1e-2 to 1e8. Suited to
#: standardised features (unit variance), for which the eigenvalues of the Gram matrix scale
#: with n_samples * n_features.
DEFAULT_ALPHAS = np.logspace(-2, 8, 21)


def check_alphas(alphas: Any) -> np.ndarray:
    """Sorted unique positive float64 alphas (k,); clear error otherwise."""
    a = DEFAULT_ALPHAS if alphas is None else np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if a.ndim != 1 or a.size == 0:
        raise InvalidDataError(f"alphas must be a non-empty 1-D sequence; got shape {np.shape(alphas)}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InvalidDataError(f"alphas must be finite and > 0; got {a.tolist()[:8]}")
    return np.unique(a)


def make_inner_splits(cv: Any, n: int, X: Any = None, Y: Any = None,
                      groups: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/validation index pairs from ``cv``: an int (contiguous K-fold, no shuffling), a
    scikit-learn splitter (anything with ``split``), or an iterable of (train, val) pairs."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        k = int(cv)
        if k < 2:
            raise InvalidDataError(f"cv={k}: need at least 2 folds (or cv='loo')")
        if n < k:
            raise InvalidDataError(
                f"{n} samples are fewer than the {k} folds of cv={k}; use fewer folds or more samples")
        edges = np.linspace(0, n, k + 1).round().astype(int)
        # same fold sizes as sklearn.model_selection.KFold (first n % k folds one larger)
        sizes = np.full(k, n // k)
        sizes[: n % k] += 1
        edges = np.concatenate([[0], np.cumsum(sizes)])
        idx = np.arange(n)
        return [(np.concatenate([idx[: edges[i]], idx[edges[i + 1]:]]), idx[edges[i]: edges[i + 1]])
                for i in range(k)]
    if hasattr(cv, "split"):
        splits = list(cv.split(np.zeros((n, 1)) if X is None else X, Y, groups))
    elif isinstance(cv, Iterable) and not isinstance(cv, str):
        splits = list(cv)
    else:
        raise InvalidDataError(f"cv must be an int, 'loo', a splitter with .split(), or (train, val) "
                               f"pairs; got {cv!r}")
    out = []
    for tr, va in splits:
        tr, va = np.asarray(tr), np.asarray(va)
        if tr.dtype == bool:
            tr = np.flatnonzero(tr)
        if va.dtype == bool:
            va = np.flatnonzero(va)
        if len(tr) < 2 or len(va) < 1:
            raise InvalidDataError(f"a CV split has {len(tr)} training and {len(va)} validation samples; "
                                   "every split needs >= 2 training and >= 1 validation samples")
        out.append((tr.astype(np.int64), va.astype(np.int64)))
    if not out:
        raise InvalidDataError("the cross-validation splitter produced no splits")
    return out


class RidgeCV(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Ridge regression with one penalty per target chosen by cross-validation.

    For every candidate alpha and every target, the model is fitted on the training part of each
    inner split and scored on its validation part; each target gets the alpha with the best mean
    validation score (ties go to the larger alpha), and is refitted on all samples with it. Each
    training set is eigendecomposed once in float64 and reused for all alphas and targets.

    Parameters
    ----------
    alphas : sequence of float > 0, default :data:`DEFAULT_ALPHAS` (``np.logspace(-2, 8, 21)``).
    cv : int, "loo", splitter or iterable of (train, val), default 5
        ``int``: contiguous K-fold without shuffling (scikit-learn ``KFold(cv)``); ``"loo"``:
        exact efficient leave-one-out (generalised cross-validation formula, one decomposition
        for all samples; scored by squared error); a scikit-learn splitter (``GroupKFold``,
        :class:`brainalign.encoding.BlockedKFold` for time series, ...) or explicit splits.
    fit_intercept : bool, default True
        Centre features and targets with the training means of every fit.
    scoring : {"r2", "neg_mse", "pearson"}, default "r2"
        Validation score used to pick alpha, averaged over inner splits. ``"r2"``: per-split
        ``1 - SSE/SST`` (SST around the validation mean; 0 for a constant validation target).
    form : {"auto", "primal", "dual"}, default "auto"
        Decompose ``X.T X`` (primal, when n_features <= n_samples) or ``X X.T`` (dual).
    backend : "numpy", "torch", "torch:cuda" or a Backend instance.
    dtype : {"float32", "float64"}, default "float32"
        dtype of the large products (decompositions are always float64).
    memory_budget : str or int, default "512MB"
        Working memory for the target blocks (inputs and outputs not counted).
    tie_tol : float or None
        Mean scores within ``tie_tol`` of the best are ties (resolved toward the larger alpha).
        Default: ``1e-6`` for float32 products, ``1e-12`` for float64 (in units of the score;
        for ``neg_mse`` relative to the target's mean square).

    Attributes
    ----------
    coef_ : (n_targets, n_features) or (n_features,) for 1-D y.
    intercept_ : (n_targets,) or float.
    best_alphas_ : (n_targets,) chosen alpha per target.
    cv_scores_ : (n_targets,) mean validation score at the chosen alpha.
    cv_path_ : (n_alphas, n_targets) mean validation score of every alpha.
    alphas_ : (n_alphas,) the sorted candidate alphas.
    form_ : "primal" or "dual", the form used for the inner splits.
    n_features_in_ : int.
    """

    def __init__(self, alphas: Any = None, cv: Any = 5, *, fit_intercept: bool = True,
                 scoring: str = "r2", form: str = "auto", backend: str | Backend = "numpy",
                 dtype: str = "float32", memory_budget: str | int = "512MB",
                 tie_tol: float | None = None):
        self.alphas = alphas
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.form = form
        self.backend = backend
        self.dtype = dtype
        self.memory_budget = memory_budget
        self.tie_tol = tie_tol

    # ------------------------------------------------------------------ helpers
    def _check_params(self) -> tuple[np.ndarray, Backend, str, int, float]:
        if self.scoring not in SCORINGS:
            raise InvalidDataError(f"scoring must be one of {SCORINGS}; got {self.scoring!r}")
        dtype = str(np.dtype(self.dtype))
        if dtype not in ("float32", "float64"):
            raise InvalidDataError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")
        choose_form(1, 1, self.form)
        tie = self.tie_tol if self.tie_tol is not None else (1e-6 if dtype == "float32" else 1e-12)
        return (check_alphas(self.alphas), get_backend(self.backend), dtype,
                parse_bytes(self.memory_budget), float(tie))

    def fit(self, X: Any, y: Any, groups: Any = None) -> RidgeCV:
        """Fit on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets).

        ``groups`` (n_samples,) is passed to the splitter's ``split`` (e.g. ``GroupKFold``).
        NaN or infinite values raise :class:`~brainalign.errors.InvalidDataError`-compatible
        ``ValueError``; drop such targets first (:func:`cross_validate` flags them for you).
        """
        alphas, be, dtype, budget, tie = self._check_params()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32])
        ravel = y.ndim == 1
        Y = y[:, None] if ravel else y
        n, p = X.shape
        out_dtype = np.float32 if (X.dtype == np.float32 and Y.dtype == np.float32) else np.float64
        X64 = np.asarray(X, dtype=np.float64)
        if self.fit_intercept:
            x_mean = X64.mean(axis=0)
            y_mean = np.asarray(Y, dtype=np.float64).mean(axis=0)
        else:
            x_mean = np.zeros(p)
            y_mean = np.zeros(Y.shape[1])
        if isinstance(self.cv, str):
            if self.cv.lower() not in ("loo", "gcv"):
                raise InvalidDataError(f"cv={self.cv!r}: the only string accepted is 'loo'")
            if n < 3:
                raise InvalidDataError(f"leave-one-out needs >= 3 samples; got {n}")
            if self.scoring == "pearson":
                raise InvalidDataError("cv='loo' scores by squared error (PRESS R^2); use "
                                       "scoring='r2' or 'neg_mse' (same choice of alpha)")
            full_dec = decompose64(X64 - x_mean, choose_form(n, p, self.form), be)
            path, form, proj_y = loo_alpha_scores(
                X64, Y, alphas, fit_intercept=self.fit_intercept, form=self.form, be=be,
                dtype=dtype, budget_bytes=budget, decomposition=full_dec, return_projection=True)
            scale = None  # PRESS R^2: already normalised
            self.n_splits_ = n
        else:
            full_dec = None
            proj_y = None
            splits = make_inner_splits(self.cv, n, X, Y, groups)
            scores, form = kfold_alpha_scores(X64, Y, alphas, splits, fit_intercept=self.fit_intercept,
                                              scoring=self.scoring, form=self.form, be=be, dtype=dtype,
                                              budget_bytes=budget)
            path = scores.mean(axis=0)
            scale = None
            if self.scoring == "neg_mse":
                sq = np.asarray(Y, dtype=np.float64) - y_mean
                scale = (sq * sq).mean(axis=0)
            self.n_splits_ = len(splits)
        if scale is not None:
            tol = tie * np.maximum(scale, np.finfo(np.float64).tiny)
        else:
            tol = tie
        idx = select_alphas(path, tol)
        self.alphas_ = alphas
        self.cv_path_ = path
        self.best_alphas_ = alphas[idx]
        self.cv_scores_ = path[idx, np.arange(path.shape[1])]
        self.form_ = form
        # refit on all samples
        Xc = X64 - x_mean
        full_form = choose_form(n, p, self.form)
        spec = decompose(Xc, full_form, be, dtype, center_proj=self.fit_intercept,
                         decomposition=full_dec)
        coef = np.empty((Y.shape[1], p), dtype=out_dtype)
        refit_coefs(spec, Y, alphas, idx, be=be, dtype=dtype, out=coef, budget_bytes=budget,
                    B=proj_y)
        intercept = (y_mean - coef.astype(np.float64) @ x_mean).astype(out_dtype)
        self.rank_ = spec.rank
        if ravel:
            self.coef_ = coef[0]
            self.intercept_ = float(intercept[0])
            self.best_alphas_ = self.best_alphas_
        else:
            self.coef_ = coef
            self.intercept_ = intercept
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n_samples, n_targets), or (n_samples,) if fitted on 1-D y."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        coef = self.coef_
        return X @ coef.T + self.intercept_ if coef.ndim == 2 else X @ coef + self.intercept_

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 averaged uniformly over targets (scikit-learn's regressor convention).

        Per-target scores: ``pearson_r(y, model.predict(X))`` or ``r2_score(...)``.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
