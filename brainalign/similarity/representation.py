"""Representation metrics beyond RSA: CKA, shape (Procrustes / angular) distances, CCA, SVCCA,
PWCCA, mutual k-nearest-neighbour alignment, and geo-topological RDM transforms.

All take responses (stimulus x unit DataArrays, aligned on stimulus ids) or plain arrays
``X`` (n_stimuli, p) and ``Y`` (n_stimuli, q) with rows matched. Definitions and invariances
(each invariance is checked by a property test in ``tests/test_similarity_repr.py``):

=====================  ==========================================================  =============================
metric                 definition (``Xc`` = X with centred columns)                invariant to
=====================  ==========================================================  =============================
``cka`` linear         ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``, ``K = Xc Xc^T``;  orthogonal transforms and
                       biased HSIC ``<K, L>_F`` (Kornblith et al. 2019) or the     isotropic scaling of X or Y,
                       unbiased estimator (Song et al. 2012; ``unbiased=True``)    translation
``cka`` rbf            same with ``K_ij = exp(-|x_i - x_j|^2 / (2 s^2))``,           orthogonal transforms,
                       ``s = sigma * median distance``                             translation, isotropic scaling
``procrustes``         ``sqrt(|A|^2 + |B|^2 - 2 ||A^T B||_*)``, ``A = Xc / |Xc|_F``     orthogonal transforms,
                       (``B`` likewise; zero-padded to the same width)             translation, isotropic scaling
``angular``            ``arccos(||A^T B||_* )`` (Williams et al. 2021); a metric    same; obeys the triangle
                                                                                   inequality
``cca``                mean canonical correlation of Xc and Yc                     any invertible linear map
                                                                                   (full column rank), translation
``svcca``              CCA after keeping the top singular directions that explain  orthogonal transforms,
                       ``keep`` of each one's variance (Raghu et al. 2017)         isotropic scaling, translation
``pwcca``              canonical correlations weighted by how much of X each       orthogonal transforms of Y,
                       canonical variate accounts for (Morcos et al. 2018); not    scaling, translation
                       symmetric
``mutual_knn``         mean over stimuli of ``|N_k^X(i) & N_k^Y(i)| / k``, cosine  orthogonal transforms and
                       neighbours without the stimulus itself (Huh et al. 2024)    any scaling of X or Y
=====================  ==========================================================  =============================

:func:`compare_representations` computes each representation's Gram matrix, whitening basis or
neighbour sets once and gets all pairs from one product; the Gram products are streamed over
blocks of stimuli so memory stays within ``memory_budget``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import dumps, make_provenance
from ..registry import Registry
from ..responses import check_same_stimuli
from ._util import DEFAULT_MEMORY_BUDGET, as_named_list, input_hash

REPR_METRICS: Registry[Callable[..., float]] = Registry("representation metric")


# ------------------------------------------------------------------ helpers
def _as_matrix(x: Any, name: str = "X") -> np.ndarray:
    if isinstance(x, xr.DataArray):
        if "time" in x.dims or "repeat" in x.dims:
            raise InvalidDataError(f"{name} has dims {x.dims}; select or average 'time'/'repeat' first")
        x = x.transpose("stimulus", "unit").values if "stimulus" in x.dims else x.values
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise InvalidDataError(f"{name} must be 2-D (n_stimuli, n_units); got shape {a.shape}")
    if np.isnan(a).any():
        raise InvalidDataError(f"{name} contains NaN; drop or impute those stimuli/units first")
    return a


def _pair(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(x, xr.DataArray) and isinstance(y, xr.DataArray) and "stimulus" in x.dims:
        ids = [str(s) for s in x["stimulus"].values]
        check_same_stimuli(ids, [str(s) for s in y["stimulus"].values], names=("X", "Y"), order=False)
        y = y.sel(stimulus=x["stimulus"].values)
    a, b = _as_matrix(x, "X"), _as_matrix(y, "Y")
    if len(a) != len(b):
        raise InvalidDataError(f"X has {len(a)} stimuli and Y {len(b)}; rows must be matched stimuli")
    if len(a) < 4:
        raise InvalidDataError("need at least 4 stimuli to compare representations")
    return a, b


def _center(x: np.ndarray) -> np.ndarray:
    return x - x.mean(axis=0, keepdims=True)


def _hsic(k: np.ndarray, l_: np.ndarray, unbiased: bool) -> float:
    n = len(k)
    if not unbiased:
        return float(np.sum(k * l_))  # on centred Grams; the 1/(n-1)^2 cancels in CKA
    kt, lt = k.copy(), l_.copy()
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(lt, 0.0)
    sk, sl = kt.sum(axis=1), lt.sum(axis=1)
    return float((np.sum(kt * lt) + sk.sum() * sl.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * sk @ sl)
                 / (n * (n - 3)))


def rbf_gram(x: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    """RBF Gram matrix with bandwidth ``sigma`` times the median pairwise distance (Kornblith)."""
    g = x @ x.T
    d = np.diag(g)
    sq = np.maximum(d[:, None] + d[None, :] - 2 * g, 0.0)
    med = np.median(np.sqrt(sq[np.triu_indices(len(x), 1)]))
    if med == 0:
        raise InvalidDataError("all stimuli have identical patterns; the RBF bandwidth is undefined")
    return np.exp(-sq / (2.0 * (sigma * med) ** 2))


def _center_gram(k: np.ndarray) -> np.ndarray:
    return k - k.mean(axis=0, keepdims=True) - k.mean(axis=1, keepdims=True) + k.mean()


# ------------------------------------------------------------------ metrics
@REPR_METRICS.register("cka", kind="similarity")
def cka(x: Any, y: Any, *, kernel: str = "linear", unbiased: bool = False, sigma: float = 0.8) -> float:
    """Centred kernel alignment of two representations (1 = same up to the invariances).

    Parameters
    ----------
    x, y : (n_stimuli, p) and (n_stimuli, q), rows matched (or responses DataArrays).
    kernel : "linear" or "rbf".
    unbiased : use the unbiased HSIC estimator (Song et al. 2012), less biased for p >> n.
    sigma : RBF bandwidth as a fraction of the median distance.
    """
    a, b = _pair(x, y)
    if kernel == "linear":
        ac, bc = _center(a), _center(b)
        k, l_ = ac @ ac.T, bc @ bc.T
    elif kernel == "rbf":
        k, l_ = _center_gram(rbf_gram(a, sigma)), _center_gram(rbf_gram(b, sigma))
    else:
        raise InvalidDataError(f"kernel must be 'linear' or 'rbf'; got {kernel!r}")
    kk, ll = _hsic(k, k, unbiased), _hsic(l_, l_, unbiased)
    if kk <= 0 or ll <= 0:
        raise InvalidDataError("a representation has no variance across stimuli; CKA is undefined")
    return _hsic(k, l_, unbiased) / np.sqrt(kk * ll)


def _normalized_basis(x: np.ndarray) -> np.ndarray:
    """``U S`` of the thin SVD of Xc / |Xc|_F: (n, rank); ``A^T B`` and ``(US)_a^T (US)_b`` share
    their singular values, so pairs cost an r x r SVD."""
    xc = _center(x)
    norm = np.linalg.norm(xc)
    if norm == 0:
        raise InvalidDataError("a representation has no variance across stimuli")
    u, s, _ = np.linalg.svd(xc / norm, full_matrices=False)
    keep = s > s[0] * 1e-12
    return u[:, keep] * s[keep]


def _nuclear(ba: np.ndarray, bb: np.ndarray) -> float:
    return float(np.linalg.svd(ba.T @ bb, compute_uv=False).sum())


@REPR_METRICS.register("procrustes", kind="distance")
def procrustes(x: Any, y: Any) -> float:
    """Orthogonal Procrustes distance between the normalised, centred representations (0..sqrt 2)."""
    a, b = _pair(x, y)
    nuc = min(1.0, _nuclear(_normalized_basis(a), _normalized_basis(b)))
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * nuc)))


@REPR_METRICS.register("angular", kind="distance")
def angular(x: Any, y: Any) -> float:
    """Angular shape distance ``arccos(||A^T B||_*)`` in radians (0..pi/2), a metric."""
    a, b = _pair(x, y)
    return float(np.arccos(np.clip(_nuclear(_normalized_basis(a), _normalized_basis(b)), -1.0, 1.0)))


def _orth_basis(x: np.ndarray, keep: float | int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal basis Q (n, r) of the centred column space, its singular values and V."""
    xc = _center(x)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    r = int(np.sum(s > (s[0] if len(s) else 0) * 1e-10))
    if keep is not None:
        if isinstance(keep, float) and 0 < keep <= 1:
            var = np.cumsum(s[:r] ** 2) / np.sum(s[:r] ** 2)
            r = int(np.searchsorted(var, keep - 1e-12) + 1)
        else:
            r = min(r, int(keep))
    if r == 0:
        raise InvalidDataError("a representation has no variance across stimuli")
    return u[:, :r], s[:r], vt[:r].T


def canonical_correlations(x: Any, y: Any, *, keep_x: float | int | None = None,
                           keep_y: float | int | None = None) -> np.ndarray:
    """Canonical correlations (descending) of the centred representations, optionally after
    reducing each to its top singular directions (``keep``: variance fraction or count)."""
    a, b = _pair(x, y)
    qa, _, _ = _orth_basis(a, keep_x)
    qb, _, _ = _orth_basis(b, keep_y)
    if min(qa.shape[1], qb.shape[1]) >= len(a) - 1:
        raise InvalidDataError(
            f"CCA with {qa.shape[1]} and {qb.shape[1]} dimensions on {len(a)} stimuli is degenerate "
            "(every correlation is 1); use svcca(..., keep=0.99) or fewer dimensions")
    return np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), 0.0, 1.0)


@REPR_METRICS.register("cca", kind="similarity")
def cca(x: Any, y: Any, *, n_components: int | None = None) -> float:
    """Mean canonical correlation (over the first ``n_components``, default all)."""
    rho = canonical_correlations(x, y)
    return float(rho[:n_components].mean())


@REPR_METRICS.register("svcca", kind="similarity")
def svcca(x: Any, y: Any, *, keep: float | int = 0.99) -> float:
    """SVCCA: mean canonical correlation after keeping the singular directions that explain
    ``keep`` of each representation's variance (or the top ``keep`` directions)."""
    return float(canonical_correlations(x, y, keep_x=keep, keep_y=keep).mean())


@REPR_METRICS.register("pwcca", kind="similarity")
def pwcca(x: Any, y: Any, *, keep: float | int | None = 0.99) -> float:
    """Projection-weighted CCA of ``x`` against ``y`` (weights from ``x``; not symmetric)."""
    a, b = _pair(x, y)
    qa, _, _ = _orth_basis(a, keep)
    qb, _, _ = _orth_basis(b, keep)
    u, rho, _ = np.linalg.svd(qa.T @ qb, full_matrices=False)
    h = qa @ u  # canonical variates of x, (n, r), unit norm
    alpha = np.abs(h.T @ _center(a)).sum(axis=1)
    rho = np.clip(rho, 0.0, 1.0)
    return float(alpha @ rho / alpha.sum())


def _knn_sets(x: np.ndarray, k: int) -> np.ndarray:
    """Boolean (n, n): row i marks the k nearest (cosine) neighbours of i, excluding i."""
    n = len(x)
    if not 1 <= k < n:
        raise InvalidDataError(f"k must be in [1, {n - 1}] for {n} stimuli; got {k}")
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norm == 0):
        raise InvalidDataError("mutual k-NN uses cosine similarity; some stimuli have all-zero patterns")
    s = (x / norm) @ (x / norm).T
    np.fill_diagonal(s, -np.inf)
    idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
    out = np.zeros((n, n), dtype=bool)
    np.put_along_axis(out, idx, True, axis=1)
    return out


@REPR_METRICS.register("mutual_knn", kind="similarity")
def mutual_knn(x: Any, y: Any, *, k: int = 10) -> float:
    """Mutual k-nearest-neighbour alignment in [0, 1] (Huh et al. 2024)."""
    a, b = _pair(x, y)
    return float((_knn_sets(a, k) & _knn_sets(b, k)).sum() / (len(a) * k))


# ------------------------------------------------------------------ all pairs
def _row_blocks(n: int, per_row_bytes: int, budget: int) -> list[slice]:
    rows = int(max(1, min(n, budget // max(per_row_bytes, 1))))
    return [slice(i, min(n, i + rows)) for i in range(0, n, rows)]


def linear_cka_matrix(reps: list[np.ndarray], *, unbiased: bool = False, dtype: Any = np.float64,
                      memory_budget: int = DEFAULT_MEMORY_BUDGET, device: Any = None) -> np.ndarray:
    """Linear CKA of all pairs of representations, streamed over blocks of stimuli.

    Each representation is centred once; for a block of rows ``r`` every representation's block
    of centred Gram rows ``Xc[r] Xc^T`` is formed once and all pairs get ``<K_a, K_b>`` from one
    product of the stacked blocks. Peak extra memory ~ ``R * rows * n * itemsize`` (rows sized
    from ``memory_budget``), the Grams are never all held at once.

    Parameters
    ----------
    reps : R arrays (n, p_r), rows matched.
    dtype : precision of the products (float32 is ~2x faster; agreement ~1e-6).
    device : None (numpy) or a torch device.

    Returns
    -------
    array (R, R), symmetric, ones on the diagonal.
    """
    n = len(reps[0])
    if any(len(r) != n for r in reps):
        raise InvalidDataError("all representations must have the same number of stimuli")
    if n < 4 + unbiased:
        raise InvalidDataError("need at least 5 stimuli for CKA")
    r_ = len(reps)
    itemsize = np.dtype(dtype).itemsize
    if device is not None:
        import torch

        from ._util import torch_device

        dev = torch_device(device)
        tdt = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
        xs = [torch.as_tensor(_center(np.asarray(x, dtype=np.float64)), device=dev).to(tdt) for x in reps]
    else:
        xs = [np.ascontiguousarray(_center(np.asarray(x, dtype=np.float64)), dtype=dtype) for x in reps]
    acc = np.zeros((r_, r_))
    rowsum = np.zeros((r_, n))
    for blk in _row_blocks(n, 2 * r_ * n * itemsize, memory_budget):
        if device is not None:
            import torch

            g = torch.stack([x[blk] @ x.T for x in xs])  # (R, rows, n)
            if unbiased:
                ii = torch.arange(blk.start, blk.stop, device=g.device)
                g[:, ii - blk.start, ii] = 0
                rowsum[:, blk] = g.sum(dim=2).double().cpu().numpy()
            flat = g.reshape(r_, -1)
            acc += (flat @ flat.T).double().cpu().numpy()
            continue
        g = np.empty((r_, blk.stop - blk.start, n), dtype=dtype)
        for i, x in enumerate(xs):
            np.matmul(x[blk], x.T, out=g[i])
        if unbiased:
            ii = np.arange(blk.start, blk.stop)
            g[:, ii - blk.start, ii] = 0
            rowsum[:, blk] = g.sum(axis=2, dtype=np.float64)
        flat = g.reshape(r_, -1)
        acc += (flat @ flat.T).astype(np.float64)
    if unbiased:
        tot = rowsum.sum(axis=1)
        acc = (acc + np.outer(tot, tot) / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * rowsum @ rowsum.T) / (n * (n - 3))
    d = np.sqrt(np.diag(acc))
    if np.any(d <= 0):
        raise InvalidDataError("a representation has no variance across stimuli; CKA is undefined")
    return acc / np.outer(d, d)


def compare_representations(responses: Any, metric: str = "cka", *, by: str | None = None,
                            memory_budget: int = DEFAULT_MEMORY_BUDGET, dtype: Any = np.float64,
                            device: Any = None, **options: Any) -> xr.DataArray:
    """All pairs of representations under one metric.

    Parameters
    ----------
    responses : a responses DataArray (with ``by`` a unit coordinate, e.g. "layer"), or a list /
        dict of them (all on the same stimulus ids; reordered to the first).
    metric : a name in ``REPR_METRICS`` ("cka", "procrustes", "angular", "cca", "svcca", "pwcca",
        "mutual_knn").
    options : metric options (``kernel``, ``unbiased``, ``keep``, ``k``, ...).

    Returns
    -------
    DataArray (rep_a, rep_b), attrs ``metric``, ``kind`` ("similarity" or "distance"),
    provenance. Linear CKA uses :func:`linear_cka_matrix`; Procrustes/angular compute each
    basis once and an r x r SVD per pair; mutual k-NN computes neighbour sets once.
    """
    fn = REPR_METRICS.get(metric)
    items = as_named_list(responses, "responses")
    reps: list[tuple[str, np.ndarray]] = []
    ids0 = None
    for nm, da in items:
        if isinstance(da, xr.DataArray) and "stimulus" in da.dims:
            ids = [str(s) for s in da["stimulus"].values]
            if ids0 is None:
                ids0 = ids
            elif ids != ids0:
                check_same_stimuli(ids0, ids, names=(items[0][0], nm), order=False)
                da = da.sel(stimulus=np.asarray(ids0, dtype=object))
            if by is not None:
                from .rdm import _groups

                prefix = "" if len(items) == 1 else f"{nm}/"
                reps.extend((prefix + g, _as_matrix(da.isel(unit=idx), g)) for g, idx in _groups(da, by))
                continue
        reps.append((nm, _as_matrix(da, nm)))
    names = [nm for nm, _ in reps]
    mats = [m for _, m in reps]
    r_ = len(mats)
    if metric == "cka" and options.get("kernel", "linear") == "linear":
        out = linear_cka_matrix(mats, unbiased=options.get("unbiased", False), dtype=dtype,
                                memory_budget=memory_budget, device=device)
    elif metric in ("procrustes", "angular"):
        bases = [_normalized_basis(m) for m in mats]
        nuc = np.eye(r_)
        for i in range(r_):
            for j in range(i + 1, r_):
                nuc[i, j] = nuc[j, i] = min(1.0, _nuclear(bases[i], bases[j]))
        out = np.arccos(np.clip(nuc, -1, 1)) if metric == "angular" else np.sqrt(np.maximum(0, 2 - 2 * nuc))
        np.fill_diagonal(out, 0.0)
    elif metric == "mutual_knn":
        k = options.get("k", 10)
        sets = np.stack([_knn_sets(m, k).ravel() for m in mats]).astype(np.float32)
        out = (sets @ sets.T).astype(np.float64) / (len(mats[0]) * k)
    else:
        out = np.array([[fn(a, b, **options) for b in mats] for a in mats])
    prov = make_provenance("similarity.compare_representations",
                           {"metric": metric, "by": by, "dtype": np.dtype(dtype).name, **options},
                           inputs={nm: input_hash(da) for nm, da in items})
    return xr.DataArray(out, dims=("rep_a", "rep_b"), coords={"rep_a": names, "rep_b": names},
                        name=metric, attrs={"metric": metric, "kind": REPR_METRICS.meta(metric)["kind"],
                                            "provenance": dumps(prov)})


# ------------------------------------------------------------------ RDM transforms
def geotopological(rdms: xr.DataArray, lower: float = 0.1, upper: float = 0.9, *,
                   per_rdm: bool = True) -> xr.DataArray:
    """Geo-topological transform of RDMs (Lin & Kriegeskorte 2023).

    Dissimilarities below the ``lower`` quantile become 0, above the ``upper`` quantile 1, and are
    rescaled linearly in between. ``per_rdm=False`` takes the quantiles over the whole stack
    (rsatoolbox ``geotopological_transform``; note that rsatoolbox applies its "above the upper
    quantile -> 1" step to the already rescaled values, so it also sets rescaled values above the
    upper threshold to 1; we follow the paper's definition). Invariant to increasing affine maps
    ``a D + b`` of an RDM; under any strictly increasing map the pairs set to 0 and to 1 are the
    same (only ranks decide them).
    """
    from ._util import as_rdm_stack, condensed_vectors

    if not 0 <= lower < upper <= 1:
        raise InvalidDataError(f"need 0 <= lower < upper <= 1; got {lower}, {upper}")
    rdms = as_rdm_stack(rdms)
    v = condensed_vectors(rdms)
    lo = np.quantile(v, lower, axis=1 if per_rdm else None, keepdims=per_rdm)
    hi = np.quantile(v, upper, axis=1 if per_rdm else None, keepdims=per_rdm)
    out = np.clip((v - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)
    return _rebuild(rdms, out, f"geo-topological({lower}, {upper}) of {rdms.attrs.get('dissimilarity', '?')}")


def geodesic(rdms: xr.DataArray, lower: float = 0.0, upper: float = 0.9) -> xr.DataArray:
    """Geodesic RDMs: shortest-path distances over the graph of geo-topologically transformed
    dissimilarities, without the edges at 1 (the "far" pairs); pairs left unconnected get the
    largest finite path length, and the result is scaled to [0, 1]."""
    from scipy.sparse.csgraph import shortest_path
    from scipy.spatial.distance import squareform

    gt = geotopological(rdms, lower, upper)
    mats = []
    for m in np.asarray(gt.values):
        w = m.copy()
        w[w >= 1.0] = 0.0  # csgraph: 0 = no edge
        w[(m < 1.0) & (m <= 0)] = 1e-12  # keep zero-length edges
        np.fill_diagonal(w, 0.0)
        d = shortest_path(w, directed=False)
        finite = np.isfinite(d)
        d[~finite] = d[finite].max() if finite.any() else 1.0
        mx = d.max()
        mats.append(squareform(d / mx if mx > 0 else d, checks=False))
    return _rebuild(rdms, np.array(mats), f"geodesic of {gt.attrs.get('dissimilarity', '?')}")


def _rebuild(rdms: xr.DataArray, vectors: np.ndarray, what: str) -> xr.DataArray:
    from ..responses import make_rdms

    coords = {k: rdms[k].values for k in rdms.coords if k != "rdm" and rdms[k].dims == ("rdm",)}
    scoords = {k: rdms[k].values for k in rdms.coords if k != "stimulus" and rdms[k].dims == ("stimulus",)}
    return make_rdms(vectors, [str(s) for s in rdms["stimulus"].values], [str(s) for s in rdms["rdm"].values],
                     rdm_coords=coords, stimulus_coords=scoords, dissimilarity=what, check=False)
