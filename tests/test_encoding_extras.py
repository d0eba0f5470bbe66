"""Encoding: LOO vs scikit-learn, kernel/banded ridge, backends, time series, ceilings, statistics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.linear_model import RidgeCV as SkRidgeCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import check_estimator

from brainalign.encoding import (
    BandedRidgeCV,
    BlockedKFold,
    KernelRidgeCV,
    RidgeCV,
    bootstrap_ci,
    cross_validate,
    fir_delays,
    hrf_convolve,
    ncsnr,
    ncsnr_ceiling,
    noise_corrected_r,
    partition_from_r2,
    pearson_r,
    permutation_test,
    split_half_reliability,
    spm_hrf,
    variance_partitioning,
)
from brainalign.errors import InvalidDataError


def _problem(rng, n=120, p=25, t=6, noise=2.0):
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, t)) * np.geomspace(0.05, 5, t)
    return X, X @ W + noise * rng.standard_normal((n, t)) + 1.0


@pytest.mark.parametrize("shape", [(100, 20), (50, 120)])
def test_loo_matches_sklearn(rng, shape):
    X, Y = _problem(rng, *shape)
    al = np.logspace(-2, 4, 13)
    sk = SkRidgeCV(alphas=al, alpha_per_target=True, store_cv_results=True).fit(X, Y)
    m = RidgeCV(alphas=al, cv="loo", dtype="float64").fit(X, Y)
    sst = ((Y - Y.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(m.cv_path_, (1 - sk.cv_results_.sum(0) / sst[:, None]).T, atol=1e-9)
    np.testing.assert_array_equal(m.best_alphas_, sk.alpha_)
    np.testing.assert_allclose(m.coef_, sk.coef_, rtol=1e-8, atol=1e-10)
    m32 = RidgeCV(alphas=al, cv="loo").fit(X.astype(np.float32), Y.astype(np.float32))
    np.testing.assert_allclose(m32.cv_path_, m.cv_path_, atol=1e-4)


def test_compress_mode_matches_sklearn(rng):
    # n_features << validation size: the (r, r) compressed evaluation is used
    X, Y = _problem(rng, 300, 8, 4)
    al = np.logspace(-2, 4, 7)
    m = RidgeCV(alphas=al, dtype="float64").fit(X, Y)
    for j in range(4):
        g = GridSearchCV(Ridge(), {"alpha": al}, cv=KFold(5)).fit(X, Y[:, j])
        np.testing.assert_allclose(m.cv_path_[:, j], g.cv_results_["mean_test_score"], atol=1e-10)


def test_pearson_and_mse_scoring(rng):
    X, Y = _problem(rng, 100, 10, 2)
    al = np.logspace(-1, 3, 5)
    for scoring, sk in [("neg_mse", "neg_mean_squared_error"), ("pearson", None)]:
        m = RidgeCV(alphas=al, scoring=scoring, dtype="float64").fit(X, Y)
        for j in range(2):
            ref = []
            for a in al:
                s = []
                for tr, va in KFold(5).split(X):
                    pr = Ridge(alpha=a).fit(X[tr], Y[tr, j]).predict(X[va])
                    s.append(-np.mean((pr - Y[va, j]) ** 2) if sk else scipy.stats.pearsonr(pr, Y[va, j])[0])
                ref.append(np.mean(s))
            np.testing.assert_allclose(m.cv_path_[:, j], ref, rtol=1e-8, atol=1e-10)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize("est", [RidgeCV(), KernelRidgeCV(), BandedRidgeCV()],
                         ids=["RidgeCV", "KernelRidgeCV", "BandedRidgeCV"])
def test_check_estimator(est):
    fails = check_estimator(est, on_fail=None)
    assert not [f["check_name"] for f in fails if f["status"] == "failed"]


def test_kernel_ridge_matches_sklearn(rng):
    X, Y = _problem(rng, 70, 15, 2)
    al = np.logspace(-2, 3, 6)
    m = KernelRidgeCV(alphas=al, kernel="rbf", kernel_params={"gamma": 0.05}, fit_intercept=False,
                      dtype="float64").fit(X, Y)
    for j in range(2):
        g = GridSearchCV(KernelRidge(kernel="rbf", gamma=0.05), {"alpha": al}, cv=KFold(5)).fit(X, Y[:, j])
        assert m.best_alphas_[j] == g.best_params_["alpha"]
        np.testing.assert_allclose(m.dual_coef_[:, j], g.best_estimator_.dual_coef_, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(m.predict(X[:5])[:, j], g.predict(X[:5]), rtol=1e-7)
    lin = KernelRidgeCV(alphas=al, dtype="float64").fit(X, Y)
    np.testing.assert_allclose(lin.predict(X), RidgeCV(alphas=al, dtype="float64").fit(X, Y).predict(X),
                               rtol=1e-8)


def test_banded_ridge_reduces_to_ridge_and_finds_the_band(rng):
    X, Y = _problem(rng, 90, 20, 3)
    al = np.logspace(-1, 3, 5)
    b = BandedRidgeCV(bands=[8, 12], alphas=al / 2, gammas=[[0.5, 0.5]], dtype="float64").fit(X, Y)
    r = RidgeCV(alphas=al, dtype="float64").fit(X, Y)
    np.testing.assert_allclose(b.coef_, r.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(b.best_alphas_[0], r.best_alphas_)
    # a target driven by band 1 only: band 2 gets a larger penalty
    X2 = rng.standard_normal((150, 10))
    y = X2[:, :5] @ rng.standard_normal(5) + 0.3 * rng.standard_normal(150)
    fit = BandedRidgeCV(bands=[5, 5], dtype="float64").fit(X2, y)
    assert fit.best_alphas_[1] > fit.best_alphas_[0]


@pytest.mark.slow  # importing torch takes seconds
def test_torch_backend_agrees_with_numpy(rng):
    pytest.importorskip("torch")
    X, Y = _problem(rng, 120, 30, 5)
    a = RidgeCV(backend="numpy").fit(X, Y)
    b = RidgeCV(backend="torch").fit(X, Y)
    np.testing.assert_array_equal(a.best_alphas_, b.best_alphas_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-4, atol=1e-6)
    c = RidgeCV(backend="torch", cv="loo").fit(X, Y)
    np.testing.assert_allclose(c.cv_path_, RidgeCV(cv="loo").fit(X, Y).cv_path_, atol=1e-5)
    with pytest.raises(InvalidDataError, match="backend"):
        RidgeCV(backend="jax").fit(X, Y)


# ------------------------------------------------------------------ time series
def test_fir_delays_and_runs():
    X = np.arange(1, 7, dtype=float)[:, None]
    D = fir_delays(X, delays=[0, 1, 2], runs=[0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(D[:, 1], [0, 1, 2, 0, 4, 5])
    np.testing.assert_array_equal(D[:, 2], [0, 0, 1, 0, 0, 4])
    np.testing.assert_array_equal(fir_delays(X, [-1])[:, 0], [2, 3, 4, 5, 6, 0])


def test_blocked_kfold_gap_never_leaks():
    cv = BlockedKFold(4, gap=3)
    seen = []
    for tr, te in cv.split(np.zeros(40)):
        assert np.all(np.diff(te) == 1)  # one contiguous block
        d = np.abs(tr[:, None] - te[None, :]).min()
        assert d > 3
        seen.extend(te)
    assert sorted(seen) == list(range(40))
    runs = np.repeat([0, 1, 2, 3, 4], 10)
    for tr, te in BlockedKFold(5, gap=2).split(np.zeros(50), groups=runs):
        assert len(set(runs[te])) == 1 and len(tr) == 40  # whole runs held out; gap stays in-run


def test_spm_hrf_shape():
    h = spm_hrf(0.1)
    t = np.arange(len(h)) * 0.1
    assert 4.5 < t[np.argmax(h)] < 5.5  # SPM canonical peaks near 5 s
    assert h.min() < 0 and 13 < t[np.argmin(h)] < 17  # undershoot near 15 s
    ref = scipy.stats.gamma.pdf(t, 6) - scipy.stats.gamma.pdf(t, 16) / 6
    np.testing.assert_allclose(h, ref / ref.sum())


def test_hrf_convolve_impulse_response():
    ft = np.arange(40) * 2.0
    reg = hrf_convolve(np.ones((1, 1)), [10.0], ft, oversampling=20)
    assert ft[np.argmax(reg[:, 0])] in (14.0, 16.0)  # 10 s onset + ~5 s peak
    assert np.allclose(reg[ft < 10, 0], 0)
    two = hrf_convolve(np.array([[1.0], [2.0]]), [10.0, 30.0], ft)
    one_a = hrf_convolve(np.ones((1, 1)), [10.0], ft)
    one_b = hrf_convolve(np.ones((1, 1)), [30.0], ft)
    np.testing.assert_allclose(two, one_a + 2 * one_b, atol=1e-12)  # linear


def test_time_series_encoding_with_gap(rng):
    n = 300
    stim = rng.standard_normal((n, 3))
    X = fir_delays(stim, [1, 2, 3])
    y = X[:, 3] - 0.5 * X[:, 7] + 0.5 * rng.standard_normal(n)
    res = cross_validate(X, y, cv=BlockedKFold(5, gap=3), inner_cv=BlockedKFold(4, gap=3))
    assert res.mean_scores[0] > 0.7 and res.n_folds == 5


# ------------------------------------------------------------------ ceilings
def _repeats(rng, n_stim=200, n_units=5, n_rep=10, snr=1.0):
    sig = rng.standard_normal((n_stim, n_units)) * snr
    return sig, sig[:, :, None] + rng.standard_normal((n_stim, n_units, n_rep))


def test_split_half_matches_reference(rng):
    _, R = _repeats(rng, n_rep=6)
    rho = split_half_reliability(R, n_splits=5, seed=1)
    g = np.random.default_rng(1)
    ref = np.zeros(R.shape[1])
    for _ in range(5):
        perm = g.permutation(6)
        a, b = R[:, :, perm[:3]].mean(2), R[:, :, perm[3:]].mean(2)
        r = np.array([scipy.stats.pearsonr(a[:, u], b[:, u])[0] for u in range(R.shape[1])])
        ref += 2 * r / (1 + r)
    np.testing.assert_allclose(rho, ref / 5, rtol=1e-10)


def test_ncsnr_matches_reference_and_truth(rng):
    sig, R = _repeats(rng, n_stim=2000, n_rep=8, snr=0.7)
    R[0, 0, 3] = np.nan  # a missing repeat
    s = ncsnr(R)
    # reference per unit with explicit loops (ddof=1 within stimuli)
    ref = []
    for u in range(R.shape[1]):
        x = R[:, u, :]
        nv = np.mean([np.var(row[~np.isnan(row)], ddof=1) for row in x])
        m = np.array([np.mean(row[~np.isnan(row)]) for row in x])
        inv_n = np.mean([1 / np.sum(~np.isnan(row)) for row in x])
        ref.append(np.sqrt(max(0, np.var(m, ddof=1) - nv * inv_n)) / np.sqrt(nv))
    np.testing.assert_allclose(s, ref, rtol=1e-10)
    np.testing.assert_allclose(s, 0.7, atol=0.06)
    # both ceilings estimate the reliability of the 8-repeat mean
    rho = split_half_reliability(R, n_splits=20)
    np.testing.assert_allclose(ncsnr_ceiling(s, 8), rho, atol=0.05)
    true_rel = 0.49 / (0.49 + 1 / 8)
    np.testing.assert_allclose(rho, true_rel, atol=0.05)


def test_noise_corrected_r_reaches_one_for_the_true_signal(rng):
    sig, R = _repeats(rng, n_stim=3000, n_units=3, n_rep=4, snr=1.0)
    r = pearson_r(R.mean(2), sig)  # a perfect model of the signal
    nc = noise_corrected_r(r, split_half_reliability(R, n_splits=20))
    np.testing.assert_allclose(nc, 1.0, atol=0.04)
    assert np.isnan(noise_corrected_r(0.3, -0.1))


# ------------------------------------------------------------------ statistics
def test_permutation_test_against_scipy(rng):
    y = rng.standard_normal((40, 2))
    p = np.column_stack([y[:, 0] + 2 * rng.standard_normal(40), rng.standard_normal(40)])
    res = permutation_test(y, p, n_permutations=1000, seed=0)

    def stat(a, b, axis=-1):
        a = a - a.mean(axis, keepdims=True)
        b = b - b.mean(axis, keepdims=True)
        return (a * b).sum(axis) / np.sqrt((a * a).sum(axis) * (b * b).sum(axis))

    for j in range(2):
        ref = scipy.stats.permutation_test((y[:, j], p[:, j]), stat, vectorized=True,
                                           permutation_type="pairings", n_resamples=1000,
                                           alternative="greater", random_state=0).pvalue
        assert abs(res.p_values[j] - ref) < 0.04
    blk = permutation_test(y, p, n_permutations=200, block_size=5)
    assert blk.null.shape == (200, 2) and blk.block_size == 5


def test_bootstrap_ci_with_given_indices_matches_loop(rng):
    y = rng.standard_normal((30, 2))
    p = y + rng.standard_normal((30, 2))
    idx = np.random.default_rng(5).integers(0, 30, size=(300, 30))
    low, high, boot = bootstrap_ci(y, p, indices=idx)
    ref = np.array([[scipy.stats.pearsonr(y[i, j], p[i, j])[0] for j in range(2)] for i in idx])
    np.testing.assert_allclose(boot, ref, rtol=1e-10)
    np.testing.assert_allclose(low, np.quantile(ref, 0.025, axis=0))
    lo2, hi2, _ = bootstrap_ci(y, p, n_bootstraps=200, block_size=5)
    assert np.all(lo2 < pearson_r(y, p)) and np.all(hi2 > pearson_r(y, p))


def test_variance_partitioning(rng):
    n = 300
    A, B = rng.standard_normal((n, 4)), rng.standard_normal((n, 4))
    y = np.column_stack([A[:, 0] + 0.3 * rng.standard_normal(n), B[:, 0] + 0.3 * rng.standard_normal(n)])
    out = variance_partitioning({"A": A, "B": B}, y)
    parts = out["partitions"]
    assert parts["A only"][0] > 0.8 and abs(parts["B only"][0]) < 0.05
    assert parts["B only"][1] > 0.8 and abs(parts["A & B"][0]) < 0.05
    # three sets: the seven regions sum to the full model's R^2
    r2 = {("a",): np.array([0.2]), ("b",): np.array([0.3]), ("c",): np.array([0.1]),
          ("a", "b"): np.array([0.4]), ("a", "c"): np.array([0.25]), ("b", "c"): np.array([0.35]),
          ("a", "b", "c"): np.array([0.45])}
    p3 = partition_from_r2(r2)
    assert len(p3) == 7
    np.testing.assert_allclose(sum(p3.values()), 0.45)


# ------------------------------------------------------------------ dask
def test_fit_dask_identical_to_one_process(rng):
    X, Y = _problem(rng, 100, 12, 7)
    est = RidgeCV(dtype="float64")
    one = clone_fit(est, X, Y)
    from brainalign.encoding import fit_dask

    for sched in (None, "synchronous"):
        m = fit_dask(est, X, Y, chunk_size=3, scheduler=sched)
        np.testing.assert_array_equal(m.best_alphas_, one.best_alphas_)
        np.testing.assert_allclose(m.coef_, one.coef_, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(m.predict(X), one.predict(X), rtol=1e-12)


@pytest.mark.slow
def test_fit_dask_distributed_cluster(rng):
    distributed = pytest.importorskip("distributed")
    from brainalign.encoding import fit_dask

    X, Y = _problem(rng, 80, 10, 5)
    est = RidgeCV(dtype="float64")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        m = fit_dask(est, X, Y, chunk_size=2, scheduler=cluster.scheduler_address)
    np.testing.assert_allclose(m.coef_, clone_fit(est, X, Y).coef_, rtol=1e-12, atol=1e-14)


def clone_fit(est, X, Y):
    from sklearn.base import clone

    return clone(est).fit(X, Y)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_float32_low_rank_weights_match_sklearn(rng, fit_intercept):
    # r <= n/2 with float32 products: the LOO weights 1/(1 - H_ii)^2 are represented by a
    # truncated basis over the alphas (checked to 1e-7 per entry); PRESS must equal sklearn's
    n, p = 400, 40
    X = rng.standard_normal((n, p)) * np.geomspace(1, 0.05, p)
    Y = X @ rng.standard_normal((p, 30)) * np.geomspace(0.02, 2, 30) + rng.standard_normal((n, 30))
    al = np.logspace(-1, 6, 20)
    sk = SkRidgeCV(alphas=al, alpha_per_target=True, store_cv_results=True,
                   fit_intercept=fit_intercept).fit(X, Y)
    m = RidgeCV(alphas=al, cv="loo", fit_intercept=fit_intercept).fit(X, Y)
    Yc = Y - Y.mean(0) if fit_intercept else Y
    ref = (1 - sk.cv_results_.sum(0) / (Yc ** 2).sum(0)[:, None]).T
    np.testing.assert_allclose(m.cv_path_, ref, atol=2e-6)
    same = m.best_alphas_ == sk.alpha_
    assert same.mean() >= 0.9
    np.testing.assert_allclose(m.coef_[same], sk.coef_[same], rtol=1e-4, atol=1e-5)


def test_weight_basis_reconstructs_entrywise(rng):
    from brainalign.encoding._backend import get_backend
    from brainalign.encoding._solvers import _weight_basis

    H = rng.random((1, 300)) * 0.3 * np.geomspace(1, 0.01, 15)[:, None]  # (k, n) smooth in k
    Wt = 1 / (1 - H) ** 2
    B, c = _weight_basis(Wt, 1e-7, get_backend("numpy"))
    assert B.shape[0] < Wt.shape[0]
    assert np.max(np.abs(c @ B - Wt) / Wt) <= 1e-7
    B64, c64 = _weight_basis(Wt, 0.0, get_backend("numpy"))
    np.testing.assert_array_equal(c64 @ B64, Wt)
