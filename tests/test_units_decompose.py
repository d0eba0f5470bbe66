"""Decompositions: NMF against scikit-learn, semi-NMF and the TopK SAE on planted structure."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import NMF

from brainalign import make_responses
from brainalign.errors import InvalidDataError
from brainalign.units import nmf, semi_nmf, topk_sae


def _planted(rng, n=150, d=40, k=4, noise=0.02):
    w = rng.gamma(1.0, 1.0, (n, k))
    h = rng.gamma(1.0, 1.0, (k, d)) * (rng.uniform(size=(k, d)) < 0.4)
    x = w @ h + noise * rng.random((n, d))
    return make_responses(x, [f"s{i}" for i in range(n)]), x, w, h


def _match(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Best absolute cosine of each row of a with any row of b."""
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.abs(an @ bn.T).max(axis=1)


def test_nmf_objective_matches_sklearn(rng):
    da, x, w, h = _planted(rng)
    ours = nmf(da, 4, max_iter=1000, tol=1e-8)
    ref = NMF(4, init="nndsvda", solver="cd", max_iter=2000, tol=1e-8).fit(x)
    ref_rel = ref.reconstruction_err_ / np.linalg.norm(x)
    assert ours.relative_error <= ref_rel * 1.02
    assert (ours.weights.values >= 0).all() and (ours.components.values >= 0).all()
    # the same parts as scikit-learn's (up to order and scale) and as the planted ones
    assert _match(ours.components.values, ref.components_).min() > 0.98
    assert _match(h, ours.components.values).min() > 0.95
    np.testing.assert_allclose(ours.reconstruct(), ours.weights.values @ ours.components.values)
    assert ours.weights.dims == ("stimulus", "component")
    assert ours.components.dims == ("component", "unit")


def test_nmf_top_stimuli_and_units(rng):
    da, x, w, h = _planted(rng)
    d = nmf(da, 4)
    top = d.top_stimuli(5)
    wv = d.weights.values
    for c in range(4):
        ref = [f"s{i}" for i in np.argsort(-wv[:, c], kind="stable")[:5]]
        assert list(top["stimulus_id"].values[c]) == ref
    tu = d.top_units(3)
    assert tu.sizes == {"component": 4, "rank": 3}


def test_nmf_bad_input(rng):
    da, x, *_ = _planted(rng)
    neg = make_responses(x - 1.0, da["stimulus"].values)
    with pytest.raises(InvalidDataError, match="semi_nmf"):
        nmf(neg, 3)
    with pytest.raises(InvalidDataError, match="n_components"):
        nmf(da, 0)
    with pytest.raises(InvalidDataError, match="never activate"):
        nmf(make_responses(np.zeros((10, 4)), [f"s{i}" for i in range(10)]), 2)


def test_semi_nmf_signed_data(rng):
    n, d, k = 200, 30, 3
    w = rng.gamma(1.0, 1.0, (n, k))
    h = rng.normal(size=(k, d))
    x = w @ h + 0.01 * rng.normal(size=(n, d))
    da = make_responses(x, [f"s{i}" for i in range(n)])
    s = semi_nmf(da, k, seed=0)
    assert (s.weights.values >= 0).all()
    assert (s.components.values < 0).any()
    assert s.fvu < 0.01
    assert _match(h, s.components.values).min() > 0.95
    # on non-negative data semi-NMF is less constrained than NMF: no worse fit
    da2, x2, *_ = _planted(rng)
    assert semi_nmf(da2, 4).relative_error <= NMF(4, init="nndsvda", max_iter=2000).fit(x2).reconstruction_err_ \
        / np.linalg.norm(x2) * 1.05


def test_topk_sae_recovers_planted_dictionary():
    rng = np.random.default_rng(3)
    n_atoms, d, n = 16, 12, 1000
    dic = rng.normal(size=(n_atoms, d))
    dic /= np.linalg.norm(dic, axis=1, keepdims=True)
    z = np.zeros((n, n_atoms))
    for i in range(n):
        z[i, rng.choice(n_atoms, 2, replace=False)] = rng.gamma(2.0, 1.0, 2)
    x = z @ dic
    da = make_responses(x, [f"s{i}" for i in range(n)])
    sae = topk_sae(da, 32, 2, n_epochs=20, batch_size=100, lr=5e-3, seed=0)
    assert ((sae.weights.values > 0).sum(axis=1) <= 2).all()
    assert sae.fvu < 0.25
    assert sae.extra["loss"][-1] < sae.extra["loss"][0]
    assert (_match(dic, sae.components.values) > 0.9).mean() >= 0.75
    np.testing.assert_allclose(np.linalg.norm(sae.components.values, axis=1), 1.0, rtol=1e-5)
    again = topk_sae(da, 32, 2, n_epochs=2, seed=0)
    again2 = topk_sae(da, 32, 2, n_epochs=2, seed=0)
    np.testing.assert_array_equal(again.components.values, again2.components.values)
    with pytest.raises(InvalidDataError, match="k must be"):
        topk_sae(da, 4, 5)
