"""Kernel ridge and banded ridge with per-target hyperparameters chosen by cross-validation.

Both work in the dual: each inner split's training kernel is eigendecomposed once (float64)
and reused for all alphas and targets, exactly as :class:`~brainalign.encoding.RidgeCV`.
:class:`BandedRidgeCV` computes the Gram matrix of every feature space once and, for each
candidate weighting of the spaces, only sums them and re-decomposes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InvalidDataError
from ._backend import Backend, get_backend
from ._ridge import check_alphas, make_inner_splits
from ._solvers import SCORINGS, make_fold, parse_bytes, score_folds, select_alphas

__all__ = ["KernelRidgeCV", "BandedRidgeCV"]


def _center_train(K: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    cm = K.mean(axis=0)
    tot = float(cm.mean())
    return K - cm[None, :] - K.mean(axis=1)[:, None] + tot, cm, tot


def _center_new(Knew: np.ndarray, cm: np.ndarray, tot: float) -> np.ndarray:
    return Knew - cm[None, :] - Knew.mean(axis=1)[:, None] + tot


def _eig(K: np.ndarray, be: Backend) -> tuple[np.ndarray, np.ndarray]:
    w, U = be.eigh((K + K.T) / 2)
    tol = max(float(w[-1]) if w.size else 0.0, 0.0) * K.shape[0] * np.finfo(np.float64).eps
    keep = w > tol
    return w[keep], U[:, keep]


def _kernel_folds(K: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]], fit_intercept: bool,
                  be: Backend, dtype: str, alphas: np.ndarray) -> list[Any]:
    folds = []
    for tr, va in splits:
        Ktr = K[np.ix_(tr, tr)]
        Kva = K[np.ix_(va, tr)]
        if fit_intercept:
            Ktr, cm, tot = _center_train(Ktr)
            Kva = _center_new(Kva, cm, tot)
        w, U = _eig(Ktr, be)
        proj = U.T
        if fit_intercept:
            proj = proj - proj.mean(axis=1, keepdims=True)
        folds.append(make_fold(tr, va, w, Kva @ U, proj, be=be, dtype=dtype, alphas=alphas))
    return folds


def _dual_coefs(K: np.ndarray, Y: np.ndarray, alphas: np.ndarray, idx: np.ndarray, fit_intercept: bool,
                be: Backend) -> np.ndarray:
    """(n, t) float64 dual coefficients, one alpha per target, on the full (centred) kernel."""
    if fit_intercept:
        K = _center_train(K)[0]
        Y = Y - Y.mean(axis=0)
    w, U = _eig(K, be)
    B = U.T @ Y  # (r, t)
    G = 1.0 / (w[:, None] + alphas[None, :])
    return U @ (B * G[:, idx])


class _KernelBase(MultiOutputMixin, RegressorMixin, BaseEstimator):
    def _common(self) -> tuple[np.ndarray, Backend, str, int, float]:
        if self.scoring not in SCORINGS:
            raise InvalidDataError(f"scoring must be one of {SCORINGS}; got {self.scoring!r}")
        dtype = str(np.dtype(self.dtype))
        tie = self.tie_tol if self.tie_tol is not None else (1e-6 if dtype == "float32" else 1e-12)
        return check_alphas(self.alphas), get_backend(self.backend), dtype, parse_bytes(self.memory_budget), tie

    def _cv_splits(self, n: int, X: Any, Y: Any, groups: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        if isinstance(self.cv, str):
            raise InvalidDataError(f"{type(self).__name__} supports K-fold and splitters; cv={self.cv!r} "
                                   "is not available (use RidgeCV(cv='loo') for leave-one-out)")
        return make_inner_splits(self.cv, n, X, Y, groups)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class KernelRidgeCV(_KernelBase):
    """Kernel ridge with one alpha per target chosen by cross-validation.

    Parameters
    ----------
    alphas, cv, fit_intercept, scoring, backend, dtype, memory_budget, tie_tol :
        as :class:`~brainalign.encoding.RidgeCV` (``cv="loo"`` is not offered here).
    kernel : "linear", "rbf", "poly", "cosine", ... (scikit-learn ``pairwise_kernels``
        metrics), "precomputed" (X is the (n, n) kernel), or a callable.
    kernel_params : dict of kernel parameters (e.g. ``{"gamma": 0.1}``).

    Attributes
    ----------
    dual_coef_ : (n_train, n_targets) or (n_train,); intercept_ : (n_targets,) or float;
    best_alphas_ : (n_targets,); cv_scores_ : (n_targets,); cv_path_ : (n_alphas, n_targets);
    X_fit_ : training features (or kernel); alphas_.
    """

    def __init__(self, alphas: Any = None, cv: Any = 5, *, kernel: Any = "linear",
                 kernel_params: dict | None = None, fit_intercept: bool = True, scoring: str = "r2",
                 backend: str | Backend = "numpy", dtype: str = "float32",
                 memory_budget: str | int = "512MB", tie_tol: float | None = None):
        self.alphas = alphas
        self.cv = cv
        self.kernel = kernel
        self.kernel_params = kernel_params
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.backend = backend
        self.dtype = dtype
        self.memory_budget = memory_budget
        self.tie_tol = tie_tol

    def _kernel(self, A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
        if self.kernel == "precomputed":
            return np.asarray(A, dtype=np.float64)
        return np.asarray(pairwise_kernels(A, B, metric=self.kernel, filter_params=True,
                                           **(self.kernel_params or {})), dtype=np.float64)

    def fit(self, X: Any, y: Any, groups: Any = None) -> KernelRidgeCV:
        """Fit on X (n, p) (or an (n, n) kernel with ``kernel="precomputed"``) and y."""
        alphas, be, dtype, budget, tie = self._common()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=[np.float64, np.float32])
        ravel = y.ndim == 1
        Y = np.asarray(y[:, None] if ravel else y, dtype=np.float64)
        n = X.shape[0]
        if self.kernel == "precomputed" and X.shape[1] != n:
            raise InvalidDataError(f"kernel='precomputed' needs a square (n, n) kernel; got {X.shape}")
        K = self._kernel(X)
        splits = self._cv_splits(n, X, Y, groups)
        folds = _kernel_folds(K, splits, self.fit_intercept, be, dtype, alphas)
        path = score_folds(folds, Y, alphas, n=n, scoring=self.scoring, fit_intercept=self.fit_intercept,
                           be=be, dtype=dtype, budget_bytes=budget).mean(axis=0)
        idx = select_alphas(path, tie)
        self.alphas_ = alphas
        self.cv_path_ = path
        self.best_alphas_ = alphas[idx]
        self.cv_scores_ = path[idx, np.arange(path.shape[1])]
        dual = _dual_coefs(K, Y, alphas, idx, self.fit_intercept, be)
        self.X_fit_ = X
        if self.fit_intercept:
            _, self._cm, self._tot = _center_train(K)
            self._Kfit_rowmean = None
        y_mean = Y.mean(axis=0) if self.fit_intercept else np.zeros(Y.shape[1])
        self.dual_coef_ = dual[:, 0] if ravel else dual
        self.intercept_ = float(y_mean[0]) if ravel else y_mean
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n_samples, n_targets) or (n_samples,)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        Kn = X if self.kernel == "precomputed" else self._kernel(X, self.X_fit_)
        Kn = np.asarray(Kn, dtype=np.float64)
        if self.fit_intercept:
            Kn = _center_new(Kn, self._cm, self._tot)
        return Kn @ self.dual_coef_ + self.intercept_


class BandedRidgeCV(_KernelBase):
    """Ridge with one penalty per feature space (band) and per target.

    The penalty of band ``s`` is ``alpha / gamma_s`` with ``gamma`` a weighting of the bands on
    the simplex: every candidate ``gamma`` is tried with every ``alpha`` and each target keeps the
    best pair by inner cross-validation. The linear Gram matrix of each band is computed once;
    each candidate only sums them with its weights and eigendecomposes per split.

    Parameters
    ----------
    bands : list of band sizes (consecutive columns of X), e.g. ``[512, 768]``, or of index arrays.
    gammas : (n_candidates, n_bands) weights (rows summing to 1), or None: for 2 bands
        ``gamma_1 = 0, 0.1, ..., 1``; for more, the corners, the centre and ``n_iter`` Dirichlet
        samples (seeded by ``random_state``).
    alphas, cv, fit_intercept, scoring, backend, dtype, memory_budget, tie_tol : as RidgeCV.

    Attributes
    ----------
    coef_ : (n_targets, n_features); intercept_ : (n_targets,);
    best_alphas_ : (n_bands, n_targets) per-band penalty (inf: band switched off);
    best_gammas_ : (n_bands, n_targets); best_alpha_ : (n_targets,) the global alpha;
    cv_scores_ : (n_targets,).
    """

    def __init__(self, bands: Any = None, alphas: Any = None, cv: Any = 5, *, gammas: Any = None,
                 n_iter: int = 20, random_state: int | None = 0, fit_intercept: bool = True,
                 scoring: str = "r2", backend: str | Backend = "numpy", dtype: str = "float32",
                 memory_budget: str | int = "512MB", tie_tol: float | None = None):
        self.bands = bands
        self.alphas = alphas
        self.cv = cv
        self.gammas = gammas
        self.n_iter = n_iter
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.backend = backend
        self.dtype = dtype
        self.memory_budget = memory_budget
        self.tie_tol = tie_tol

    def _band_index(self, p: int) -> list[np.ndarray]:
        if self.bands is None:
            return [np.arange(p)]
        bands = list(self.bands)
        if all(isinstance(b, (int, np.integer)) for b in bands):
            if sum(bands) != p:
                raise InvalidDataError(f"band sizes {bands} sum to {sum(bands)}, but X has {p} columns")
            edges = np.concatenate([[0], np.cumsum(bands)])
            return [np.arange(edges[i], edges[i + 1]) for i in range(len(bands))]
        out = [np.arange(p)[b] if isinstance(b, slice) else np.asarray(b, dtype=np.int64) for b in bands]
        allc = np.concatenate(out)
        if len(np.unique(allc)) != len(allc) or allc.min() < 0 or allc.max() >= p:
            raise InvalidDataError("bands must be disjoint column indices of X")
        return out

    def _candidates(self, nb: int) -> np.ndarray:
        if self.gammas is not None:
            g = np.atleast_2d(np.asarray(self.gammas, dtype=np.float64))
            if g.shape[1] != nb or (g < 0).any() or not np.allclose(g.sum(1), 1):
                raise InvalidDataError(f"gammas must be (n_candidates, {nb}) non-negative rows summing to 1")
            return g
        if nb == 1:
            return np.ones((1, 1))
        if nb == 2:
            g1 = np.linspace(0, 1, 11)
            return np.column_stack([g1, 1 - g1])
        rng = np.random.default_rng(self.random_state)
        return np.vstack([np.eye(nb), np.full((1, nb), 1.0 / nb), rng.dirichlet(np.ones(nb), self.n_iter)])

    def fit(self, X: Any, y: Any, groups: Any = None) -> BandedRidgeCV:
        alphas, be, dtype, budget, tie = self._common()
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=[np.float64, np.float32])
        ravel = y.ndim == 1
        Y = np.asarray(y[:, None] if ravel else y, dtype=np.float64)
        n, p = X.shape
        X64 = np.asarray(X, dtype=np.float64)
        x_mean = X64.mean(axis=0) if self.fit_intercept else np.zeros(p)
        y_mean = Y.mean(axis=0) if self.fit_intercept else np.zeros(Y.shape[1])
        bidx = self._band_index(p)
        cands = self._candidates(len(bidx))
        Ks = [X64[:, b] @ X64[:, b].T for b in bidx]  # per-band Gram, computed once
        splits = self._cv_splits(n, X, Y, groups)
        t = Y.shape[1]
        best = np.full(t, -np.inf)
        best_c = np.zeros(t, dtype=np.int64)
        best_a = np.zeros(t, dtype=np.int64)
        for ci, g in enumerate(cands):
            K = sum(gs * Ks_ for gs, Ks_ in zip(g, Ks, strict=True))
            folds = _kernel_folds(K, splits, self.fit_intercept, be, dtype, alphas)
            path = score_folds(folds, Y, alphas, n=n, scoring=self.scoring, fit_intercept=self.fit_intercept,
                               be=be, dtype=dtype, budget_bytes=budget).mean(axis=0)
            ai = select_alphas(path, tie)
            sc = path[ai, np.arange(t)]
            better = sc > best + tie
            best[better], best_c[better], best_a[better] = sc[better], ci, ai[better]
        coef = np.zeros((t, p))
        for ci in np.unique(best_c):
            sel = np.flatnonzero(best_c == ci)
            g = cands[ci]
            K = sum(gs * Ks_ for gs, Ks_ in zip(g, Ks, strict=True))
            dual = _dual_coefs(K, Y[:, sel], alphas, best_a[sel], self.fit_intercept, be)  # (n, |sel|)
            Xc = X64 - x_mean
            for gs, b in zip(g, bidx, strict=True):
                if gs > 0:
                    coef[np.ix_(sel, b)] = gs * (Xc[:, b].T @ dual).T
        gam = cands[best_c].T  # (n_bands, t)
        with np.errstate(divide="ignore"):
            self.best_alphas_ = np.where(gam > 0, alphas[best_a][None, :] / np.where(gam > 0, gam, 1), np.inf)
        self.best_gammas_ = gam
        self.best_alpha_ = alphas[best_a]
        self.cv_scores_ = best
        self.candidates_ = cands
        self.alphas_ = alphas
        self.bands_ = bidx
        intercept = y_mean - coef @ x_mean
        self.coef_ = coef[0] if ravel else coef
        self.intercept_ = float(intercept[0]) if ravel else intercept
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        c = self.coef_
        return X @ c.T + self.intercept_ if c.ndim == 2 else X @ c + self.intercept_
