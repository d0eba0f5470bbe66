"""Statistics for RSA: seeded bootstrap over stimuli, subjects or both; permutation tests; paired
tests (model vs model, model vs noise ceiling); false discovery rate.

**Bootstrap over stimuli** follows rsatoolbox's ``eval_bootstrap_pattern`` exactly: a sample draws
``n_stim`` stimuli with replacement, keeps every pair of *distinct* drawn stimuli as often as it
occurs (``c_i * c_j`` times for counts ``c``) and drops pairs of a stimulus with its own copy. We
never build the expanded RDMs: each pair carries the weight ``c_i c_j`` and every comparison is its
weighted form, which is algebraically identical (Spearman: the weighted average rank of a value is
its rank in the expanded vector). The sort order of every RDM is computed once, so a sample costs a
few passes over the RDM vectors plus one matrix product. Samples with fewer than 3 distinct
stimuli are NaN (as in rsatoolbox).

**Bootstrap over subjects** draws subjects with replacement; the score is the mean over the drawn
subjects, the ceiling uses each distinct drawn subject once as the left-out subject and pools the
others with their multiplicities (rsatoolbox ``eval_bootstrap_rdm``). **both** does both at once.

Scores follow the noise-ceiling ``convention``: "mean_r" (mean correlation over subjects) or
"mean_r2" (mean squared correlation), see :mod:`brainalign.similarity.ceiling`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import dumps, make_provenance
from ._util import as_rdm_stack, condensed_vectors, input_hash, reorder_like
from .ceiling import PRESETS, pooling_transform, resolve_convention
from .compare import CompareMethod, prepare, resolve_method

WEIGHTED_METHODS = ("pearson", "spearman", "rho_a", "cosine")


# ------------------------------------------------------------------ weighted comparisons
def weighted_ranks(v: np.ndarray, w: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Average ranks of the expanded vectors (each entry repeated ``w`` times), shape of ``v``.

    ``order`` is the argsort of each row (computed if None). Entries with weight 0 get an
    arbitrary value (they carry no weight anywhere).
    """
    if order is None:
        order = np.argsort(v, axis=1)
    r, _ = v.shape
    vs = np.take_along_axis(v, order, axis=1)
    new = np.ones(vs.shape, dtype=bool)
    new[:, 1:] = vs[:, 1:] != vs[:, :-1]
    group = np.cumsum(new, axis=1) - 1  # tie group of each sorted position
    n_groups = group[:, -1] + 1
    ws = w[order]  # (R, m) weights in sorted order
    offs = np.concatenate([[0], np.cumsum(n_groups)[:-1]])
    gid = group + offs[:, None]
    gsum = np.bincount(gid.ravel(), weights=ws.ravel(), minlength=int(n_groups.sum()))
    cum = np.cumsum(gsum)
    row_start = np.concatenate([[0.0], cum[offs[1:] - 1]]) if r > 1 else np.zeros(1)
    before = cum - gsum - np.repeat(row_start, n_groups)
    grank = before + (gsum + 1.0) / 2.0
    out = np.empty_like(v)
    np.put_along_axis(out, order, grank[gid], axis=1)
    return out


def _weighted_unit(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = np.sqrt(w)
    u = c * sw
    norm = np.sqrt(np.einsum("ij,ij->i", u, u))
    with np.errstate(invalid="ignore", divide="ignore"):
        return u / norm[:, None]


def weighted_prepare(v: np.ndarray, w: np.ndarray, m: CompareMethod,
                     order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose inner products are the weighted similarities, and the pooling transform.

    Returns (prepared (R, m), pool_input (R, m)): the latter is what rsatoolbox averages to pool
    (ranks for rank methods, raw values otherwise).
    """
    wsum = w.sum()
    if m.name in ("spearman", "rho_a"):
        rk = weighted_ranks(v, w, order)
        c = rk - (rk @ w / wsum)[:, None]
        if m.name == "spearman":
            return _weighted_unit(c, w), rk
        return c * np.sqrt(w) * np.sqrt(12.0 / (wsum**3 - wsum)), rk
    if m.name == "pearson":
        return _weighted_unit(v - (v @ w / wsum)[:, None], w), v
    if m.name == "cosine":
        return _weighted_unit(v, w), v
    raise InvalidDataError(
        f"stimulus bootstrap supports methods {WEIGHTED_METHODS}; got {m.name!r}. Use "
        "over='subjects' for other comparisons")


def _weighted_pool_transform(p: np.ndarray, w: np.ndarray, m: CompareMethod, pool: str) -> np.ndarray:
    """Pooling transform of (R, m) rows under pair weights (rank methods: p are already ranks)."""
    if pool == "mean" or m.name in ("spearman", "rho_a"):
        return p
    wsum = w.sum()
    if m.name == "pearson":
        c = p - (p @ w / wsum)[:, None]
        return c / np.sqrt((c**2) @ w / wsum)[:, None]
    if m.name == "cosine":
        return p / np.sqrt((p**2) @ w / wsum)[:, None]
    return pooling_transform(p, m, pool)


def _convention(x: np.ndarray, convention: str) -> np.ndarray:
    return x**2 if convention == "mean_r2" else x


def _evaluate_sample(pm: np.ndarray, ps: np.ndarray, pool_in: np.ndarray, w: np.ndarray,
                     k: np.ndarray, m: CompareMethod, convention: str, pool: str,
                     ceiling: bool) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Scores (n_model,), per-subject sims (n_model, n_subj), lower, upper for one sample.

    pm, ps : prepared model / subject rows under weights ``w``; pool_in : subject rows to pool;
    k : subject multiplicities (0 = not drawn).
    """
    sims = pm @ ps.T
    f = _convention(sims, convention)
    scores = f @ k / k.sum()
    lo = up = np.nan
    if ceiling:
        t = _weighted_pool_transform(pool_in, w, m, pool)
        total = k @ t
        ksum = k.sum()
        drawn = np.flatnonzero(k)
        if len(drawn) >= 2:
            preds = np.vstack([total / ksum] + [(total - k[u] * t[u]) / (ksum - k[u]) for u in drawn])
            pp, _ = weighted_prepare(preds, w, m)
            up_s = pp[0] @ ps[drawn].T
            lo_s = np.einsum("ij,ij->i", pp[1:], ps[drawn])
            up = float(_convention(up_s, convention).mean())
            lo = float(_convention(lo_s, convention).mean())
    return scores, sims, lo, up


def pair_weights(idx: np.ndarray, n: int) -> np.ndarray:
    """Weights ``c_i c_j`` of every stimulus pair (pdist order) for a resample ``idx`` of ``n``."""
    c = np.bincount(idx, minlength=n).astype(np.float64)
    iu = np.triu_indices(n, k=1)
    return c[iu[0]] * c[iu[1]]


# ------------------------------------------------------------------ rank bootstrap
@dataclass
class _RankRows:
    """Sort structure of RDM vectors (R, m), built once for all bootstrap samples.

    For a sample with integer pair weights ``w``, the weighted average rank of entry ``p`` is
    ``(C[lo_p] + C[hi_p] + 1) / 2`` with ``C`` the running sum of ``w`` in sorted order (``C[0] =
    0``) and ``[lo_p, hi_p)`` the sorted positions of ``p``'s tie group. ``lo``/``hi`` are stored
    in pair order as flat indices into the (R, m + 1) running sums.
    """

    order: np.ndarray  # (R, m) argsort of each row
    lo: np.ndarray  # (R, m) flat index (into the running sums) of the start of each tie group
    tie_rows: np.ndarray  # rows with ties
    hi: np.ndarray  # (len(tie_rows), m) flat index of the end of each tie group (exclusive)
    ranks: np.ndarray  # (R, m) unweighted average ranks

    @classmethod
    def build(cls, v: np.ndarray) -> _RankRows:
        from ._util import tie_groups

        order = np.argsort(v, axis=1)
        r, m = v.shape
        lo = np.empty((r, m), dtype=np.intp)
        ranks = np.empty((r, m))
        ar = np.arange(m)
        tie_rows, his = [], []
        for i in range(r):
            o = order[i]
            g = tie_groups(v[i, o])
            off = i * (m + 1)
            if g is None:
                lo[i, o] = ar + off
                ranks[i, o] = ar + 1.0
            else:
                starts, ends = g
                size = ends - starts
                lo[i, o] = np.repeat(starts, size) + off
                ranks[i, o] = np.repeat((starts + ends + 1) / 2.0, size)
                h = np.empty(m, dtype=np.intp)
                h[o] = np.repeat(ends, size) + off
                tie_rows.append(i)
                his.append(h)
        hi = np.array(his) if his else np.empty((0, m), dtype=np.intp)
        return cls(order, lo, np.array(tie_rows, dtype=np.intp), hi, ranks)

    def weighted2(self, w: np.ndarray, nz: np.ndarray) -> np.ndarray:
        """Twice the weighted average ranks at the entries ``nz``, (R, len(nz)), exact integers.

        ``w`` : (m,) integer pair weights of the sample (int32 or int64).
        """
        r, m = self.order.shape
        cs = np.zeros((r, m + 1), dtype=w.dtype)
        np.cumsum(np.take(w, self.order), axis=1, out=cs[:, 1:])
        flat = cs.ravel()
        before = np.take(flat, np.take(self.lo, nz, axis=1), mode="clip")
        out = before * 2  # without ties: before + after + 1 = 2 before + w + 1
        out += np.take(w, nz) + 1
        if len(self.tie_rows):
            after = np.take(flat, np.take(self.hi, nz, axis=1), mode="clip")
            out[self.tie_rows] = before[self.tie_rows] + after + 1
        return out


def _sorted_weighted_ranks2(keys: np.ndarray, w: np.ndarray, integral: bool) -> np.ndarray:
    """Twice the weighted average ranks of the rows of ``keys`` (r, q) under weights ``w`` (q,).

    ``integral``: keys are exact integers, so the sort order comes from one value sort of
    (key, position) packed in int64 (several times faster than an argsort).
    """
    r, q = keys.shape
    bits = max(1, int(q - 1).bit_length())
    kmax = float(np.abs(keys).max()) if keys.size else 0.0
    if integral and (2 * kmax + 2) * 2.0**bits < 2.0**62:
        k = keys.astype(np.int64, copy=True)
        k += int(kmax) + 1  # non-negative
        k <<= bits
        k |= np.arange(q, dtype=np.int64)
        k.sort(axis=1)
        order = k & ((1 << bits) - 1)
        k >>= bits
        ks = k
    else:
        order = np.argsort(keys, axis=1)
        ks = keys[np.arange(r)[:, None], order]
    cs = np.zeros((r, q + 1), dtype=w.dtype)
    np.cumsum(np.take(w, order), axis=1, out=cs[:, 1:])
    rk2 = cs[:, 1:] + cs[:, :-1]  # before + after, assuming no ties
    rk2 += 1
    tie = ks[:, 1:] == ks[:, :-1]
    if tie.any():  # give every member of a tie group the group's before + after
        mem = np.zeros((r, q), dtype=bool)
        mem[:, :-1] = tie
        mem[:, 1:] |= tie
        f = np.flatnonzero(mem)  # sorted positions in a tie group (flat, r x q)
        is_start = np.ones(len(f), dtype=bool)
        is_start[1:] = ~tie.ravel()[f[1:] - f[1:] // q - 1] | (f[1:] % q == 0)
        first = np.flatnonzero(is_start)
        size = np.diff(np.append(first, len(f)))
        row = f[first] // q
        lo = f[first] + row  # flat index into cs (r x (q + 1)) of the group start
        hi = f[first + size - 1] + row + 1
        csf = cs.ravel()
        rk2.ravel()[f] = np.repeat(csf[lo] + csf[hi] + 1, size)
    out = np.empty((r, q), dtype=rk2.dtype)
    out.ravel()[(order + (np.arange(r) * q)[:, None]).ravel()] = rk2.ravel()
    return out


def _prep_rank2(rk2: np.ndarray, w: np.ndarray, method: str) -> np.ndarray:
    """Prepared rows (spearman: unit under the weights; rho_a: scaled) from doubled ranks."""
    wsum = float(w.sum())
    c = np.subtract(rk2, wsum + 1.0, dtype=np.float64)
    c *= 0.5 * np.sqrt(w)  # centred weighted ranks (mean rank (wsum + 1) / 2, exactly)
    if method == "spearman":
        with np.errstate(invalid="ignore", divide="ignore"):
            c /= np.sqrt(np.einsum("ij,ij->i", c, c))[:, None]
    else:
        c *= np.sqrt(12.0 / (wsum**3 - wsum))
    return c


def _rank_bootstrap(vs: np.ndarray, cache: _RankRows, n: int, stim_idx: np.ndarray,
                    subj_idx: np.ndarray | None, m: CompareMethod, convention: str, pool: str,
                    ceiling: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stimulus (or stimulus and subject) bootstrap of a rank method ("spearman", "rho_a").

    Same values as resampling the RDMs (rsatoolbox ``eval_bootstrap_pattern``): a sample weighs
    the pair of distinct drawn stimuli ``i, j`` by ``c_i c_j``. Weighted ranks are exact
    (half-)integers, read off the running sums of the weights in each RDM's sort order (built
    once); the pooled ceiling RDMs of a sample are ranked by one packed integer sort.
    """
    n_subj = len(vs)
    n_model = cache.order.shape[0] - n_subj
    n_boot = len(stim_idx)
    boot = np.full((n_boot, n_model), np.nan)
    blo = np.full(n_boot, np.nan)
    bup = np.full(n_boot, np.nan)
    iu0, iu1 = np.triu_indices(n, k=1)
    wdt = np.int32 if n * n < 2**30 else np.int64
    rank_pool = pool == "optimal"
    for b in range(n_boot):
        c = np.bincount(stim_idx[b], minlength=n).astype(wdt)
        if np.count_nonzero(c) < 3:
            continue
        k = np.ones(n_subj) if subj_idx is None else np.bincount(subj_idx[b], minlength=n_subj).astype(float)
        w = c[iu0] * c[iu1]  # pair weights; zero for pairs with an undrawn stimulus
        nz = np.flatnonzero(w)
        wn = w[nz]
        rk2 = cache.weighted2(w, nz)  # (n_model + n_subj, nnz): models, then subjects
        p = _prep_rank2(rk2, wn, m.name)
        pm, ps = p[:n_model], p[n_model:]
        sims = pm @ ps.T
        boot[b] = _convention(sims, convention) @ k / k.sum()
        drawn = np.flatnonzero(k)
        if not ceiling or len(drawn) < 2:
            continue
        # what is pooled: the subjects' ranks (exact integers, doubled) or their raw values
        if rank_pool:  # exact in int64
            t = rk2[n_model:].astype(np.int64)
            ki = k.astype(np.int64)
        else:
            t, ki = vs[:, nz], k
        total = ki @ t
        keys = np.empty((1 + len(drawn), len(nz)), dtype=t.dtype)
        keys[0] = total
        np.subtract(total[None, :], ki[drawn, None] * t[drawn], out=keys[1:])
        pp = _prep_rank2(_sorted_weighted_ranks2(keys, wn, integral=rank_pool), wn, m.name)
        psd = ps[drawn]
        bup[b] = _convention(psd @ pp[0], convention).mean()
        blo[b] = _convention(np.einsum("ij,ij->i", pp[1:], psd), convention).mean()
    return boot, blo, bup


# ------------------------------------------------------------------ evaluation + bootstrap
def _stacks(models: xr.DataArray, data: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    data = as_rdm_stack(data, "data")
    models = as_rdm_stack(models, "models")
    models = reorder_like([str(s) for s in data["stimulus"].values], models, ("data", "models"))
    return models, data


def draw_indices(n_boot: int, over: str, n_stim: int, n_subj: int, seed: int | None) -> dict[str, np.ndarray]:
    """Seeded resampling indices: {"stimuli": (n_boot, n_stim), "subjects": (n_boot, n_subj)}."""
    if over not in ("stimuli", "subjects", "both"):
        raise InvalidDataError(f"over must be 'stimuli', 'subjects' or 'both'; got {over!r}")
    rng = np.random.default_rng(seed)
    out = {}
    if over in ("subjects", "both"):
        out["subjects"] = rng.integers(0, n_subj, size=(n_boot, n_subj))
    if over in ("stimuli", "both"):
        out["stimuli"] = rng.integers(0, n_stim, size=(n_boot, n_stim))
    return out


def evaluate(models: xr.DataArray, data: xr.DataArray, method: str = "spearman", *,
             convention: str = "mean_r", over: str | None = "stimuli", n_boot: int = 1000,
             seed: int | None = 0, ceiling: bool = True, pool: str | None = None,
             indices: dict[str, np.ndarray] | None = None, min_subjects: int = 3) -> xr.Dataset:
    """Evaluate model RDMs against subject RDMs, with a seeded bootstrap and noise ceilings.

    Parameters
    ----------
    models : RDM stack, one per model / layer (dims "rdm", "stimulus", "stimulus2").
    data : RDM stack, one per subject, same stimuli (reordered to ``data``).
    method : comparison; the stimulus bootstrap supports "spearman", "pearson", "rho_a",
        "cosine"; the subject bootstrap every method.
    convention : "mean_r" or "mean_r2", or a tool preset "rsatoolbox" / "net2brain" (see
        :func:`noise_ceiling`); ``pool`` as there.
    over : "stimuli", "subjects", "both", or None (point estimates only).
    n_boot, seed : number of samples and the seed of :func:`numpy.random.default_rng`.
    indices : resampling indices to use instead of drawing them: {"stimuli": (n_boot, n_stim),
        "subjects": (n_boot, n_subj)} (e.g. to reproduce another tool's samples).
    ceiling : also compute the noise ceiling (point and per sample).

    Returns
    -------
    xarray.Dataset with
        ``score`` (model): mean over subjects of r (or r^2); ``per_subject`` (model, subject);
        ``ceiling_lower``, ``ceiling_upper`` (scalars); ``ceiling_lower_per_subject`` (subject);
        ``boot_score`` (boot, model), ``boot_ceiling_lower``/``boot_ceiling_upper`` (boot);
        ``percent_of_lower``/``percent_of_upper`` (model): 100 * score / bound (what Net2Brain
        prints as "%R2" under the "net2brain" preset); ``sem`` (model): bootstrap standard
        deviation; attrs ``method``, ``convention``, ``over``,
        ``seed``, ``n_boot``, provenance. Use :func:`confidence_interval` and :func:`paired_test`.
    """
    m = resolve_method(method)
    preset = convention if convention in PRESETS else None
    convention, pool = resolve_convention(convention, pool)
    models, data = _stacks(models, data)
    n = data.sizes["stimulus"]
    n_subj = data.sizes["rdm"]
    if ceiling and n_subj < max(2, min_subjects):
        raise InvalidDataError(
            f"a noise ceiling needs at least {max(2, min_subjects)} subject RDMs; got {n_subj}. Pass "
            "ceiling=False, or min_subjects=2 to accept a two-subject ceiling")
    vm, vs = condensed_vectors(models), condensed_vectors(data)
    n_model = len(vm)
    k1 = np.ones(n_subj)

    # point estimate (unweighted): exactly compare_rdms + noise_ceiling
    rank_cache = None
    if m.name in ("spearman", "rho_a"):
        from .compare import prepare_ranks

        rank_cache = _RankRows.build(np.vstack([vm, vs]))  # one sort per RDM, reused below
        pm0 = prepare_ranks(rank_cache.ranks[:n_model], m.name)
        ps0 = prepare_ranks(rank_cache.ranks[n_model:], m.name)
    else:
        pm0, ps0 = prepare(vm, m, n), prepare(vs, m, n)
    from .compare import pair_products

    sims0 = pair_products(pm0, ps0, m)
    score0 = _convention(sims0, convention).mean(axis=1)
    lo0 = up0 = np.nan
    lo_s0 = np.full(n_subj, np.nan)
    if ceiling:
        from .ceiling import ceiling_from_vectors

        lo0, up0, lo_s0, _ = ceiling_from_vectors(vs, m, convention, pool, n)

    if over is None:
        idx: dict[str, np.ndarray] = {}
        n_boot = 0
    elif indices is not None:
        idx = {k: np.asarray(v, dtype=np.intp) for k, v in indices.items()}
        n_boot = len(next(iter(idx.values())))
        over = "both" if len(idx) == 2 else ("stimuli" if "stimuli" in idx else "subjects")
    else:
        idx = draw_indices(n_boot, over, n, n_subj, seed)
    boot = np.full((n_boot, n_model), np.nan)
    blo = np.full(n_boot, np.nan)
    bup = np.full(n_boot, np.nan)
    if "stimuli" in idx:
        if m.name not in WEIGHTED_METHODS:
            raise InvalidDataError(
                f"the stimulus bootstrap supports methods {WEIGHTED_METHODS}; got {m.name!r}. "
                "Use over='subjects'")
        if rank_cache is not None:
            boot, blo, bup = _rank_bootstrap(vs, rank_cache, n, idx["stimuli"], idx.get("subjects"), m,
                                             convention, pool, ceiling)
        else:
            iu = np.triu_indices(n, k=1)
            for b in range(n_boot):
                si = idx["stimuli"][b]
                c = np.bincount(si, minlength=n).astype(np.float64)
                if np.count_nonzero(c) < 3:
                    continue
                w = c[iu[0]] * c[iu[1]]
                nz = np.flatnonzero(w)  # pairs of distinct drawn stimuli; the rest weigh nothing
                w = w[nz]
                k = np.bincount(idx["subjects"][b], minlength=n_subj).astype(float) if "subjects" in idx else k1
                pm, _ = weighted_prepare(vm[:, nz], w, m)
                ps, pin = weighted_prepare(vs[:, nz], w, m)
                boot[b], _, blo[b], bup[b] = _evaluate_sample(pm, ps, pin, w, k, m, convention, pool,
                                                               ceiling)
    elif "subjects" in idx:
        f0 = _convention(sims0, convention)
        poolt = pooling_transform(vs, m, pool) if ceiling else None
        for b in range(n_boot):
            k = np.bincount(idx["subjects"][b], minlength=n_subj).astype(float)
            boot[b] = f0 @ k / k.sum()
            if ceiling:
                drawn = np.flatnonzero(k)
                if len(drawn) < 2:
                    continue
                total = k @ poolt
                preds = np.vstack([total / k.sum()] + [(total - k[u] * poolt[u]) / (k.sum() - k[u])
                                                       for u in drawn])
                pp = prepare(preds, m, n)
                if m.pairwise is None:
                    up_s = pp[0] @ ps0[drawn].T
                    lo_s = np.einsum("ij,ij->i", pp[1:], ps0[drawn])
                else:
                    up_s = m.pairwise(pp[:1], ps0[drawn])[0]
                    lo_s = np.array([m.pairwise(pp[i + 1:i + 2], ps0[u:u + 1])[0, 0]
                                     for i, u in enumerate(drawn)])
                bup[b] = _convention(up_s, convention).mean()
                blo[b] = _convention(lo_s, convention).mean()

    mnames = np.asarray(models["rdm"].values)
    snames = np.asarray(data["rdm"].values)
    ds = xr.Dataset(
        {
            "score": ("model", score0),
            "per_subject": (("model", "subject"), sims0),
            "ceiling_lower": ((), lo0),
            "ceiling_upper": ((), up0),
            "ceiling_lower_per_subject": ("subject", np.asarray(lo_s0)),
            "boot_score": (("boot", "model"), boot),
            "boot_ceiling_lower": ("boot", blo),
            "boot_ceiling_upper": ("boot", bup),
        },
        coords={"model": mnames, "subject": snames, "boot": np.arange(n_boot)},
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ds["percent_of_lower"] = 100.0 * ds["score"] / lo0
        ds["percent_of_upper"] = 100.0 * ds["score"] / up0
        ds["sem"] = ("model", np.nanstd(boot, axis=0, ddof=1) if n_boot > 1 else np.full(n_model, np.nan))
    ds["per_subject"].attrs["meaning"] = f"{m.name} r per subject (before the {convention} convention)"
    prov = make_provenance("similarity.evaluate",
                           {"method": m.name, "convention": convention, "over": over, "n_boot": n_boot,
                            "pool": pool, "ceiling": ceiling, "indices_given": indices is not None,
                            "preset": preset},
                           inputs={"models": input_hash(models), "data": input_hash(data)}, seed=seed)
    ds.attrs.update({"method": m.name, "convention": convention, "over": str(over), "n_boot": n_boot,
                     "seed": -1 if seed is None else seed, "pool": pool, "preset": str(preset),
                     "provenance": dumps(prov)})
    return ds


def confidence_interval(result: xr.Dataset, level: float = 0.95, var: str = "boot_score") -> xr.DataArray:
    """Percentile bootstrap interval of ``result[var]`` over ``boot``: dims (bound=[lower, upper], ...)."""
    if result.sizes.get("boot", 0) < 2:
        raise InvalidDataError("the result has no bootstrap samples; run evaluate(..., over=..., n_boot>1)")
    a = (1 - level) / 2
    q = result[var].quantile([a, 1 - a], dim="boot", skipna=True)
    return q.rename(quantile="bound").assign_coords(bound=["lower", "upper"])


# ------------------------------------------------------------------ tests
def _boot_p(d: np.ndarray, alternative: str) -> float:
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return float("nan")
    le = (np.sum(d <= 0) + 1) / (len(d) + 1)
    ge = (np.sum(d >= 0) + 1) / (len(d) + 1)
    if alternative == "greater":
        return float(le)
    if alternative == "less":
        return float(ge)
    return float(min(1.0, 2 * min(le, ge)))


def paired_test(result: xr.Dataset, model_a: str, model_b: str | None = None, *,
                against: str = "model", test: str = "bootstrap",
                alternative: str = "two-sided") -> dict[str, Any]:
    """Paired test of two models, or of a model against the lower noise-ceiling bound.

    Parameters
    ----------
    result : from :func:`evaluate`.
    model_a, model_b : model names; with ``against="ceiling"`` only ``model_a``.
    against : "model" (a vs b) or "ceiling" (a vs the lower bound; a model *below* the ceiling
        has a negative difference).
    test : "bootstrap" (the difference over the same bootstrap samples; p from the share of
        samples on the other side of 0, with the +1 correction), "t" (paired t-test over subjects,
        :func:`scipy.stats.ttest_rel`) or "wilcoxon" (signed-rank over subjects).
    alternative : "two-sided", "greater" (a > b) or "less".

    Returns
    -------
    dict with ``difference`` (point estimate), ``p``, ``test``, ``n`` and the names.
    """
    import scipy.stats as st

    conv = result.attrs.get("convention", "mean_r")
    sa = result["score"].sel(model=model_a)
    if against == "model":
        if model_b is None:
            raise InvalidDataError("paired_test(..., against='model') needs model_b")
        sb = result["score"].sel(model=model_b)
        ba, bb = result["boot_score"].sel(model=model_a), result["boot_score"].sel(model=model_b)
        pa = _convention(result["per_subject"].sel(model=model_a).values, conv)
        pb = _convention(result["per_subject"].sel(model=model_b).values, conv)
        other = model_b
    elif against == "ceiling":
        sb = result["ceiling_lower"]
        ba, bb = result["boot_score"].sel(model=model_a), result["boot_ceiling_lower"]
        pa = _convention(result["per_subject"].sel(model=model_a).values, conv)
        pb = result["ceiling_lower_per_subject"].values
        other = "ceiling_lower"
    else:
        raise InvalidDataError(f"against must be 'model' or 'ceiling'; got {against!r}")
    diff = float(sa - sb)
    if test == "bootstrap":
        if result.sizes.get("boot", 0) < 2:
            raise InvalidDataError("no bootstrap samples in the result; use test='t' or run a bootstrap")
        p = _boot_p((ba - bb).values, alternative)
        n = int(np.isfinite((ba - bb).values).sum())
    elif test == "t":
        p = float(st.ttest_rel(pa, pb, alternative=alternative).pvalue)
        n = len(pa)
    elif test == "wilcoxon":
        p = float(st.wilcoxon(pa, pb, alternative=alternative).pvalue)
        n = len(pa)
    else:
        raise InvalidDataError(f"test must be 'bootstrap', 't' or 'wilcoxon'; got {test!r}")
    return {"a": model_a, "b": other, "difference": diff, "p": p, "test": test,
            "alternative": alternative, "n": n, "convention": conv}


def permutation_test(models: xr.DataArray, data: xr.DataArray, method: str = "spearman", *,
                     n_perm: int = 1000, seed: int | None = 0, convention: str = "mean_r") -> xr.Dataset:
    """Stimulus-label permutation test of each model against the subjects.

    The statistic is the model's score (mean over subjects of r or r^2). Each permutation
    relabels the model RDM's stimuli (rows and columns together). Methods whose per-RDM transform
    commutes with reordering the entries (all but the whitened ones) are transformed once and
    only re-indexed per permutation.

    Returns
    -------
    Dataset with ``score`` (model), ``null`` (perm, model), ``p`` (model; one-sided, greater,
    ``(1 + #null >= score) / (1 + n_perm)``).
    """
    m = resolve_method(method)
    models, data = _stacks(models, data)
    n = data.sizes["stimulus"]
    vm, vs = condensed_vectors(models), condensed_vectors(data)
    ps = prepare(vs, m, n)
    pm = prepare(vm, m, n)
    from .compare import pair_products

    score = _convention(pair_products(pm, ps, m), convention).mean(axis=1)
    rng = np.random.default_rng(seed)
    pos = np.zeros((n, n), dtype=np.intp)
    iu = np.triu_indices(n, k=1)
    pos[iu] = np.arange(len(iu[0]))
    pos = pos + pos.T
    null = np.empty((n_perm, len(vm)))
    entrywise = not m.name.startswith("whitened")
    for i in range(n_perm):
        perm = rng.permutation(n)
        sel = pos[perm[iu[0]], perm[iu[1]]]
        pmp = pm[:, sel] if entrywise else prepare(vm[:, sel], m, n)
        null[i] = _convention(pair_products(pmp, ps, m), convention).mean(axis=1)
    p = (1 + (null >= score[None, :] - 1e-12).sum(axis=0)) / (1 + n_perm)
    prov = make_provenance("similarity.permutation_test", {"method": m.name, "n_perm": n_perm,
                                                          "convention": convention}, seed=seed)
    return xr.Dataset({"score": ("model", score), "null": (("perm", "model"), null), "p": ("model", p)},
                      coords={"model": np.asarray(models["rdm"].values)},
                      attrs={"method": m.name, "convention": convention, "provenance": dumps(prov)})


def fdr(p: Sequence[float] | np.ndarray | xr.DataArray, alpha: float = 0.05,
        method: str = "bh") -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg ("bh") or Benjamini-Yekutieli ("by") false discovery rate.

    Returns
    -------
    (reject, q): boolean array and adjusted p-values (= :func:`scipy.stats.false_discovery_control`),
    same shape as ``p``. NaN p-values stay NaN and are never rejected.
    """
    from ..stats import fdr_qvalues

    q = fdr_qvalues(p, method=method)
    return np.where(np.isfinite(q), q <= alpha, False), q
