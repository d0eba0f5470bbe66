"""Pure ridge solvers: one float64 eigendecomposition per training set, reused for every alpha
and every target; large products in the compute dtype (float32 by default).

Notation (shapes in every docstring): ``n`` samples, ``p`` features, ``t`` targets, ``r`` the
rank kept from the decomposition (``r <= min(n, p)``), ``k`` alphas.

Every training set is represented by a :class:`Spectrum` such that ridge coefficients for
penalty ``alpha`` are ``vmat @ ((proj @ Y) / (evals + alpha)[:, None])``:

- *primal* form (``p <= n``): ``eigh(X.T X) = V diag(evals) V.T``; ``vmat = V`` (p, r),
  ``proj = (X V).T`` (r, n);
- *dual* form (``p > n``): ``eigh(X X.T) = U diag(evals) U.T``; ``vmat = X.T U`` (p, r),
  ``proj = U.T`` (r, n).

Both are exact (components with zero eigenvalue contribute nothing to the fit); the form only
decides whether a (p, p) or an (n, n) Gram matrix is decomposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from ._backend import Backend

__all__ = ["Spectrum", "decompose", "choose_form", "target_block_size", "kfold_alpha_scores",
           "loo_alpha_scores", "select_alphas", "refit_coefs", "parse_bytes", "SCORINGS"]

SCORINGS = ("r2", "neg_mse", "pearson")


@dataclass
class Spectrum:
    """Ridge on one (centred) training set in the eigenbasis of its Gram matrix.

    Attributes
    ----------
    form : "primal" or "dual".
    evals : (r,) float64 non-negative eigenvalues kept.
    vmat : (p, r) backend array, compute dtype.
    proj : (r, n) backend array, compute dtype; rows sum to zero when the data were centred.
    A : (n_val, r) backend array or None: validation features ``Xval @ vmat`` (float64 product).
    """

    form: str
    evals: np.ndarray
    vmat: Any
    proj: Any
    A: Any = None

    @property
    def rank(self) -> int:
        return int(self.evals.shape[0])


def choose_form(n_samples: int, n_features: int, form: str = "auto") -> str:
    """``"primal"`` if ``n_features <= n_samples`` else ``"dual"`` (for ``form="auto"``)."""
    if form == "auto":
        return "primal" if n_features <= n_samples else "dual"
    if form not in ("primal", "dual"):
        raise InvalidDataError(f"form must be 'auto', 'primal' or 'dual'; got {form!r}")
    return form


def decompose(Xc: np.ndarray, form: str, be: Backend, dtype: str, *,
              center_proj: bool = True, Xval: np.ndarray | None = None) -> Spectrum:
    """Eigendecompose the Gram matrix of ``Xc`` (n, p) in float64.

    Parameters
    ----------
    Xc : (n, p) float64 training features (already centred if an intercept is fitted).
    form : "primal" or "dual".
    be : backend for the returned ``vmat`` and ``proj``.
    dtype : compute dtype of ``vmat`` and ``proj`` ("float32" or "float64").
    center_proj : make each row of ``proj`` sum to exactly zero (the data were centred).
    Xval : (n_val, p) validation features (centred like ``Xc``); if given, ``A = Xval @ vmat``.
    """
    Xc = np.asarray(Xc, dtype=np.float64)
    n, p = Xc.shape
    if form == "primal":
        w, v = be.eigh(Xc.T @ Xc)
    else:
        w, v = be.eigh(Xc @ Xc.T)
    wmax = float(w[-1]) if w.size else 0.0
    tol = max(wmax, 0.0) * max(n, p) * np.finfo(np.float64).eps
    keep = w > tol
    w, v = w[keep], v[:, keep]
    if form == "primal":
        vmat = v
        proj = (Xc @ v).T
    else:
        vmat = Xc.T @ v
        proj = v.T
    if center_proj:
        proj = proj - proj.mean(axis=1, keepdims=True)
    A = None
    if Xval is not None:
        A = be.asarray(np.ascontiguousarray(np.asarray(Xval, dtype=np.float64) @ vmat), dtype)
    return Spectrum(form, np.ascontiguousarray(w), be.asarray(np.ascontiguousarray(vmat), dtype),
                    be.asarray(np.ascontiguousarray(proj), dtype), A)


def parse_bytes(size: int | float | str) -> int:
    """``"512MB"``, ``"2GB"``, ``1e9`` -> bytes."""
    if isinstance(size, (int, float)):
        return int(size)
    s = str(size).strip().upper().replace(" ", "")
    units = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "B": 1}
    for u, f in units.items():
        if s.endswith(u):
            return int(float(s[: -len(u)]) * f)
    return int(float(s))


def target_block_size(n_targets: int, per_target_bytes: int, budget_bytes: int,
                      fixed_bytes: int = 0, max_block: int | None = None) -> int:
    """Largest number of targets whose working memory fits ``budget_bytes - fixed_bytes``."""
    avail = budget_bytes - fixed_bytes
    tb = avail // max(per_target_bytes, 1)
    if max_block is not None:
        tb = min(tb, max_block)
    return int(max(1, min(n_targets, tb)))


def _fold_scores_block(A: Any, evals: np.ndarray, B: Any, Yv: Any, Yva: Any, alphas: np.ndarray,
                       scoring: str, be: Backend, dtype: str) -> np.ndarray:
    """Validation scores for every alpha on one fold and one block of targets.

    Parameters
    ----------
    A : (n_va, r) validation features in the training eigenbasis.
    evals : (r,) training eigenvalues.
    B : (r, tb) training targets in the eigenbasis (``proj @ Y_train``).
    Yv : (n_va, tb) validation targets minus the training mean.
    Yva : (n_va, tb) raw validation targets (for the variance / correlation).
    alphas : (k,) ascending.

    Returns
    -------
    scores : (k, tb) float64.
    """
    k = len(alphas)
    tb = Yv.shape[1]
    out = np.empty((k, tb))
    n_va = Yv.shape[0]
    if scoring == "r2":
        ym = be.mean0(Yva)
        sst = be.to_numpy(be.sqnorm0(Yva - ym)).astype(np.float64)
        const = sst <= np.finfo(np.float32).eps * n_va * np.maximum(
            be.to_numpy(be.sqnorm0(Yva)).astype(np.float64) / n_va, 1e-300)
    if scoring == "pearson":
        yc = Yva - be.mean0(Yva)
        ssy = be.to_numpy(be.sqnorm0(yc)).astype(np.float64)
    for j, a in enumerate(alphas):
        g = be.asarray(1.0 / (evals + a), dtype)
        pred = (A * g) @ B
        if scoring == "pearson":
            pc = be.sub_(pred, be.mean0(pred))
            num = be.to_numpy(be.dot0(pc, yc)).astype(np.float64)
            ssp = be.to_numpy(be.sqnorm0(pc)).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = num / np.sqrt(ssp * ssy)
            out[j] = np.where(np.isfinite(r), r, 0.0)
            continue
        sse = be.to_numpy(be.sqnorm0(be.sub_(pred, Yv))).astype(np.float64)
        if scoring == "neg_mse":
            out[j] = -sse / n_va
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                out[j] = np.where(const, 0.0, 1.0 - sse / np.where(const, 1.0, sst))
    return out


def kfold_alpha_scores(X: np.ndarray, Y: Any, alphas: np.ndarray,
                       splits: Sequence[tuple[np.ndarray, np.ndarray]], *, fit_intercept: bool,
                       scoring: str, form: str, be: Backend, dtype: str, budget_bytes: int,
                       max_block: int | None = None) -> tuple[np.ndarray, str]:
    """Cross-validated score of every alpha for every target.

    Parameters
    ----------
    X : (n, p) features.
    Y : (n, t) targets (NumPy array; converted block by block).
    alphas : (k,) ascending.
    splits : (train_idx, val_idx) pairs.

    Returns
    -------
    scores : (n_splits, k, t) float64 validation scores.
    form : the form used (from the training-set shape of the first split).
    """
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    t = Y.shape[1]
    folds = []
    used_form = None
    for tr, va in splits:
        Xtr, Xva = X[tr], X[va]
        if fit_intercept:
            mx = Xtr.mean(axis=0)
            Xtr, Xva = Xtr - mx, Xva - mx
        f = choose_form(len(tr), p, form)
        used_form = used_form or f
        spec = decompose(Xtr, f, be, dtype, center_proj=fit_intercept, Xval=Xva)
        folds.append((tr, va, spec, spec.A))
    item = np.dtype(dtype).itemsize
    fixed = sum((s.vmat.shape[0] * s.rank + s.rank * len(tr) + len(va) * s.rank) * item
                for tr, va, s, _ in folds)
    rmax = max(s.rank for _, _, s, _ in folds)
    nva = max(len(va) for _, va, _, _ in folds)
    per_t = item * (n + n + rmax + 3 * nva) + 8 * len(folds) * len(alphas) + 16
    tb = target_block_size(t, per_t, budget_bytes, fixed, max_block)
    scores = np.empty((len(folds), len(alphas), t))
    for start in range(0, t, tb):
        blk = slice(start, min(t, start + tb))
        Yb = be.asarray(np.asarray(Y[:, blk]), dtype)
        for i, (tr, va, spec, A) in enumerate(folds):
            Ytr = be.rows(Yb, tr)
            Yva = be.rows(Yb, va)
            B = spec.proj @ Ytr
            Yv = Yva - be.mean0(Ytr) if fit_intercept else Yva
            scores[i, :, blk] = _fold_scores_block(A, spec.evals, B, Yv, Yva, alphas, scoring, be, dtype)
            del Ytr, Yva, B, Yv
        del Yb
    return scores, used_form or choose_form(n, p, form)


def loo_alpha_scores(*args: Any, **kwargs: Any) -> np.ndarray:  # filled in below
    raise NotImplementedError


def select_alphas(mean_scores: np.ndarray, tie_tol: float = 0.0) -> np.ndarray:
    """Index of the best alpha per target, ties toward the larger alpha.

    Parameters
    ----------
    mean_scores : (k, t) scores (higher is better) for ascending alphas.
    tie_tol : scores within ``tie_tol`` of the best count as ties.

    Returns
    -------
    idx : (t,) int index into the ascending alphas; the largest alpha among the tied best.
    """
    s = np.where(np.isnan(mean_scores), -np.inf, mean_scores)
    best = s.max(axis=0)
    ok = s >= best[None, :] - tie_tol
    k = s.shape[0]
    return (k - 1 - np.argmax(ok[::-1], axis=0)).astype(np.int64)


def refit_coefs(spec: Spectrum, Y: Any, alphas: np.ndarray, alpha_idx: np.ndarray, *, be: Backend,
                dtype: str, out: np.ndarray, budget_bytes: int,
                targets: Iterable[int] | None = None) -> None:
    """Coefficients on the full training set, one alpha per target, in one product per block.

    Parameters
    ----------
    spec : decomposition of the full (centred) training features.
    Y : (n, t) targets.
    alphas : (k,) candidate alphas; alpha_idx : (t,) chosen index per target.
    out : (t, p) array receiving the coefficients (scikit-learn layout).
    """
    n, t = Y.shape
    p, r = spec.vmat.shape
    item = np.dtype(dtype).itemsize
    per_t = item * (n + 2 * r + p) + 16
    tb = target_block_size(t, per_t, budget_bytes)
    G = 1.0 / (spec.evals[:, None] + alphas[None, :])  # (r, k) float64
    for start in range(0, t, tb):
        blk = slice(start, min(t, start + tb))
        Yb = be.asarray(np.asarray(Y[:, blk]), dtype)
        Bm = spec.proj @ Yb
        Bm = Bm * be.asarray(G[:, alpha_idx[blk]], dtype)
        out[blk] = be.to_numpy(spec.vmat @ Bm).T
        del Yb, Bm
