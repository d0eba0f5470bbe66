"""Selectivity statistics: checked against scipy, property tests, bad input, real V4 neurons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from brainalign import make_responses
from brainalign.errors import InvalidDataError, StimulusMismatchError
from brainalign.provenance import loads
from brainalign.units import fdr, quantile_labels, selective_units, selectivity, top_stimuli


def _data(rng, n_units=6, sizes=(20, 25, 15), shift=1.5, offset=5.0):
    lab = np.concatenate([[c] * n for c, n in zip("abc", sizes, strict=True)])
    x = rng.normal(size=(len(lab), n_units)) + offset
    x[lab == "a", 0] += shift
    ids = [f"s{i}" for i in range(len(lab))]
    return make_responses(x, ids, stimulus_coords={"cat": lab}), x, lab


@pytest.mark.parametrize("equal_var", [False, True])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_t_matches_scipy(rng, equal_var, alternative):
    da, x, lab = _data(rng)
    r = selectivity(da, "cat", n_permutations=0, equal_var=equal_var, alternative=alternative)
    for c in "abc":
        ref = ss.ttest_ind(x[lab == c], x[lab != c], equal_var=equal_var, alternative=alternative)
        np.testing.assert_allclose(r["t"].sel(label=c).values, ref.statistic, rtol=1e-10)
        np.testing.assert_allclose(r["p"].sel(label=c).values, ref.pvalue, rtol=1e-8)


def test_f_dprime_si_means(rng):
    da, x, lab = _data(rng)
    r = selectivity(da, "cat", n_permutations=0)
    ref = ss.f_oneway(*(x[lab == c] for c in "abc"))
    np.testing.assert_allclose(r["F"].values, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(r["p_F"].values, ref.pvalue, rtol=1e-8)
    a, b = x[lab == "b"], x[lab != "b"]
    d = (a.mean(0) - b.mean(0)) / np.sqrt((a.var(0, ddof=1) + b.var(0, ddof=1)) / 2)
    np.testing.assert_allclose(r["dprime"].sel(label="b").values, d, rtol=1e-10)
    si = (a.mean(0) - b.mean(0)) / (np.abs(a.mean(0)) + np.abs(b.mean(0)))
    np.testing.assert_allclose(r["si"].sel(label="b").values, si, rtol=1e-10)
    np.testing.assert_allclose(r["mean_in"].sel(label="b").values, a.mean(0), rtol=1e-12)
    assert list(r["n_stimuli"].values) == [20, 25, 15]
    assert r["t"].dims == ("unit", "label")


def test_permutation_p_matches_scipy_permutation_test(rng):
    # small groups: scipy computes the exact permutation distribution
    x = rng.normal(size=(12, 3))
    x[:6, 0] += 1.0
    lab = np.array(["in"] * 6 + ["out"] * 6)
    da = make_responses(x, [f"s{i}" for i in range(12)])
    r = selectivity(da, lab, n_permutations=20000, seed=1)
    for u in range(3):
        ref = ss.permutation_test(
            (x[:6, u], x[6:, u]),
            lambda a, b, axis: ss.ttest_ind(a, b, equal_var=False, axis=axis).statistic,
            permutation_type="independent", n_resamples=np.inf, vectorized=True)
        assert abs(float(r["p_perm"].sel(label="in").values[u]) - ref.pvalue) < 0.012


def test_permutation_p_one_sided_and_F(rng):
    da, x, lab = _data(rng, shift=3.0)
    r = selectivity(da, "cat", n_permutations=999, alternative="greater", seed=3)
    assert r["p_perm"].sel(label="a").values[0] == pytest.approx(1 / 1000)  # planted unit
    assert r["p_F_perm"].values[0] == pytest.approx(1 / 1000)
    # null units: permutation p-values close to the parametric ones
    np.testing.assert_allclose(r["p_F_perm"].values[1:], r["p_F"].values[1:], atol=0.06)
    prov = loads(r.attrs["provenance"])
    assert prov["params"]["n_permutations"] == 999 and prov["seed"] == 3


def test_seed_reproducible_and_changes(rng):
    da, *_ = _data(rng)
    a = selectivity(da, "cat", n_permutations=200, seed=5)
    b = selectivity(da, "cat", n_permutations=200, seed=5)
    c = selectivity(da, "cat", n_permutations=200, seed=6)
    np.testing.assert_array_equal(a["p_perm"].values, b["p_perm"].values)
    assert not np.array_equal(a["p_perm"].values, c["p_perm"].values)


def test_batching_does_not_change_results(rng):
    da, *_ = _data(rng)
    a = selectivity(da, "cat", n_permutations=300, seed=2)
    b = selectivity(da, "cat", n_permutations=300, seed=2, max_batch_bytes=1)
    np.testing.assert_array_equal(a["p_perm"].values, b["p_perm"].values)


@pytest.mark.parametrize("method", ["bh", "by"])
def test_fdr_matches_scipy(rng, method):
    p = rng.uniform(size=200) ** 2
    np.testing.assert_allclose(fdr(p, method=method), ss.false_discovery_control(p, method=method),
                               rtol=1e-12)
    p2 = rng.uniform(size=(4, 50))
    ref = np.stack([ss.false_discovery_control(row, method=method) for row in p2])
    np.testing.assert_allclose(fdr(p2, method=method, axis=1), ref, rtol=1e-12)
    pn = p.copy()
    pn[[3, 7]] = np.nan
    out = fdr(pn, method=method)
    assert np.isnan(out[[3, 7]]).all()
    ok = ~np.isnan(pn)
    np.testing.assert_allclose(out[ok], ss.false_discovery_control(pn[ok], method=method))


def test_q_is_fdr_of_p_perm(rng):
    da, *_ = _data(rng, n_units=30)
    r = selectivity(da, "cat", n_permutations=300)
    for c in "abc":
        np.testing.assert_allclose(r["q"].sel(label=c).values,
                                   ss.false_discovery_control(r["p_perm"].sel(label=c).values))


def test_null_data_few_discoveries_planted_found():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(80, 200))
    lab = np.array(["x", "y"] * 40)
    x[lab == "x", :10] += 1.5
    r = selectivity(make_responses(x, [f"s{i}" for i in range(80)]), lab, n_permutations=500)
    sig = np.flatnonzero(r["q"].sel(label="x").values <= 0.05)
    assert set(range(10)) <= set(sig)
    assert len(set(sig) - set(range(10))) <= 3


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.01, 100), shift=st.floats(-1e3, 1e3), seed=st.integers(0, 10_000))
def test_affine_invariance(scale, shift, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(30, 4))
    lab = np.array(["p", "q", "r"] * 10)
    ids = [f"s{i}" for i in range(30)]
    a = selectivity(make_responses(x, ids), lab, n_permutations=50, seed=0)
    b = selectivity(make_responses(x * scale + shift, ids), lab, n_permutations=50, seed=0)
    for v in ("t", "dprime", "F", "p", "p_perm"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-6, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_stimulus_order_irrelevant(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(24, 3))
    lab = np.array(["p", "q"] * 12)
    order = rng.permutation(24)
    ids = np.array([f"s{i}" for i in range(24)])
    a = selectivity(make_responses(x, ids), lab, n_permutations=0)
    b = selectivity(make_responses(x[order], ids[order]), lab[order], n_permutations=0)
    for v in ("t", "dprime", "si", "F", "p"):
        np.testing.assert_allclose(a[v].values, b[v].values, rtol=1e-9)


# ------------------------------------------------------------------------------ labels & bad input
def test_labels_as_series_mapping_and_missing(rng):
    da, x, lab = _data(rng)
    ids = [str(s) for s in da["stimulus"].values]
    ser = pd.Series(lab[::-1], index=ids[::-1], name="cat")
    a = selectivity(da, "cat", n_permutations=0)
    b = selectivity(da, ser, n_permutations=0)
    np.testing.assert_allclose(a["t"].values, b["t"].values)
    c = selectivity(da, dict(zip(ids, lab, strict=True)), n_permutations=0)
    np.testing.assert_allclose(a["t"].values, c["t"].values)
    lab2 = lab.astype(object)
    lab2[:3] = None
    d = selectivity(da, lab2, n_permutations=0)
    assert loads(d.attrs["provenance"])["params"]["n_unlabelled_dropped"] == 3
    ref = ss.ttest_ind(x[3:][lab[3:] == "a"], x[3:][lab[3:] != "a"], equal_var=False)
    np.testing.assert_allclose(d["t"].sel(label="a").values, ref.statistic)
    e = selectivity(da, "cat", classes=["a", "b"], n_permutations=0)
    keep = lab != "c"
    ref = ss.ttest_ind(x[keep][lab[keep] == "a"], x[keep][lab[keep] == "b"], equal_var=False)
    np.testing.assert_allclose(e["t"].sel(label="a").values, ref.statistic)


def test_single_class_is_clear_error(rng):
    da, *_ = _data(rng)
    with pytest.raises(InvalidDataError, match="single class"):
        selectivity(da, ["a"] * da.sizes["stimulus"])


def test_too_few_per_class(rng):
    da, x, lab = _data(rng)
    lab = lab.astype(object)
    lab[0] = "lonely"
    with pytest.raises(InvalidDataError, match=r"too few stimuli per class.*'lonely': 1"):
        selectivity(da, lab)
    with pytest.raises(InvalidDataError, match="too few"):
        selectivity(da, "cat", min_per_class=30)


def test_units_that_never_activate(rng):
    da, x, lab = _data(rng, n_units=5)
    x = x.copy()
    x[:, 2] = 0.0
    da2 = make_responses(x, da["stimulus"].values, stimulus_coords={"cat": lab})
    with pytest.warns(UserWarning, match="1 of 5 units have constant responses"):
        r = selectivity(da2, "cat", n_permutations=100)
    assert not bool(r["active"].values[2])
    for v in ("t", "dprime", "si", "p", "p_perm", "q"):
        assert np.isnan(r[v].values[2]).all()
    ok = [0, 1, 3, 4]
    np.testing.assert_allclose(r["q"].sel(label="a").values[ok],
                               ss.false_discovery_control(r["p_perm"].sel(label="a").values[ok]))
    with pytest.raises(InvalidDataError, match="never activate"):
        selectivity(make_responses(np.zeros((60, 3)), da["stimulus"].values), lab)


def test_bad_shapes_and_values(rng):
    da, x, lab = _data(rng)
    with pytest.raises(InvalidDataError, match="labels for"):
        selectivity(da, lab[:-1])
    with pytest.raises(InvalidDataError, match="no stimulus coordinate"):
        selectivity(da, "nope")
    xn = x.copy()
    xn[4, 1] = np.nan
    with pytest.raises(InvalidDataError, match="NaN"):
        selectivity(make_responses(xn, da["stimulus"].values), lab)
    rep = make_responses(np.stack([x, x], -1), da["stimulus"].values, dims=("stimulus", "unit", "repeat"))
    with pytest.raises(InvalidDataError, match=r"responses.mean\('repeat'\)"):
        selectivity(rep, lab)
    with pytest.raises(StimulusMismatchError):
        selectivity(da, pd.Series(lab, index=[f"other{i}" for i in range(len(lab))]))
    with pytest.raises(InvalidDataError, match="alternative"):
        selectivity(da, lab, alternative="bigger")


# ------------------------------------------------------------------------------ tables, top-k
def test_selective_units_table_and_top_stimuli(rng):
    da, x, lab = _data(rng, shift=3.0)
    r = selectivity(da, "cat", n_permutations=200)
    tab = selective_units(r, "a", n=3)
    assert list(tab["unit"])[0] == "u0"
    assert tab["t"].is_monotonic_decreasing
    assert set(selective_units(r, n=2)["label"]) == {"a", "b", "c"}
    neg = selective_units(r, "a", n=6, positive=False)
    assert neg["t"].is_monotonic_increasing
    assert len(selective_units(r, "a", n=None, q_max=0.05)) >= 1
    with pytest.raises(InvalidDataError, match="classes"):
        selective_units(r, "zzz")
    top = top_stimuli(da, k=4)
    ids = np.asarray(da["stimulus"].values)
    for u in range(x.shape[1]):
        ref = ids[np.argsort(-x[:, u], kind="stable")[:4]]
        assert list(top["stimulus_id"].values[u]) == list(ref)
        np.testing.assert_allclose(top.values[u], np.sort(x[:, u])[::-1][:4])
    low = top_stimuli(da, k=2, largest=False)
    np.testing.assert_allclose(low.values[:, 0], x.min(axis=0))


def test_quantile_labels():
    v = np.arange(10.0)
    assert list(quantile_labels(v, 2)) == ["low"] * 5 + ["high"] * 5
    t = quantile_labels(v[::-1], 3, drop_middle=True)
    assert t[0] == "high" and t[-1] == "low" and t[5] is None
    s = quantile_labels(pd.Series([1.0, np.nan, 3.0, 2.0], index=list("abcd")), 2)
    assert pd.isna(s["b"]) and s["a"] == "low" and s["c"] == "high"
    with pytest.raises(InvalidDataError):
        quantile_labels(v, 1)


# ------------------------------------------------------------------------------ real brain units
@pytest.mark.slow
def test_v4_neurons_luminance_and_contrast(cowley):
    from brainalign.units import image_properties

    da = cowley.responses["201025"]
    props = image_properties(cowley.stimuli)
    # independent check of the luminance: PIL's own ITU-R 601 luma conversion
    pil = np.array([np.asarray(cowley.stimuli[i].convert("L"), float).mean() / 255 for i in range(0, 1200, 50)])
    assert np.corrcoef(pil, props["luminance"].to_numpy()[::50])[0, 1] > 0.99
    out = {}
    for prop in ("luminance", "contrast"):
        r = selectivity(da, quantile_labels(props[prop], 2), n_permutations=500, seed=0)
        assert r.sizes == {"unit": 89, "label": 2}
        np.testing.assert_allclose(r["t"].sel(label="high"), -r["t"].sel(label="low"), rtol=1e-10)
        out[prop] = int((r["q"].sel(label="high") <= 0.05).sum())
        assert "region" in r.coords and set(r["region"].values) == {"V4"}
    # V4 neurons are sensitive to luminance and contrast (many, but not all, neurons)
    assert 20 <= out["luminance"] <= 89
    assert 5 <= out["contrast"] <= 89
