"""Representation metrics: references (scipy, scikit-learn, rsatoolbox) and property tests of their
documented invariances (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from scipy.linalg import orthogonal_procrustes, subspace_angles
from scipy.stats import ortho_group

from brainalign.errors import InvalidDataError
from brainalign.responses import condensed, make_rdms, make_responses
from brainalign.similarity import (
    angular,
    canonical_correlations,
    cca,
    cka,
    compare_rdms,
    compare_representations,
    compute_rdms,
    geotopological,
    linear_cka_matrix,
    mutual_knn,
    procrustes,
    pwcca,
    rsa_over_time,
    svcca,
    temporal_generalization,
    time_resolved_rdms,
)

SETTINGS = settings(max_examples=20, deadline=None)
seeds = hst.integers(0, 2**31 - 1)


def _xy(seed, n=20, p=6, q=5, shared=0.7):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 3))
    x = z @ rng.standard_normal((3, p)) + 0.5 * rng.standard_normal((n, p))
    y = shared * z @ rng.standard_normal((3, q)) + 0.5 * rng.standard_normal((n, q))
    return x, y, rng


def _cka_feature_space(x, y):
    xc, yc = x - x.mean(0), y - y.mean(0)
    return np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))


def _hsic_unbiased_loop(k, l_):
    n = len(k)
    k, l_ = k.copy(), l_.copy()
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l_, 0)
    one = np.ones(n)
    return (np.trace(k @ l_) + (one @ k @ one) * (one @ l_ @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * one @ k @ l_ @ one) / (n * (n - 3))


def test_linear_cka_references():
    x, y, _ = _xy(0)
    assert cka(x, y) == pytest.approx(_cka_feature_space(x, y), rel=1e-12)
    xc, yc = x - x.mean(0), y - y.mean(0)
    k, l_ = xc @ xc.T, yc @ yc.T
    ref = _hsic_unbiased_loop(k, l_) / np.sqrt(_hsic_unbiased_loop(k, k) * _hsic_unbiased_loop(l_, l_))
    assert cka(x, y, unbiased=True) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("device", [None, "cpu"])
def test_cka_matrix_streamed_equals_pairwise(unbiased, device):
    rng = np.random.default_rng(1)
    reps = [rng.standard_normal((30, p)) for p in (4, 9, 16)]
    reps.append(reps[0] @ rng.standard_normal((4, 7)))
    full = linear_cka_matrix(reps, unbiased=unbiased, device=device)
    tiny = linear_cka_matrix(reps, unbiased=unbiased, memory_budget=4 * 30 * 8 * 8, device=device)  # 1-row blocks
    exp = np.array([[cka(a, b, unbiased=unbiased) for b in reps] for a in reps])
    np.testing.assert_allclose(full, exp, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tiny, exp, rtol=1e-10, atol=1e-12)
    f32 = linear_cka_matrix(reps, unbiased=unbiased, dtype=np.float32)
    np.testing.assert_allclose(f32, exp, atol=1e-5)


@SETTINGS
@given(seeds, hst.floats(0.1, 10.0))
def test_cka_invariances(seed, scale):
    x, y, rng = _xy(seed)
    q = ortho_group.rvs(x.shape[1], random_state=seed % 2**32)
    base = cka(x, y)
    assert cka(scale * x @ q + 3.0, y) == pytest.approx(base, rel=1e-8, abs=1e-10)
    assert cka(x, y, kernel="rbf") == pytest.approx(cka(scale * x @ q - 1.0, y, kernel="rbf"), rel=1e-7)
    assert cka(x, y, unbiased=True) == pytest.approx(cka(x @ q * scale, y, unbiased=True), rel=1e-7, abs=1e-9)
    assert cka(x, x) == pytest.approx(1.0)
    # not invariant to a general (anisotropic) linear map
    d = np.diag(np.linspace(0.1, 10, x.shape[1]))
    assert abs(cka(x @ d, y) - base) > 1e-6


@SETTINGS
@given(seeds, hst.floats(0.1, 10.0))
def test_shape_distance_invariances_and_metric(seed, scale):
    x, y, rng = _xy(seed, p=5, q=5)
    z = rng.standard_normal(x.shape)
    q = ortho_group.rvs(5, random_state=seed % 2**32)
    assert procrustes(x, y) == pytest.approx(procrustes(scale * x @ q + 2, y), abs=1e-8)
    assert angular(x, y) == pytest.approx(angular(y, x), abs=1e-10)
    assert angular(x, x @ q) == pytest.approx(0.0, abs=1e-6)
    assert angular(x, z) <= angular(x, y) + angular(y, z) + 1e-9
    assert 0 <= procrustes(x, y) <= np.sqrt(2) + 1e-12


def test_procrustes_matches_scipy():
    x, y, _ = _xy(3, p=5, q=5)
    a = (x - x.mean(0)) / np.linalg.norm(x - x.mean(0))
    b = (y - y.mean(0)) / np.linalg.norm(y - y.mean(0))
    r, _ = orthogonal_procrustes(a, b)
    assert procrustes(x, y) == pytest.approx(np.linalg.norm(a @ r - b), rel=1e-10)
    # different widths: zero-padding the narrower one
    y3 = y[:, :3]
    b3 = np.hstack([(y3 - y3.mean(0)) / np.linalg.norm(y3 - y3.mean(0)), np.zeros((len(y3), 2))])
    r, _ = orthogonal_procrustes(a, b3)
    assert procrustes(x, y3) == pytest.approx(np.linalg.norm(a @ r - b3), rel=1e-10)


def test_cca_matches_principal_angles_and_is_linear_invariant():
    x, y, rng = _xy(4)
    rho = canonical_correlations(x, y)
    ref = np.sort(np.cos(subspace_angles(x - x.mean(0), y - y.mean(0))))[::-1]
    np.testing.assert_allclose(rho, ref, atol=1e-10)
    a = rng.standard_normal((x.shape[1], x.shape[1]))  # invertible (almost surely)
    assert cca(x @ a + 5, y) == pytest.approx(cca(x, y), abs=1e-8)
    assert 0 < svcca(x, y, keep=0.99) <= 1
    q = ortho_group.rvs(y.shape[1], random_state=0)
    assert pwcca(x, y) == pytest.approx(pwcca(x, 2 * y @ q), abs=1e-8)
    with pytest.raises(InvalidDataError, match="degenerate"):
        cca(rng.standard_normal((10, 12)), rng.standard_normal((10, 12)))


def test_mutual_knn_matches_sklearn():
    from sklearn.neighbors import NearestNeighbors

    x, y, _ = _xy(5, n=40)
    k = 5

    def sets(a):
        nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(a)
        idx = nn.kneighbors(a, return_distance=False)
        return [set(row[row != i][:k]) for i, row in enumerate(idx)]

    sx, sy = sets(x), sets(y)
    ref = np.mean([len(a & b) / k for a, b in zip(sx, sy, strict=True)])
    assert mutual_knn(x, y, k=k) == pytest.approx(ref)
    q = ortho_group.rvs(x.shape[1], random_state=1)
    assert mutual_knn(3 * x @ q, y, k=k) == pytest.approx(ref)
    assert mutual_knn(x, x, k=k) == 1.0


def test_compare_representations_all_pairs():
    rng = np.random.default_rng(6)
    n = 25
    data = rng.standard_normal((n, 24))
    resp = make_responses(data, [f"s{i}" for i in range(n)], unit_coords={"layer": np.repeat(["a", "b", "c"], 8)})
    for metric in ("cka", "procrustes", "angular", "mutual_knn", "svcca"):
        out = compare_representations(resp, metric, by="layer")
        assert out.dims == ("rep_a", "rep_b") and list(out["rep_a"].values) == ["a", "b", "c"]
        fn = {"cka": cka, "procrustes": procrustes, "angular": angular, "mutual_knn": mutual_knn,
              "svcca": svcca}[metric]
        xs = [data[:, i * 8:(i + 1) * 8] for i in range(3)]
        exp = np.array([[fn(a, b) for b in xs] for a in xs])
        np.testing.assert_allclose(out.values, exp, atol=1e-7)
    shuffled = resp.isel(stimulus=rng.permutation(n))
    both = compare_representations({"A": resp, "B": shuffled}, "cka")
    assert both.sel(rep_a="A", rep_b="B") == pytest.approx(1.0)


def test_geotopological_matches_rsatoolbox_and_is_monotone_invariant():
    from rsatoolbox.rdm import RDMs
    from rsatoolbox.rdm.transform import geotopological_transform

    rng = np.random.default_rng(7)
    v = rng.random((3, 45))
    rdms = make_rdms(v, [f"s{i}" for i in range(10)])
    ours = condensed(geotopological(rdms, 0.2, 0.8, per_rdm=False))
    lo, hi = np.quantile(v, [0.2, 0.8])
    np.testing.assert_allclose(ours, np.interp(v, [lo, hi], [0, 1]), atol=1e-12)
    # rsatoolbox applies its "> upper quantile -> 1" step to the already rescaled values, so
    # rescaled values above the threshold also become 1; apart from that it agrees
    ref = geotopological_transform(RDMs(v.copy()), 0.2, 0.8).get_vectors()
    np.testing.assert_allclose(np.where(ours > hi, 1.0, ours), ref, atol=1e-12)
    per = condensed(geotopological(rdms, 0.2, 0.8))
    affine = condensed(geotopological(make_rdms(3 * v + 2, [f"s{i}" for i in range(10)]), 0.2, 0.8))
    np.testing.assert_allclose(per, affine, atol=1e-9)
    mono = condensed(geotopological(make_rdms(np.exp(3 * v), [f"s{i}" for i in range(10)]), 0.2, 0.8))
    np.testing.assert_array_equal(per == 0, mono == 0)
    np.testing.assert_array_equal(per == 1, mono == 1)


def test_time_resolved_rsa():
    rng = np.random.default_rng(8)
    n, p, t = 12, 10, 4
    data = rng.standard_normal((n, p, t))
    resp = make_responses(data, [f"s{i}" for i in range(n)], dims=("stimulus", "unit", "time"),
                          coords={"time": [0.0, 0.1, 0.2, 0.3]})
    rdms = time_resolved_rdms(resp)
    assert rdms.sizes["rdm"] == t and list(rdms["time"].values) == [0.0, 0.1, 0.2, 0.3]
    ref = compute_rdms(resp.isel(time=2, drop=True))
    np.testing.assert_allclose(rdms.values[2], ref.values[0])
    model = compute_rdms(make_responses(data[:, :, 2], list(resp["stimulus"].values)))
    over = rsa_over_time(model, rdms)
    assert over.dims == ("model", "time") and int(over.argmax("time").item()) == 2
    gen = temporal_generalization(rdms)
    np.testing.assert_allclose(np.diag(gen.values), 1.0)
    np.testing.assert_allclose(gen.values, compare_rdms(rdms, rdms).values)
    with pytest.raises(InvalidDataError, match="time_resolved_rdms"):
        compute_rdms(resp)
