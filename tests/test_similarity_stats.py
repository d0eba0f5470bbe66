"""Bootstrap, permutation, paired tests and FDR against rsatoolbox and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

from brainalign.errors import InvalidDataError
from brainalign.responses import make_rdms
from brainalign.similarity import noise_ceiling
from brainalign.similarity.stats import (
    confidence_interval,
    evaluate,
    fdr,
    paired_test,
    permutation_test,
    weighted_ranks,
)


def _data(rng, n=16, n_subj=5, n_model=3, ties=True):
    m = n * (n - 1) // 2
    true = rng.random(m)
    subj = true + 0.7 * rng.random((n_subj, m))
    mods = true + np.linspace(0.3, 3, n_model)[:, None] * rng.random((n_model, m))
    if ties:
        mods[-1] = np.round(mods[-1] * 3)
    ids = [f"s{i}" for i in range(n)]
    return (make_rdms(mods, ids, [f"m{i}" for i in range(n_model)]),
            make_rdms(subj, ids, [f"sub{i}" for i in range(n_subj)]))


@pytest.fixture(autouse=True)
def _restore_global_rng():
    state = np.random.get_state()  # noqa: NPY002 - rsatoolbox uses the legacy global generator
    yield
    np.random.set_state(state)  # noqa: NPY002


def _legacy_indices(seed, n, n_boot):
    """The indices rsatoolbox will draw next, then re-seed so that it draws the same."""
    np.random.seed(seed)  # noqa: NPY002
    idx = np.stack([np.random.randint(0, n, size=n) for _ in range(n_boot)])  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    return idx


def test_weighted_ranks_equal_ranks_of_expanded_vector(rng):
    v = np.round(rng.random((3, 30)) * 5)
    w = rng.integers(0, 4, 30).astype(float)
    out = weighted_ranks(v, w)
    for row, orow in zip(v, out, strict=True):
        expanded = np.repeat(row, w.astype(int))
        ranks = st.rankdata(expanded)
        np.testing.assert_allclose(np.repeat(orow, w.astype(int)), ranks)


@pytest.mark.parametrize("ours,theirs", [("spearman", "spearman"), ("pearson", "corr"),
                                          ("rho_a", "rho-a"), ("cosine", "cosine")])
def test_stimulus_bootstrap_identical_to_rsatoolbox(rng, ours, theirs):
    from rsatoolbox.inference import eval_bootstrap_pattern
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs

    models, data = _data(rng)
    n, n_boot = data.sizes["stimulus"], 8
    idx = _legacy_indices(11, n, n_boot)  # rsatoolbox draws these from numpy's global generator
    ref = eval_bootstrap_pattern(
        [ModelFixed(str(i), RDMs(models.values[i][None])) for i in range(models.sizes["rdm"])],
        RDMs(data.values), method=theirs, N=n_boot)
    res = evaluate(models, data, ours, indices={"stimuli": idx})
    np.testing.assert_allclose(res["boot_score"].values, ref.evaluations, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(res["boot_ceiling_lower"].values, ref.noise_ceiling[0], atol=1e-13)
    np.testing.assert_allclose(res["boot_ceiling_upper"].values, ref.noise_ceiling[1], atol=1e-13)


def test_subject_bootstrap_identical_to_rsatoolbox(rng):
    from rsatoolbox.inference import eval_bootstrap_rdm
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs

    models, data = _data(rng)
    s, n_boot = data.sizes["rdm"], 8
    idx = _legacy_indices(5, s, n_boot)
    ref = eval_bootstrap_rdm(
        [ModelFixed(str(i), RDMs(models.values[i][None])) for i in range(models.sizes["rdm"])],
        RDMs(data.values), method="spearman", N=n_boot)
    res = evaluate(models, data, "spearman", indices={"subjects": idx})
    np.testing.assert_allclose(res["boot_score"].values, ref.evaluations, atol=1e-13)
    np.testing.assert_allclose(res["boot_ceiling_lower"].values, ref.noise_ceiling[0], atol=1e-13)
    np.testing.assert_allclose(res["boot_ceiling_upper"].values, ref.noise_ceiling[1], atol=1e-13)


def test_evaluate_point_estimates_and_seed(rng):
    from brainalign.similarity import compare_rdms

    models, data = _data(rng)
    res = evaluate(models, data, "spearman", over="both", n_boot=30, seed=3)
    np.testing.assert_allclose(res["per_subject"].values, compare_rdms(models, data).values)
    lo, up = noise_ceiling(data, "spearman")
    assert res["ceiling_lower"] == pytest.approx(lo) and res["ceiling_upper"] == pytest.approx(up)
    again = evaluate(models, data, "spearman", over="both", n_boot=30, seed=3)
    np.testing.assert_array_equal(res["boot_score"].values, again["boot_score"].values)
    other = evaluate(models, data, "spearman", over="both", n_boot=30, seed=4)
    assert not np.allclose(res["boot_score"].values, other["boot_score"].values)
    ci = confidence_interval(res)
    assert (ci.sel(bound="lower") <= res["score"] + 0.05).all()
    r2 = evaluate(models, data, "spearman", convention="mean_r2", over=None)
    np.testing.assert_allclose(r2["score"].values, (res["per_subject"] ** 2).mean("subject").values)
    assert r2.attrs["convention"] == "mean_r2"


def test_paired_tests(rng):
    models, data = _data(rng, n_model=3)
    res = evaluate(models, data, "pearson", over="stimuli", n_boot=200, seed=0)
    best = paired_test(res, "m0", "m2")
    assert best["difference"] > 0 and best["p"] < 0.05
    same = paired_test(res, "m0", "m0")
    assert same["p"] == 1.0
    t = paired_test(res, "m0", "m2", test="t")
    ref = st.ttest_rel(res["per_subject"].sel(model="m0"), res["per_subject"].sel(model="m2"))
    assert t["p"] == pytest.approx(ref.pvalue)
    c = paired_test(res, "m2", against="ceiling", alternative="less")
    assert c["difference"] < 0 and c["p"] < 0.05


def test_permutation_test_detects_signal_and_not_noise(rng):
    models, data = _data(rng, n=14, n_model=2)
    noise = make_rdms(rng.random((1, 91)), list(data["stimulus"].values), ["noise"])
    res = permutation_test(models, data, n_perm=199, seed=1)
    assert (res["p"].values < 0.01).all()
    res0 = permutation_test(noise, data, n_perm=199, seed=1)
    assert res0["p"].item() > 0.01
    w = permutation_test(models, data, "whitened_pearson", n_perm=49, seed=1)
    assert (w["p"].values <= 0.02).all()


def test_fdr_matches_scipy(rng):
    p = rng.random(20) ** 3
    for method in ("bh", "by"):
        reject, q = fdr(p, 0.05, method)
        np.testing.assert_allclose(q, st.false_discovery_control(p, method=method))
        np.testing.assert_array_equal(reject, q <= 0.05)
    _, q = fdr([0.01, np.nan, 0.02])
    assert np.isnan(q[1])
    with pytest.raises(InvalidDataError):
        fdr([1.5])


def test_bootstrap_errors(rng):
    models, data = _data(rng)
    with pytest.raises(InvalidDataError, match="supports methods"):
        evaluate(models, data, "kendall_a", over="stimuli", n_boot=2)
    with pytest.raises(InvalidDataError, match="over must be"):
        evaluate(models, data, over="voxels", n_boot=2)
    with pytest.raises(InvalidDataError, match="at least 3"):
        evaluate(models, data.isel(rdm=[0, 1]), n_boot=2)


@pytest.mark.parametrize("method", ["spearman", "rho_a", "pearson", "cosine"])
@pytest.mark.parametrize("convention", ["mean_r", "mean_r2", "net2brain"])
def test_identity_resample_reproduces_point_estimates(rng, method, convention):
    """A 'bootstrap' sample that draws every stimulus once is the original data."""
    models, data = _data(rng)
    n = data.sizes["stimulus"]
    res = evaluate(models, data, method, convention=convention,
                   indices={"stimuli": np.tile(np.arange(n), (2, 1))})
    for b in range(2):
        np.testing.assert_allclose(res["boot_score"].values[b], res["score"].values, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(res["boot_ceiling_lower"].values[b], res["ceiling_lower"].values,
                                   rtol=1e-12)
        np.testing.assert_allclose(res["boot_ceiling_upper"].values[b], res["ceiling_upper"].values,
                                   rtol=1e-12)


@pytest.mark.parametrize("method", ["spearman", "rho_a"])
def test_rank_bootstrap_over_both_matches_expanded_rdms(rng, method):
    """Stimulus + subject bootstrap against a direct computation on the resampled RDMs (every
    pair of distinct drawn stimuli repeated, scipy ranks, subjects with multiplicity)."""
    from brainalign.similarity.compare import compare_vectors

    models, data = _data(rng, n=12, n_subj=4)
    n, s = data.sizes["stimulus"], data.sizes["rdm"]
    idx = {"stimuli": rng.integers(0, n, (6, n)), "subjects": rng.integers(0, s, (6, s))}
    res = evaluate(models, data, method, indices=idx)
    mv, dv = models.values, data.values
    for b in range(6):
        si = idx["stimuli"][b]
        ii, jj = np.triu_indices(n, k=1)
        keep = si[ii] != si[jj]  # rsatoolbox drops pairs of a stimulus with its own copy
        ii, jj = si[ii][keep], si[jj][keep]
        vm, vs = mv[:, ii, jj], dv[:, ii, jj]
        k = np.bincount(idx["subjects"][b], minlength=s)
        vsk = np.repeat(vs, k, axis=0)  # subjects with multiplicity
        exp = compare_vectors(vm, vsk, method).mean(axis=1)
        np.testing.assert_allclose(res["boot_score"].values[b], exp, rtol=1e-12, atol=1e-14)
        # ceiling: every distinct drawn subject left out once, the others pooled with multiplicity
        if np.count_nonzero(k) < 2:  # no leave-one-out ceiling from a single distinct subject
            assert np.isnan(res["boot_ceiling_lower"].values[b])
            continue
        ranks = st.rankdata(vs, axis=1)
        lo, up = [], []
        total = k @ ranks
        for u in np.flatnonzero(k):
            loo = (total - k[u] * ranks[u]) / (k.sum() - k[u])
            lo.append(compare_vectors(loo, vs[u], method)[0, 0])
            up.append(compare_vectors(total / k.sum(), vs[u], method)[0, 0])
        np.testing.assert_allclose(res["boot_ceiling_lower"].values[b], np.mean(lo), rtol=1e-12)
        np.testing.assert_allclose(res["boot_ceiling_upper"].values[b], np.mean(up), rtol=1e-12)
