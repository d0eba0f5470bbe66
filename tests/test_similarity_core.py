"""compute_rdms / compare_rdms / noise_ceiling against scipy and rsatoolbox on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st
from scipy.spatial.distance import pdist, squareform

from brainalign.errors import InvalidDataError, StimulusMismatchError, UnknownNameError
from brainalign.responses import condensed, make_rdms, make_responses
from brainalign.similarity import compare_rdms, compute_rdms, noise_ceiling


def _resp(rng, n=12, p=30, layers=("l1", "l2"), offset=5.0):
    data = rng.standard_normal((n, p * len(layers))) + offset
    return make_responses(data, [f"s{i}" for i in range(n)],
                          unit_coords={"layer": np.repeat(layers, p)})


@pytest.mark.parametrize("metric", ["correlation", "cosine", "euclidean", "sqeuclidean"])
def test_compute_rdms_matches_pdist(rng, metric):
    resp = _resp(rng)
    rdms = compute_rdms(resp, metric, by="layer")
    assert list(rdms["rdm"].values) == ["l1", "l2"]
    assert rdms.dims == ("rdm", "stimulus", "stimulus2")
    for name in ("l1", "l2"):
        x = resp.sel(unit=resp["layer"] == name).values
        ref = squareform(pdist(x, metric))
        np.testing.assert_allclose(rdms.sel(rdm=name).values, ref, rtol=1e-10, atol=1e-10)
        assert np.all(np.diag(rdms.sel(rdm=name).values) == 0)


def test_mahalanobis_matches_pdist(rng):
    from brainalign.similarity import noise_precision

    resp = _resp(rng, layers=("l1",), p=6)
    prec = noise_precision(rng.standard_normal((50, 6)))
    rdms = compute_rdms(resp, "mahalanobis", noise=prec)
    ref = squareform(pdist(resp.values, "mahalanobis", VI=prec))
    np.testing.assert_allclose(rdms.values[0], ref, rtol=1e-9, atol=1e-10)


def test_compute_rdms_list_and_dict_and_reorder(rng):
    a = _resp(rng, layers=("x",))
    b = a.isel(stimulus=np.arange(a.sizes["stimulus"])[::-1])
    rdms = compute_rdms({"A": a, "B": b})
    assert list(rdms["rdm"].values) == ["A", "B"]
    np.testing.assert_allclose(rdms.values[0], rdms.values[1], atol=1e-12)
    with pytest.raises(StimulusMismatchError, match="s0"):
        compute_rdms([a, a.isel(stimulus=slice(1, None))])
    with pytest.raises(UnknownNameError, match="correlation"):
        compute_rdms(a, "corelation")
    with pytest.raises(InvalidDataError, match="unit coordinates"):
        compute_rdms(a, by="area")


def test_constant_pattern_is_a_clear_error(rng):
    a = _resp(rng, layers=("x",))
    a[3] = 1.0
    with pytest.raises(InvalidDataError, match="s3"):
        compute_rdms(a, "correlation")


def _rdm_stack(rng, k=5, n=10, names=None, ties=False):
    v = rng.random((k, n * (n - 1) // 2))
    if ties:
        v = np.round(v * 4) / 4
    return make_rdms(v, [f"s{i}" for i in range(n)], names)


@pytest.mark.parametrize("method,ref", [
    ("pearson", lambda x, y: st.pearsonr(x, y).statistic),
    ("spearman", lambda x, y: st.spearmanr(x, y).statistic),
    ("kendall_b", lambda x, y: st.kendalltau(x, y).statistic),
    ("cosine", lambda x, y: x @ y / np.linalg.norm(x) / np.linalg.norm(y)),
])
@pytest.mark.parametrize("ties", [False, True])
def test_compare_matches_scipy(rng, method, ref, ties):
    a = _rdm_stack(rng, 3, ties=ties)
    b = _rdm_stack(rng, 4, ties=ties)
    out = compare_rdms(a, b, method)
    assert out.dims == ("rdm_a", "rdm_b") and out.shape == (3, 4)
    va, vb = condensed(a), condensed(b)
    exp = np.array([[ref(x, y) for y in vb] for x in va])
    np.testing.assert_allclose(out.values, exp, rtol=1e-10, atol=1e-12)


def _tau_a_bruteforce(x, y):
    i, j = np.triu_indices(len(x), 1)
    return np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])) / len(i)


def test_kendall_a_definition(rng):
    a = _rdm_stack(rng, 2, n=8, ties=True)
    b = _rdm_stack(rng, 3, n=8, ties=True)
    out = compare_rdms(a, b, "kendall_a").values
    va, vb = condensed(a), condensed(b)
    exp = np.array([[_tau_a_bruteforce(x, y) for y in vb] for x in va])
    np.testing.assert_allclose(out, exp, atol=1e-12)


@pytest.mark.parametrize("ours,theirs", [
    ("spearman", "spearman"), ("pearson", "corr"), ("cosine", "cosine"), ("rho_a", "rho-a"),
    ("kendall_a", "tau-a"), ("whitened_cosine", "cosine_cov"), ("whitened_pearson", "corr_cov"),
])
def test_compare_matches_rsatoolbox(rng, ours, theirs):
    from rsatoolbox.rdm import RDMs, compare

    a = _rdm_stack(rng, 3, n=9, ties=True)
    b = _rdm_stack(rng, 2, n=9)
    exp = compare(RDMs(condensed(a)), RDMs(condensed(b)), method=theirs)
    np.testing.assert_allclose(compare_rdms(a, b, ours).values, exp, rtol=1e-9, atol=1e-12)


def test_compare_reorders_b_and_names_mismatch(rng):
    a = _rdm_stack(rng, 2, names=["m1", "m2"])
    perm = np.random.default_rng(1).permutation(a.sizes["stimulus"])
    b = a.isel(stimulus=perm, stimulus2=perm)
    out = compare_rdms(a, b, "pearson")
    np.testing.assert_allclose(np.diag(out.values), 1.0)
    assert list(out["rdm_a"].values) == ["m1", "m2"]
    c = make_rdms(condensed(a), [f"t{i}" for i in range(a.sizes["stimulus"])])
    with pytest.raises(StimulusMismatchError, match="t0"):
        compare_rdms(a, c)


def test_compare_bad_input(rng):
    a = _rdm_stack(rng, 2)
    bad = a.copy(data=a.values.copy())
    bad.values[0, 1, 2] = np.nan
    with pytest.raises(InvalidDataError, match="NaN"):
        compare_rdms(bad, a)
    asym = a.copy(data=a.values.copy())
    asym.values[1, 1, 2] += 0.5
    with pytest.raises(InvalidDataError, match="not symmetric"):
        compare_rdms(a, asym)
    with pytest.raises(InvalidDataError, match="not square"):
        compare_rdms(a.isel(stimulus2=slice(0, 5)), a)
    with pytest.raises(InvalidDataError, match="make_rdms"):
        compare_rdms(a.values, a)


@pytest.mark.parametrize("ours,theirs", [("spearman", "spearman"), ("pearson", "corr"),
                                          ("cosine", "cosine"), ("rho_a", "rho-a")])
def test_noise_ceiling_matches_rsatoolbox(rng, ours, theirs):
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs

    true = rng.random(45)
    subj = make_rdms(true + 0.5 * rng.random((6, 45)), [f"s{i}" for i in range(10)])
    lo, hi = noise_ceiling(subj, ours)
    elo, ehi = boot_noise_ceiling(RDMs(condensed(subj)), method=theirs)
    np.testing.assert_allclose([lo, hi], [elo, ehi], rtol=1e-10)
    assert lo < hi


def test_noise_ceiling_conventions_and_errors(rng):
    true = rng.random(45)
    subj = make_rdms(true + 0.5 * rng.random((6, 45)), [f"s{i}" for i in range(10)])
    nc = noise_ceiling(subj, "spearman", convention="mean_r2")
    assert nc.convention == "mean_r2" and nc.method == "spearman"
    # by definition: squares of the per-subject leave-one-out correlations, then averaged
    v = condensed(subj)
    r = [st.spearmanr(np.delete(st.rankdata(v, axis=1), s, 0).mean(0), v[s]).statistic for s in range(6)]
    np.testing.assert_allclose(nc.lower, np.mean(np.square(r)), rtol=1e-10)
    with pytest.raises(InvalidDataError, match="at least 3"):
        noise_ceiling(subj.isel(rdm=[0, 1]))
    with pytest.raises(InvalidDataError, match="convention"):
        noise_ceiling(subj, convention="r")
