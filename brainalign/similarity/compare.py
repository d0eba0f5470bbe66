"""Comparing RDMs: all pairs of two stacks in one vectorised pass.

Each RDM is reduced to its upper triangle (``pdist`` order), transformed once (ranked, centred,
normalised or whitened), and all pairs come from one matrix product. Conventions:

=====================  =============================================================================
``"pearson"``          Pearson r of the dissimilarities (= :func:`scipy.stats.pearsonr`)
``"spearman"``         Pearson r of average ranks (= :func:`scipy.stats.spearmanr`, tie-corrected)
``"rho_a"``            Spearman rho under random tie breaking, ``12 <r_a, r_b> / (m^3 - m)`` with
                       centred average ranks over ``m`` pairs (rsatoolbox ``rho-a``); smaller than
                       ``"spearman"`` when an RDM has ties, so tied model RDMs are not rewarded
``"kendall_a"``        Kendall tau-a, ``(concordant - discordant) / (m (m - 1) / 2)`` (no tie
                       correction; rsatoolbox ``tau-a``); per pair O(m log m), ranks computed once
``"kendall_b"``        Kendall tau-b (= :func:`scipy.stats.kendalltau`)
``"cosine"``           cosine of the dissimilarity vectors (no centring)
``"whitened_cosine"``  cosine after whitening by the covariance of distance estimates under i.i.d.
                       noise (Diedrichsen et al. 2021; rsatoolbox ``cosine_cov``); equal to the
                       Frobenius cosine of the double-centred second moments ``G = -H D H / 2``
``"whitened_pearson"`` the same after subtracting each vector's mean (rsatoolbox ``corr_cov``)
=====================  =============================================================================

Aliases: ``"corr"`` -> pearson, ``"rho-a"`` -> rho_a, ``"tau-a"`` -> kendall_a,
``"tau-b"``/``"kendall"`` -> kendall_b, ``"cosine_cov"`` -> whitened_cosine, ``"corr_cov"`` ->
whitened_pearson.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import make_provenance
from ..registry import Registry
from ._util import as_rdm_stack, condensed_vectors, input_hash, matmul_t, rank_rows, reorder_like


@dataclass(frozen=True)
class CompareMethod:
    """How a comparison works: a per-RDM transform, then either one product or a per-pair kernel.

    ``prepare(vectors, n_stim)`` maps (n_rdm, m) condensed vectors to rows whose inner products
    are the similarities (times ``scale(m)``); ``pairwise`` replaces the product when the measure
    is not an inner product (Kendall's tau).
    """

    name: str
    prepare: Callable[[np.ndarray, int], np.ndarray]
    pairwise: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    description: str = ""
    rsatoolbox: str | None = None


COMPARE_METHODS: Registry[CompareMethod] = Registry("rdm comparison")
ALIASES = {"corr": "pearson", "correlation": "pearson", "rho-a": "rho_a", "tau-a": "kendall_a",
           "tau_a": "kendall_a", "tau-b": "kendall_b", "kendall": "kendall_b",
           "cosine_cov": "whitened_cosine", "corr_cov": "whitened_pearson"}


def resolve_method(method: str) -> CompareMethod:
    return COMPARE_METHODS.get(ALIASES.get(method, method))


def _unit_rows(v: np.ndarray, what: str) -> np.ndarray:
    norm = np.sqrt(np.einsum("ij,ij->i", v, v))
    if np.any(norm == 0):
        raise InvalidDataError(
            f"{what} is undefined for a constant RDM (rows {np.flatnonzero(norm == 0).tolist()[:8]} of "
            "the stack have no variance); drop it or use method='kendall_a'/'rho_a'")
    return v / norm[:, None]


def _prep_pearson(v: np.ndarray, n: int) -> np.ndarray:
    return _unit_rows(v - v.mean(axis=1, keepdims=True), "pearson r")


def prepare_ranks(r: np.ndarray, method: str) -> np.ndarray:
    """Prepared rows of "spearman" or "rho_a" from average ranks ``r`` (n_rdm, m)."""
    c = r - r.mean(axis=1, keepdims=True)
    if method == "spearman":
        return _unit_rows(c, "spearman rho")
    m = r.shape[1]
    return c * np.sqrt(12.0 / (m**3 - m))


def _prep_spearman(v: np.ndarray, n: int) -> np.ndarray:
    return prepare_ranks(rank_rows(v), "spearman")


def _prep_rho_a(v: np.ndarray, n: int) -> np.ndarray:
    return prepare_ranks(rank_rows(v), "rho_a")


def _prep_cosine(v: np.ndarray, n: int) -> np.ndarray:
    return _unit_rows(v.copy(), "cosine")


def second_moments(v: np.ndarray, n: int) -> np.ndarray:
    """Double-centred second moments ``G = -H D H / 2`` of condensed RDMs, shape (n_rdm, n, n)."""
    iu = np.triu_indices(n, k=1)
    d = np.zeros((len(v), n, n))
    d[:, iu[0], iu[1]] = v
    d += d.transpose(0, 2, 1)
    d -= d.mean(axis=1, keepdims=True)
    d -= d.mean(axis=2, keepdims=True)
    return -0.5 * d


def _prep_wcos(v: np.ndarray, n: int) -> np.ndarray:
    return _unit_rows(second_moments(v, n).reshape(len(v), -1), "whitened cosine")


def _prep_wpearson(v: np.ndarray, n: int) -> np.ndarray:
    return _prep_wcos(v - v.mean(axis=1, keepdims=True), n)


def tau_a_pairs(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """Kendall tau-a for all pairs of rows (ranked vectors), shape (len(ra), len(rb))."""
    from scipy.stats import kendalltau

    m = ra.shape[1]
    tot = m * (m - 1) / 2

    def ties(r: np.ndarray) -> np.ndarray:
        out = np.empty(len(r))
        for i, row in enumerate(r):
            _, cnt = np.unique(row, return_counts=True)
            out[i] = float((cnt * (cnt - 1) // 2).sum())
        return out

    ta, tb = ties(ra), ties(rb)
    out = np.zeros((len(ra), len(rb)))
    for i in range(len(ra)):
        for j in range(len(rb)):
            if ta[i] == tot or tb[j] == tot:
                continue  # a constant vector: no concordant or discordant pairs
            tau_b = kendalltau(ra[i], rb[j], variant="b").statistic
            out[i, j] = tau_b * np.sqrt((tot - ta[i]) * (tot - tb[j])) / tot
    return np.clip(out, -1.0, 1.0)


def tau_b_pairs(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    from scipy.stats import kendalltau

    return np.array([[kendalltau(x, y, variant="b").statistic for y in rb] for x in ra])


for _m in (
    CompareMethod("pearson", _prep_pearson, description="Pearson r of dissimilarities", rsatoolbox="corr"),
    CompareMethod("spearman", _prep_spearman, description="Spearman rho (average ranks, tie-corrected)",
                  rsatoolbox="spearman"),
    CompareMethod("rho_a", _prep_rho_a, description="Spearman rho-a (expected rho under random tie breaking)",
                  rsatoolbox="rho-a"),
    CompareMethod("cosine", _prep_cosine, description="cosine of dissimilarity vectors", rsatoolbox="cosine"),
    CompareMethod("whitened_cosine", _prep_wcos, description="whitened (cov-weighted) cosine",
                  rsatoolbox="cosine_cov"),
    CompareMethod("whitened_pearson", _prep_wpearson, description="whitened (cov-weighted) Pearson r",
                  rsatoolbox="corr_cov"),
    CompareMethod("kendall_a", lambda v, n: rank_rows(v), tau_a_pairs,
                  description="Kendall tau-a", rsatoolbox="tau-a"),
    CompareMethod("kendall_b", lambda v, n: rank_rows(v), tau_b_pairs,
                  description="Kendall tau-b (scipy)", rsatoolbox="kendall"),
):
    COMPARE_METHODS.register(_m.name, description=_m.description, rsatoolbox=_m.rsatoolbox)(_m)


def prepare(vectors: np.ndarray, method: str | CompareMethod, n_stim: int) -> np.ndarray:
    """Transform condensed RDM vectors (n_rdm, m) once for ``method`` (ranks, centring, whitening)."""
    m = method if isinstance(method, CompareMethod) else resolve_method(method)
    return m.prepare(np.asarray(vectors, dtype=np.float64), n_stim)


def pair_products(pa: np.ndarray, pb: np.ndarray, method: str | CompareMethod, *,
                  device: Any = None) -> np.ndarray:
    """All-pairs similarities of prepared vectors, shape (len(pa), len(pb))."""
    m = method if isinstance(method, CompareMethod) else resolve_method(method)
    if m.pairwise is not None:
        return m.pairwise(pa, pb)
    return matmul_t(pa, pb, device=device)


def compare_vectors(va: np.ndarray, vb: np.ndarray, method: str = "spearman", *, n_stim: int | None = None,
                    device: Any = None) -> np.ndarray:
    """All-pairs similarities of condensed RDM vectors (no labels), shape (n_a, n_b).

    Parameters
    ----------
    va, vb : arrays, shape (n_a, m) and (n_b, m), ``m = n_stim (n_stim - 1) / 2``, pdist order.
    """
    va = np.atleast_2d(np.asarray(va, dtype=np.float64))
    vb = np.atleast_2d(np.asarray(vb, dtype=np.float64))
    if va.shape[1] != vb.shape[1]:
        raise InvalidDataError(f"RDM vectors differ in length: {va.shape[1]} vs {vb.shape[1]}")
    if n_stim is None:
        n_stim = int(round((1 + np.sqrt(1 + 8 * va.shape[1])) / 2))
    m = resolve_method(method)
    return pair_products(prepare(va, m, n_stim), prepare(vb, m, n_stim), m, device=device)


def _rdm_coords(da: xr.DataArray, suffix: str, other: xr.DataArray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in da.coords:
        if k == "rdm" or da[k].dims != ("rdm",):
            continue
        clash = k in other.coords or k in ("rdm_a", "rdm_b")
        out[f"{k}_{suffix}" if clash else k] = (f"rdm_{suffix}", np.asarray(da[k].values))
    return out


def compare_rdms(a: xr.DataArray, b: xr.DataArray | None = None, method: str = "spearman", *,
                 device: Any = None) -> xr.DataArray:
    """Similarity of every RDM in ``a`` with every RDM in ``b``.

    Parameters
    ----------
    a, b : RDM stacks (dims "rdm", "stimulus", "stimulus2"; a single 2-D RDM is also accepted).
        ``b`` defaults to ``a``. Stimulus ids must be the same set; ``b`` is reordered to ``a``.
    method : see the module docstring ("spearman", "pearson", "kendall_a", "rho_a", "cosine",
        "whitened_cosine", "whitened_pearson", "kendall_b", or an rsatoolbox alias).
    device : None (numpy) or a torch device for the product.

    Returns
    -------
    DataArray, shape (n_rdm_a, n_rdm_b), dims ("rdm_a", "rdm_b") holding the RDM names; other
    per-RDM coordinates are carried along (suffixed ``_a``/``_b`` where the names clash).
    ``attrs``: ``method``, ``description``, provenance.
    """
    m = resolve_method(method)
    a = as_rdm_stack(a, "a")
    b = a if b is None else as_rdm_stack(b, "b")
    ids = [str(s) for s in a["stimulus"].values]
    b = reorder_like(ids, b, ("a", "b"))
    n = len(ids)
    sim = pair_products(prepare(condensed_vectors(a), m, n), prepare(condensed_vectors(b), m, n), m,
                        device=device)
    coords: dict[str, Any] = {"rdm_a": np.asarray(a["rdm"].values), "rdm_b": np.asarray(b["rdm"].values)}
    coords.update(_rdm_coords(a, "a", b))
    coords.update(_rdm_coords(b, "b", a))
    prov = make_provenance("similarity.compare_rdms", {"method": m.name},
                           inputs={"a": input_hash(a), "b": input_hash(b)})
    from ..provenance import dumps

    return xr.DataArray(sim, dims=("rdm_a", "rdm_b"), coords=coords, name=f"rdm_{m.name}",
                        attrs={"method": m.name, "description": m.description,
                               "provenance": dumps(prov)})
