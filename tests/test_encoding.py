"""Encoding engine: RidgeCV, cross_validate and scores against scikit-learn, scipy and himalaya."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score as sk_r2
from sklearn.model_selection import GridSearchCV, KFold

from brainalign.encoding import RidgeCV, cross_validate, pearson_r, r2_score
from brainalign.errors import InvalidDataError, StimulusMismatchError
from brainalign.responses import make_responses


def _problem(rng, n=120, p=25, t=6, noise=2.0):
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, t)) * np.geomspace(0.05, 5, t)
    Y = X @ W + noise * rng.standard_normal((n, t)) + 3.0
    return X, Y


# ------------------------------------------------------------------ metrics
def test_pearson_r_matches_scipy(rng):
    a = rng.standard_normal((50, 7))
    b = a * rng.standard_normal(7) + rng.standard_normal((50, 7))
    ref = [scipy.stats.pearsonr(a[:, j], b[:, j])[0] for j in range(7)]
    np.testing.assert_allclose(pearson_r(a, b), ref, rtol=1e-12)
    np.testing.assert_allclose(pearson_r(a.T, b.T, axis=1), ref, rtol=1e-12)


def test_pearson_r_constant_is_nan(rng):
    a = rng.standard_normal((20, 3))
    b = a.copy()
    b[:, 1] = 4.0
    r = pearson_r(a, b)
    assert np.isnan(r[1]) and np.allclose(r[[0, 2]], 1.0)


def test_r2_matches_sklearn(rng):
    a = rng.standard_normal((40, 5))
    b = a + rng.standard_normal((40, 5))
    np.testing.assert_allclose(r2_score(a, b), sk_r2(a, b, multioutput="raw_values"), rtol=1e-12)


# ------------------------------------------------------------------ RidgeCV
@pytest.mark.parametrize("shape", [(120, 25), (60, 150)])  # primal and dual
def test_ridgecv_matches_sklearn_gridsearch(rng, shape):
    X, Y = _problem(rng, *shape, t=3)
    alphas = np.logspace(-2, 4, 7)
    m = RidgeCV(alphas=alphas, cv=5, dtype="float64").fit(X, Y)
    assert m.form_ == ("primal" if shape[1] <= shape[0] * 0.8 else "dual")
    for j in range(Y.shape[1]):
        g = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5), scoring="r2").fit(X, Y[:, j])
        np.testing.assert_allclose(m.cv_path_[:, j], g.cv_results_["mean_test_score"], atol=1e-10)
        assert m.best_alphas_[j] == g.best_params_["alpha"]
        ref = Ridge(alpha=m.best_alphas_[j]).fit(X, Y[:, j])
        np.testing.assert_allclose(m.coef_[j], ref.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(m.intercept_[j], ref.intercept_, rtol=1e-8)
    np.testing.assert_allclose(m.predict(X), X @ m.coef_.T + m.intercept_)


def test_ridgecv_float32_products_close_to_float64(rng):
    X, Y = _problem(rng, 200, 40, 8)
    m64 = RidgeCV(cv=5, dtype="float64").fit(X, Y)
    m32 = RidgeCV(cv=5, dtype="float32").fit(X, Y)
    assert np.mean(m64.best_alphas_ == m32.best_alphas_) >= 7 / 8
    same = m64.best_alphas_ == m32.best_alphas_
    np.testing.assert_allclose(m32.coef_[same], m64.coef_[same], rtol=1e-4, atol=1e-5)


def test_ridgecv_1d_target(rng):
    X, Y = _problem(rng, 80, 10, 1)
    m = RidgeCV(dtype="float64").fit(X, Y[:, 0])
    assert m.coef_.shape == (10,) and isinstance(m.intercept_, float)
    assert m.predict(X).shape == (80,)


def test_ties_go_to_larger_alpha(rng):
    X = rng.standard_normal((40, 5))
    Y = np.ones((40, 2))
    Y[:, 1] = rng.standard_normal(40)
    Y[:, 0] = 2.0  # constant: every alpha scores the same
    m = RidgeCV(alphas=[0.1, 1.0, 10.0], dtype="float64").fit(X, Y)
    assert m.best_alphas_[0] == 10.0


def test_ridgecv_rejects_nan(rng):
    X, Y = _problem(rng, 30, 4, 2)
    Y[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RidgeCV().fit(X, Y)


def test_ridgecv_too_few_samples(rng):
    with pytest.raises(InvalidDataError, match="fewer than the 5 folds"):
        RidgeCV(cv=5).fit(rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))


# ------------------------------------------------------------------ cross_validate
def test_cross_validate_matches_manual_sklearn(rng):
    X, Y = _problem(rng, 150, 20, 3)
    alphas = np.logspace(-1, 3, 5)
    res = cross_validate(X, Y, alphas=alphas, n_splits=4, seed=3, dtype="float64")
    assert res.scores.shape == (4, 3) and res.predictions.shape == (150, 3)
    for i in range(4):
        te = np.flatnonzero(res.fold == i)
        tr = np.flatnonzero(res.fold != i)
        mu, sd = X[tr].mean(0), X[tr].std(0)
        for j in range(3):
            g = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5), scoring="r2").fit(
                (X[tr] - mu) / sd, Y[tr, j])
            p = g.predict((X[te] - mu) / sd)
            assert res.best_alphas[i, j] == g.best_params_["alpha"]
            np.testing.assert_allclose(res.predictions[te, j], p, rtol=1e-8)
            np.testing.assert_allclose(res.scores[i, j], scipy.stats.pearsonr(Y[te, j], p)[0], rtol=1e-8)
    np.testing.assert_allclose(res.mean_scores, res.scores.mean(0))
    assert np.all(np.bincount(res.fold) >= 37)


def test_cross_validate_flags_nan_and_constant(rng):
    X, Y = _problem(rng, 100, 10, 4)
    Y[:, 1] = 5.0
    Y[7, 2] = np.nan
    res = cross_validate(X, Y)
    assert res.valid.tolist() == [True, False, False, True]
    assert res.invalid_reason.tolist() == ["", "constant", "nan", ""]
    assert np.isnan(res.mean_scores[[1, 2]]).all() and np.isfinite(res.mean_scores[[0, 3]]).all()
    assert np.isnan(res.predictions[:, 1]).all()


def test_cross_validate_errors(rng):
    X, Y = _problem(rng, 100, 10, 2)
    with pytest.raises(InvalidDataError, match="rows"):
        cross_validate(X[:90], Y)
    with pytest.raises(InvalidDataError, match="fewer than n_splits"):
        cross_validate(X[:3], Y[:3], n_splits=5)


def test_cross_validate_dataarrays_aligned(rng):
    X, Y = _problem(rng, 90, 8, 3)
    ids = [f"im{i:03d}" for i in range(90)]
    Yda = make_responses(Y, ids, ["a", "b", "c"], unit_coords={"region": ["V1", "V4", "V4"]})
    order = rng.permutation(90)
    Xda = make_responses(X[order], [ids[i] for i in order])
    res = cross_validate(Xda, Yda, dtype="float64")
    ref = cross_validate(X, Y, dtype="float64")
    np.testing.assert_allclose(res.mean_scores, ref.mean_scores)
    da = res.to_xarray()
    assert isinstance(da, xr.DataArray) and da.dims == ("unit",)
    assert da["unit"].values.tolist() == ["a", "b", "c"]
    assert da["region"].values.tolist() == ["V1", "V4", "V4"]
    assert "provenance" in da.attrs
    with pytest.raises(StimulusMismatchError):
        cross_validate(Xda.isel(stimulus=slice(1, None)), Yda)


def test_cross_validate_groups_keep_groups_together(rng):
    X, Y = _problem(rng, 120, 10, 2)
    groups = np.repeat(np.arange(30), 4)
    res = cross_validate(X, Y, groups=groups, n_splits=5)
    for gval in range(30):
        assert len(set(res.fold[groups == gval])) == 1


def test_encoding_finds_signal_not_noise(rng):
    X = rng.standard_normal((200, 20))
    Y = np.column_stack([X[:, 0] + 0.5 * rng.standard_normal(200), rng.standard_normal(200)])
    res = cross_validate(X, Y)
    assert res.mean_scores[0] > 0.8
    assert abs(res.mean_scores[1]) < 0.25


def test_cross_validate_inner_loo_matches_sklearn(rng):
    from sklearn.linear_model import RidgeCV as SkRidgeCV

    X, Y = _problem(rng, 90, 12, 3)
    al = np.logspace(-1, 3, 9)
    res = cross_validate(X, Y, alphas=al, inner_cv="loo", dtype="float64", n_splits=3)
    for i in range(3):
        tr, te = np.flatnonzero(res.fold != i), np.flatnonzero(res.fold == i)
        mu, sd = X[tr].mean(0), X[tr].std(0)
        sk = SkRidgeCV(alphas=al, alpha_per_target=True).fit((X[tr] - mu) / sd, Y[tr])
        np.testing.assert_array_equal(res.best_alphas[i], sk.alpha_)
        np.testing.assert_allclose(res.predictions[te], sk.predict((X[te] - mu) / sd), rtol=1e-8)
