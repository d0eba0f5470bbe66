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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from ._backend import Backend

__all__ = ["Spectrum", "decompose", "choose_form", "target_block_size", "kfold_alpha_scores",
           "loo_alpha_scores", "select_alphas", "decompose64", "refit_coefs", "parse_bytes", "SCORINGS", "make_fold", "score_folds"]

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
              center_proj: bool = True, Xval: np.ndarray | None = None,
              decomposition: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Spectrum:
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
    w, vmat, proj = decomposition if decomposition is not None else decompose64(Xc, form, be)
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


@dataclass
class _Fold:
    """Precomputed pieces of one inner split (see :func:`kfold_alpha_scores`)."""

    tr: np.ndarray
    va: np.ndarray
    evals: np.ndarray
    mode: str  # "compress" (r < n_va), "project" or "direct" (dual, no projection)
    A: Any  # compress: R (r, r) triangular; project/direct: (n_va, r)
    proj: Any  # (r, n_tr)
    Qa: Any = None  # compress: (n_va, r) orthonormal basis of the validation features
    AP: np.ndarray | None = None  # direct: float64 (n_va, r) @ diag(g) @ proj built per alpha
    S: Any = None  # project/direct: all alphas stacked, (k n_va, r) or (k n_va, n_tr): one product


def _prepare_fold(X: np.ndarray, tr: np.ndarray, va: np.ndarray, *, fit_intercept: bool, form: str,
                  be: Backend, dtype: str, alphas: np.ndarray) -> _Fold:
    Xtr, Xva = X[tr], X[va]
    if fit_intercept:
        mx = Xtr.mean(axis=0)
        Xtr, Xva = Xtr - mx, Xva - mx
    f = choose_form(len(tr), X.shape[1], form)
    evals, vmat64, proj64 = decompose64(Xtr, f, be)
    if fit_intercept:
        proj64 = proj64 - proj64.mean(axis=1, keepdims=True)
    A = Xva @ vmat64  # (n_va, r) float64
    return make_fold(tr, va, evals, A, proj64, be=be, dtype=dtype, alphas=alphas)


def make_fold(tr: np.ndarray, va: np.ndarray, evals: np.ndarray, A: np.ndarray, proj64: np.ndarray, *,
              be: Backend, dtype: str, alphas: np.ndarray, stack_bytes: int = 256 << 20) -> _Fold:
    """Choose the evaluation mode of one split from its shapes.

    Parameters
    ----------
    evals : (r,) training eigenvalues; A : (n_va, r) validation rows in the eigenbasis (float64);
    proj64 : (r, n_tr) float64 projection of training targets onto the eigenbasis.
    alphas : (k,) ascending; when the stacked per-alpha matrices fit in ``stack_bytes`` they are
        precomputed so that all alphas are evaluated with one product per target block.
    """
    n_alphas = len(alphas)
    r, nva, ntr = len(evals), len(va), len(tr)
    item = np.dtype(dtype).itemsize
    G = 1.0 / (evals[None, :] + np.asarray(alphas)[:, None])  # (k, r)
    if r < nva:
        Qa, Ra = np.linalg.qr(A)
        S = None
        if n_alphas * r * r * item <= stack_bytes:
            S = be.asarray((Ra[None, :, :] * G[:, None, :]).reshape(n_alphas * r, r), dtype)
        return _Fold(tr, va, evals, "compress", be.asarray(Ra, dtype), be.asarray(proj64, dtype),
                     be.asarray(Qa, dtype), S=S)
    # cost per target: "project" r*ntr + k*nva*r ; "direct" k*nva*ntr
    if r * ntr + n_alphas * nva * r <= n_alphas * nva * ntr:
        S = None
        if n_alphas * nva * r * item <= stack_bytes:
            S = be.asarray((A[None, :, :] * G[:, None, :]).reshape(n_alphas * nva, r), dtype)
        return _Fold(tr, va, evals, "project", be.asarray(A, dtype), be.asarray(proj64, dtype), S=S)
    S = None
    if n_alphas * nva * ntr * item <= stack_bytes:
        S = be.asarray(np.concatenate([(A * G[j]) @ proj64 for j in range(n_alphas)]), dtype)
    return _Fold(tr, va, evals, "direct", None, None, AP=(A, proj64), S=S)


def decompose64(Xc: np.ndarray, form: str, be: Backend) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(evals (r,), vmat (p, r), proj (r, n)) in float64 (see :func:`decompose`)."""
    n, p = Xc.shape
    if form == "primal":
        w, v = be.eigh(Xc.T @ Xc)
    else:
        w, v = be.eigh(Xc @ Xc.T)
    tol = max(float(w[-1]) if w.size else 0.0, 0.0) * max(n, p) * np.finfo(np.float64).eps
    keep = w > tol
    w, v = w[keep], v[:, keep]
    if form == "primal":
        return w, v, (Xc @ v).T
    return w, Xc.T @ v, v.T


def kfold_alpha_scores(X: np.ndarray, Y: Any, alphas: np.ndarray,
                       splits: Sequence[tuple[np.ndarray, np.ndarray]], *, fit_intercept: bool,
                       scoring: str, form: str, be: Backend, dtype: str, budget_bytes: int,
                       max_block: int | None = None) -> tuple[np.ndarray, str]:
    """Cross-validated score of every alpha for every target.

    For each split the training Gram matrix is eigendecomposed once (float64). Validation
    predictions for penalty ``a`` are ``A diag(1/(evals + a)) B`` with ``A`` (n_va, r) the
    validation features in the eigenbasis and ``B = proj @ Y_train`` (r, tb). Three exact
    evaluation modes, chosen per split from the shapes:

    - ``compress`` (r < n_va): ``A = Qa Ra``; the squared error splits into the part of the
      validation targets orthogonal to ``Qa`` (alpha-independent) plus an (r, r) problem per
      alpha, so each alpha costs r^2 instead of n_va * r per target;
    - ``project``: one projection ``B`` then n_va * r per alpha and target;
    - ``direct`` (dual with r close to n_tr): ``(A diag(g) proj) @ Y_train``, skipping the
      projection.

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
    folds = [_prepare_fold(X, tr, va, fit_intercept=fit_intercept, form=form, be=be, dtype=dtype,
                           alphas=alphas) for tr, va in splits]
    used_form = choose_form(len(splits[0][0]), p, form)
    return score_folds(folds, Y, alphas, n=n, scoring=scoring, fit_intercept=fit_intercept, be=be,
                       dtype=dtype, budget_bytes=budget_bytes, max_block=max_block), used_form


def score_folds(folds: Sequence[_Fold], Y: Any, alphas: np.ndarray, *, n: int, scoring: str,
                fit_intercept: bool, be: Backend, dtype: str, budget_bytes: int,
                max_block: int | None = None) -> np.ndarray:
    """(n_splits, k, t) validation scores of prepared splits, target block by target block."""
    t = Y.shape[1]
    k = len(alphas)
    item = np.dtype(dtype).itemsize
    fixed = 0
    for fo in folds:
        r = len(fo.evals)
        fixed += item * (r * len(fo.tr) + len(fo.va) * r + r * r)
        if fo.S is not None:
            fixed += item * int(np.prod(fo.S.shape))
    rmax = max(len(fo.evals) for fo in folds)
    nva = max(len(fo.va) for fo in folds)
    per_t = item * (2 * n + 2 * rmax + 4 * nva + k * nva) + 8 * len(folds) * k + 16
    tb = target_block_size(t, per_t, budget_bytes, fixed, max_block)
    scores = np.empty((len(folds), k, t))
    for start in range(0, t, tb):
        blk = slice(start, min(t, start + tb))
        Yb = be.asarray(np.asarray(Y[:, blk]), dtype)
        for i, fo in enumerate(folds):
            scores[i, :, blk] = _fold_block(fo, Yb, alphas, scoring, fit_intercept, be, dtype)
        del Yb
    return scores


def _fold_block(fo: _Fold, Yb: Any, alphas: np.ndarray, scoring: str, fit_intercept: bool,
                be: Backend, dtype: str) -> np.ndarray:
    """(k, tb) validation scores of one split for one block of targets."""
    Ytr = be.rows(Yb, fo.tr)
    Yva = be.rows(Yb, fo.va)
    Yv = be.sub_(Yva.copy() if hasattr(Yva, "copy") else Yva.clone(), be.mean0(Ytr)) \
        if fit_intercept else Yva
    nva = len(fo.va)
    k, tb = len(alphas), Yv.shape[1]
    out = np.empty((k, tb))
    sst = None
    if scoring == "r2":
        sst = be.to_numpy(be.sqnorm0(Yva - be.mean0(Yva))).astype(np.float64)
        scale = be.to_numpy(be.sqnorm0(Yva)).astype(np.float64)
        const = sst <= np.finfo(np.float32).eps * nva * np.maximum(scale / nva, 1e-300)
    if fo.mode == "compress" and scoring != "pearson":
        B = fo.proj @ Ytr  # (r, tb)
        C = fo.Qa.T @ Yv  # (r, tb)  coordinates of Yv in the span of A
        resid = be.to_numpy(be.sqnorm0(be.sub_(fo.Qa @ C, Yv))).astype(np.float64)
        r = len(fo.evals)
        P_all = fo.S @ B if fo.S is not None else None  # (k r, tb): every alpha at once
        for j, a in enumerate(alphas):
            if P_all is not None:
                Pj = P_all[j * r:(j + 1) * r]
            else:
                Pj = fo.A @ (B * be.asarray((1.0 / (fo.evals + a))[:, None], dtype))
            sse = resid + be.to_numpy(be.sqnorm0(be.sub_(Pj, C))).astype(np.float64)
            out[j] = _score_from_sse(sse, sst, const if sst is not None else None, nva, scoring)
        return out
    if fo.mode == "compress":  # pearson: need predictions
        A = fo.Qa @ fo.A
        B = fo.proj @ Ytr
    elif fo.mode == "project":
        A, B = fo.A, fo.proj @ Ytr
    if scoring == "pearson":
        yc = Yva - be.mean0(Yva)
        ssy = be.to_numpy(be.sqnorm0(yc)).astype(np.float64)
    P_all = None
    if fo.S is not None and fo.mode != "compress":
        P_all = fo.S @ (Ytr if fo.mode == "direct" else B)  # (k n_va, tb): every alpha at once
    for j, a in enumerate(alphas):
        g = 1.0 / (fo.evals + a)
        if P_all is not None:
            pred = P_all[j * nva:(j + 1) * nva]
        elif fo.mode == "direct":
            A64, P64 = fo.AP
            pred = be.asarray((A64 * g) @ P64, dtype) @ Ytr
        else:
            pred = (A * be.asarray(g, dtype)) @ B
        if scoring == "pearson":
            pc = be.sub_(pred, be.mean0(pred))
            num = be.to_numpy(be.dot0(pc, yc)).astype(np.float64)
            ssp = be.to_numpy(be.sqnorm0(pc)).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                rr = num / np.sqrt(ssp * ssy)
            out[j] = np.where(np.isfinite(rr), rr, 0.0)
            continue
        sse = be.to_numpy(be.sqnorm0(be.sub_(pred, Yv))).astype(np.float64)
        out[j] = _score_from_sse(sse, sst, const if sst is not None else None, nva, scoring)
    return out


def _score_from_sse(sse: np.ndarray, sst: np.ndarray | None, const: np.ndarray | None, n: int,
                    scoring: str) -> np.ndarray:
    if scoring == "neg_mse":
        return -sse / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(const, 0.0, 1.0 - sse / np.where(const, 1.0, sst))


def loo_alpha_scores(X: np.ndarray, Y: Any, alphas: np.ndarray, *, fit_intercept: bool, form: str,
                     be: Backend, dtype: str, budget_bytes: int, max_block: int | None = None,
                     decomposition: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                     return_projection: bool = False,
                     ) -> tuple[np.ndarray, str] | tuple[np.ndarray, str, np.ndarray | None]:
    """Exact leave-one-out R^2 (PRESS) of every alpha for every target, from one decomposition.

    With ``Q`` (n, r) the orthonormal eigenvectors of the centred Gram matrix and
    ``h_k = evals_k / (evals_k + alpha)``, the hat matrix is ``H = 11'/n + Q diag(h) Q'`` (the
    ``11'/n`` term only with an intercept), the in-sample residuals are
    ``R = Yc - Q (h * Q'Y)`` and the leave-one-out residuals ``R_i / (1 - H_ii)``.

    Parameters
    ----------
    X : (n, p) features; Y : (n, t) targets; alphas : (k,) ascending.

    Returns
    -------
    scores : (k, t) float64 ``1 - sum_i e_i^2 / sum_i (y_i - mean(y))^2`` with ``e`` the
        leave-one-out residuals (0 for constant targets).
    form : the decomposition used.

    ``decomposition`` = ``(evals, vmat, proj)`` of the centred X from :func:`decompose64`
    (float64) is reused instead of decomposing again.

    With ``return_projection``, a third value is returned: ``proj @ Yc`` (r, t) in the compute
    dtype (the centred projection of the targets, the only product the refit needs; pass it to
    :func:`refit_coefs` as ``B``), or None when it would exceed a quarter of the budget.
    """
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    t = Y.shape[1]
    f = choose_form(n, p, form)
    if decomposition is None:
        Xc = X - X.mean(axis=0) if fit_intercept else X
        decomposition = decompose64(Xc, f, be)
    w, _, proj = decomposition
    Q = proj.T / np.sqrt(w) if f == "primal" else proj.T
    if fit_intercept:
        Q = Q - Q.mean(axis=0)
    r = len(w)
    Qb = be.asarray(np.ascontiguousarray(Q), dtype)
    QTb = be.asarray(np.ascontiguousarray(Q.T), dtype)
    Q2 = Q * Q  # (n, r)
    H = np.stack([Q2 @ (w / (w + a)) for a in alphas])  # (k, n) diagonal of the hat matrix
    if fit_intercept:
        H += 1.0 / n
    inv1mh = 1.0 / np.maximum(1.0 - H, np.finfo(np.float64).eps)  # (k, n)
    item = np.dtype(dtype).itemsize
    k = len(alphas)
    # "split" mode (r <= n/2): R = R0 + Q u with R0 = Yc - Q Q'Yc (alpha-independent) and
    # u = (1 - h) * Q'Yc; PRESS = w'R0^2 + 2 u.(Q'W R0) + u.(Q'W Q) u with W = diag(1/(1-H_ii)^2).
    # The weights W (k, n) are smooth in alpha: W = c @ B exactly up to ``w_tol`` relative per
    # entry with L <= k basis rows B (truncated SVD, checked entry by entry), so the one large
    # product is (L r, n) @ (n, tb) instead of (k r, n) @ (n, tb); the per-alpha work is (r, r).
    split = 2 * r <= n and k * r * n * item <= budget_bytes // 4
    Wt = inv1mh ** 2  # (k, n)
    if split:
        basis, coef_w = _weight_basis(Wt, 1e-7 if item == 4 else 0.0, be)
        L = basis.shape[0]
        QV = be.asarray((Q.T[None, :, :] * basis[:, None, :]).reshape(L * r, n), dtype)
        # (k, r, r): Q'W_j Q in float64, as one (k r, n) @ (n, r) product
        Mw = ((Q.T[None, :, :] * Wt[:, None, :]).reshape(k * r, n) @ Q).reshape(k, r, r)
        Gs = np.asarray(alphas)[:, None] / (w[None, :] + np.asarray(alphas)[:, None])  # (k, r)
        MG = be.asarray((Mw * Gs[:, None, :]).reshape(k * r, r), dtype)  # M_j diag(g_j), stacked
        Gb = be.asarray(Gs, dtype)
        CG = be.asarray((coef_w[:, :, None] * Gs[:, None, :]).reshape(k, L * r), dtype)
        del Mw
        Wb = be.asarray(Wt, dtype)
    per_t = item * (4 * n + 2 * r + (2 * k * r if split else 0)) + 8 * k + 16
    fixed = item * (2 * n * r + ((L * r * n + k * r * r) if split else 0))  # Q, Q', QV, MG
    tb = target_block_size(t, per_t, budget_bytes, fixed, max_block)
    tb = -(-t // -(-t // tb))  # same number of blocks, balanced sizes
    scores = np.empty((k, t))
    keep = return_projection and r * t * item <= budget_bytes // 4
    Bproj = np.empty((r, t), dtype=dtype) if keep else None
    zscale = np.sqrt(w) if f == "primal" else np.ones_like(w)  # proj @ Yc = zscale * Q'Yc
    for start in range(0, t, tb):
        blk = slice(start, min(t, start + tb))
        Yb = be.asarray(np.asarray(Y[:, blk]), dtype)
        if fit_intercept:
            Yb = be.sub_(Yb, be.mean0(Yb))
        sst = be.to_numpy(be.sqnorm0(Yb)).astype(np.float64)
        scale = np.abs(be.to_numpy(Yb)).max(axis=0).astype(np.float64) ** 2 if Yb.shape[0] else sst
        const = sst <= np.finfo(np.float32).eps * n * scale
        Z = QTb @ Yb  # (r, tb)
        if Bproj is not None:
            Bproj[:, blk] = be.to_numpy(Z) * zscale[:, None]
        if split:
            nR0 = be.sub_(Qb @ Z, Yb)  # (n, tb): -R0, in place (no copy of Yb)
            T1 = be.to_numpy(Wb @ (nR0 * nR0)).astype(np.float64)  # (k, tb)
            D = (QV @ nR0).reshape(L, r, -1)  # (L, r, tb): -Q' diag(B_l) R0
            del nR0
            D *= Z[None]
            # cross_j = sum_{l,m} c_jl g_jm Z_m D_lm = u_j . (Q'W_j R0): one (k, L r) product
            cross = -be.to_numpy(CG @ D.reshape(L * r, -1)).astype(np.float64)  # (k, tb)
            del D
            P = MG @ Z  # (k r, tb): M_j diag(g_j) Z
            P = P.reshape(k, r, -1)
            P *= Z[None]
            if isinstance(P, np.ndarray):  # u_j' M_j u_j
                quad = np.einsum("kr,krt->kt", Gb, P).astype(np.float64)
            else:
                quad = be.to_numpy((Gb[:, None, :] @ P)[:, 0, :]).astype(np.float64)
            del P
            press = np.maximum(T1 + 2 * cross + quad, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                scores[:, blk] = np.where(const, 0.0, 1.0 - press / np.where(const, 1.0, sst))
        else:
            # residual = R0 + Q ((1 - h) Z): no cancellation when the fit is close (small alpha)
            # R0 (alpha-independent) is computed in float64: the LOO weights 1/(1 - H_ii) can be
            # large for small alphas and would amplify float32 rounding; it is exactly 0 when Q
            # spans all centred directions.
            full_rank = r >= n - int(fit_intercept)
            if full_rank:
                R0 = None
            else:
                Y64 = np.asarray(be.to_numpy(Yb), dtype=np.float64)
                R0 = be.asarray(Y64 - Q @ (Q.T @ Y64), dtype)
            for j, a in enumerate(alphas):
                g = be.asarray((a / (w + a))[:, None], dtype)
                R = Qb @ (Z * g)
                if R0 is not None:
                    R += R0
                R = R * be.asarray(inv1mh[j][:, None], dtype)
                press = be.to_numpy(be.sqnorm0(R)).astype(np.float64)
                with np.errstate(invalid="ignore", divide="ignore"):
                    scores[j, blk] = np.where(const, 0.0, 1.0 - press / np.where(const, 1.0, sst))
        del Yb, Z
    if return_projection:
        return scores, f, Bproj
    return scores, f


def _weight_basis(Wt: np.ndarray, rel_tol: float, be: Backend) -> tuple[np.ndarray, np.ndarray]:
    """Few rows ``B`` (L, n) and coefficients ``c`` (k, L) with ``c @ B == Wt`` (k, n).

    The smallest truncated SVD whose every entry is within ``rel_tol`` (relative) of ``Wt``
    (checked entry by entry, so the basis is exact to ``rel_tol`` whatever its rounding);
    ``Wt`` itself with ``c = I`` when none is (or ``rel_tol`` is 0, for float64 products).
    """
    k = Wt.shape[0]
    if rel_tol > 0 and k > 2:
        # left singular vectors from the (k, k) Gram matrix (small; single-threaded LAPACK)
        _, U = be.eigh(Wt @ Wt.T)
        U = U[:, ::-1]
        basis = U.T @ Wt  # (k, n) rows in decreasing singular value
        err = -Wt  # U[:, :L] @ basis[:L] - Wt, updated one rank at a time
        bound = rel_tol * np.abs(Wt)
        for L in range(1, k - 1):
            err = err + np.outer(U[:, L - 1], basis[L - 1])
            if np.all(np.abs(err) <= bound):
                return np.ascontiguousarray(basis[:L]), np.ascontiguousarray(U[:, :L])
    return Wt, np.eye(k)


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
                dtype: str, out: np.ndarray, budget_bytes: int, B: np.ndarray | None = None) -> None:
    """Coefficients on the full training set, one alpha per target, in one product per block.

    Parameters
    ----------
    spec : decomposition of the full (centred) training features.
    Y : (n, t) targets.
    alphas : (k,) candidate alphas; alpha_idx : (t,) chosen index per target.
    out : (t, p) array receiving the coefficients (scikit-learn layout).
    B : (r, t) precomputed ``spec.proj @ Y`` (e.g. from :func:`loo_alpha_scores`), or None.
    """
    n, t = Y.shape
    p, r = spec.vmat.shape
    item = np.dtype(dtype).itemsize
    per_t = item * (n + 2 * r + p) + 16
    tb = target_block_size(t, per_t, budget_bytes)
    G = 1.0 / (spec.evals[:, None] + alphas[None, :])  # (r, k) float64
    for start in range(0, t, tb):
        blk = slice(start, min(t, start + tb))
        if B is None:
            Yb = be.asarray(np.asarray(Y[:, blk]), dtype)
            Bm = spec.proj @ Yb
            del Yb
        else:
            Bm = be.asarray(B[:, blk], dtype)
        Bm = Bm * be.asarray(G[:, alpha_idx[blk]], dtype)
        out[blk] = be.to_numpy(spec.vmat @ Bm).T
        del Bm
