"""Unit and property tests of the responses data model (brainalign.responses)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform

from brainalign.errors import InvalidDataError, StimulusMismatchError
from brainalign.provenance import make_provenance
from brainalign.responses import (
    align,
    check_same_stimuli,
    condensed,
    get_provenance,
    load,
    make_rdms,
    make_responses,
    save,
    stimulus_ids,
    validate,
)


def _resp(n_stim: int = 5, n_unit: int = 3, ids=None, seed: int = 0, **kw) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    ids = ids if ids is not None else [f"s{i}" for i in range(n_stim)]
    return make_responses(rng.normal(size=(len(ids), n_unit)), ids, **kw)


# ----------------------------------------------------------------------------- make_responses
def test_make_responses_labels_everything():
    prov = make_provenance("test.make", {"alpha": 1.5})
    da = make_responses(np.arange(6.0).reshape(3, 2), [1, 2, 3], ["a", "b"],
                        stimulus_coords={"category": ["x", "y", "x"]},
                        unit_coords={"layer": ["l1", "l2"]}, provenance=prov, name="bold",
                        source="unit-test")
    assert da.dims == ("stimulus", "unit") and da.name == "bold"
    assert stimulus_ids(da) == ["1", "2", "3"]  # ids are strings
    assert list(da["category"].values) == ["x", "y", "x"]
    assert da.attrs["source"] == "unit-test"
    assert isinstance(da.attrs["provenance"], str)
    assert get_provenance(da)["params"] == {"alpha": 1.5}
    assert json.loads(da.attrs["provenance"])["method"] == "test.make"


def test_make_responses_default_unit_ids_and_optional_dims():
    da = make_responses(np.zeros((4, 3, 5, 2)), list("abcd"), dims=("stimulus", "unit", "time", "repeat"),
                        coords={"time": np.linspace(0, 1, 5)})
    assert list(da["unit"].values) == ["u0", "u1", "u2"]
    assert da.sizes == {"stimulus": 4, "unit": 3, "time": 5, "repeat": 2}


@pytest.mark.parametrize("kwargs,match", [
    ({"dims": ("unit", "stimulus")}, "dims must be"),
    ({"dims": ("stimulus", "unit", "voxel")}, "dims must be"),
    ({"dims": ("stimulus", "unit", "time")}, "data has 2 dimensions"),
    ({"unit_ids": ["a", "b"]}, "2 unit ids for 3 columns"),
    ({"stimulus_coords": {"cat": [1, 2]}}, "'cat' has 2 values for 4 stimuli"),
    ({"unit_coords": {"layer": ["l"]}}, "'layer' has 1 values for 3 units"),
])
def test_make_responses_rejects_bad_shapes(kwargs, match):
    with pytest.raises(InvalidDataError, match=match):
        make_responses(np.zeros((4, 3)), list("abcd"), **kwargs)


def test_make_responses_wrong_number_of_stimulus_ids():
    with pytest.raises(InvalidDataError, match="3 stimulus ids for 4 rows"):
        make_responses(np.zeros((4, 3)), list("abc"))


def test_duplicated_ids_are_named():
    with pytest.raises(StimulusMismatchError, match="'b'"):
        make_responses(np.zeros((4, 2)), ["a", "b", "c", "b"])
    with pytest.raises(InvalidDataError, match="duplicated unit ids: 'u'"):
        make_responses(np.zeros((2, 2)), ["a", "b"], ["u", "u"])


def test_validate():
    da = _resp()
    assert validate(da) is da
    with pytest.raises(InvalidDataError, match="DataArray"):
        validate(np.zeros((2, 2)))  # type: ignore[arg-type]
    with pytest.raises(InvalidDataError, match="dims"):
        validate(da.transpose("unit", "stimulus"))
    with pytest.raises(InvalidDataError, match="lack ids"):
        validate(da.drop_vars("unit"))
    nan = da.copy(data=da.values.copy())
    nan.values[0, 0] = np.nan
    validate(nan)  # NaN allowed by default
    with pytest.raises(InvalidDataError, match="NaN"):
        validate(nan, allow_nan=False)


# ----------------------------------------------------------------------------- align
def test_align_reorders_to_the_first():
    a = _resp(ids=["x", "y", "z"], seed=1)
    b = _resp(ids=["z", "x", "y"], seed=2)
    a2, b2 = align(a, b)
    assert a2 is a
    assert stimulus_ids(b2) == ["x", "y", "z"]
    np.testing.assert_array_equal(b2.sel(stimulus="z").values, b.values[0])


def test_align_without_reorder_names_the_first_difference():
    a = _resp(ids=["x", "y", "z"])
    b = _resp(ids=["x", "z", "y"])
    with pytest.raises(StimulusMismatchError, match="position 1: 'y' vs 'z'"):
        align(a, b, reorder=False)


def test_align_missing_ids_are_named_both_ways():
    a = _resp(ids=["s1", "s2", "s3"])
    b = _resp(ids=["s3", "s1", "s4"])
    with pytest.raises(StimulusMismatchError) as exc:
        align(a, b)
    msg = str(exc.value)
    assert "in first but not second: 's2'" in msg
    assert "in second but not first: 's4'" in msg


def test_align_duplicated_ids_are_named():
    a = _resp(ids=["s1", "s2", "s3"])
    b = a.assign_coords(stimulus=["s1", "s3", "s3"])  # bypasses make_responses
    with pytest.raises(StimulusMismatchError, match="duplicated stimulus ids: 's3'"):
        align(a, b)
    with pytest.raises(StimulusMismatchError, match="second has duplicated stimulus ids: 'x'"):
        check_same_stimuli(["x", "y"], ["x", "x"], names=("first", "second"))


def test_long_id_lists_are_previewed():
    with pytest.raises(StimulusMismatchError, match=r"\.\.\. \(20 in all\)"):
        check_same_stimuli([f"a{i}" for i in range(20)], [f"b{i}" for i in range(20)])


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(12))))
def test_align_property_values_follow_ids(perm):
    ids = [f"img{i:02d}" for i in range(12)]
    a = _resp(ids=ids, n_unit=2, seed=3)
    b = make_responses(a.values[perm] * 10, [ids[i] for i in perm])
    _, b2 = align(a, b)
    np.testing.assert_array_equal(b2.values, a.values * 10)
    assert stimulus_ids(b2) == ids


# ----------------------------------------------------------------------------- Zarr
def _rich() -> xr.DataArray:
    rng = np.random.default_rng(7)
    data = rng.normal(size=(6, 4, 3)).astype(np.float32)
    data[2, 1, 0] = np.nan
    return make_responses(
        data, [f"stim-é{i}" for i in range(6)], [f"layer1/c{i}" for i in range(4)],
        dims=("stimulus", "unit", "repeat"),
        stimulus_coords={"category": ["face", "body"] * 3, "onset": np.arange(6) * 0.5},
        unit_coords={"layer": ["layer1"] * 4, "channel": np.arange(4)},
        coords={"repeat": [0, 1, 2]},
        provenance=make_provenance("test.zarr", {"nested": {"a": [1, 2]}}, seed=3),
        name="activation", source="unit-test")


def test_zarr_round_trip_is_identical(tmp_path):
    da = _rich()
    path = save(da, tmp_path / "r.zarr")
    back = load(path)
    xr.testing.assert_identical(back, da)
    assert back.name == "activation"
    assert back.attrs == da.attrs
    assert get_provenance(back) == get_provenance(da)
    assert back.dtype == np.float32
    assert np.isnan(back.values[2, 1, 0])


def test_zarr_lazy_and_chunks(tmp_path):
    da = _rich()
    save(da, tmp_path / "r.zarr", chunks={"stimulus": 2})
    lazy = load(tmp_path / "r.zarr", lazy=True)
    assert lazy.chunks is not None and lazy.chunks[0] == (2, 2, 2)
    np.testing.assert_array_equal(lazy.values, da.values)


def test_zarr_overwrite_and_errors(tmp_path):
    save(_resp(seed=1), tmp_path / "r.zarr")
    second = _resp(seed=2)
    save(second, tmp_path / "r.zarr")  # mode="w" replaces
    np.testing.assert_array_equal(load(tmp_path / "r.zarr").values, second.values)
    with pytest.raises(FileNotFoundError, match="no Zarr store"):
        load(tmp_path / "missing.zarr")
    (tmp_path / "junk").mkdir()
    with pytest.raises(InvalidDataError):
        load(tmp_path / "junk")
    xr.Dataset({"other": ("x", [1, 2])}).to_zarr(tmp_path / "other.zarr", consolidated=False)
    with pytest.raises(InvalidDataError, match="no 'responses'"):
        load(tmp_path / "other.zarr")


def test_save_rejects_invalid(tmp_path):
    bad = _resp().assign_coords(stimulus=["a", "a", "b", "c", "d"])
    with pytest.raises(StimulusMismatchError):
        save(bad, tmp_path / "bad.zarr")


# ----------------------------------------------------------------------------- RDMs
@pytest.fixture
def points():
    return np.random.default_rng(0).normal(size=(3, 6, 4))  # 3 "subjects", 6 stimuli


def test_make_rdms_square_and_condensed_agree_with_scipy(points):
    ids = [f"s{i}" for i in range(6)]
    vecs = np.stack([pdist(p, "correlation") for p in points])
    from_vec = make_rdms(vecs, ids, ["a", "b", "c"], rdm_coords={"subject": ["a", "b", "c"]},
                         dissimilarity="1 - pearson r")
    from_sq = make_rdms(np.stack([squareform(v) for v in vecs]), ids)
    assert from_vec.dims == ("rdm", "stimulus", "stimulus2") and from_vec.shape == (3, 6, 6)
    np.testing.assert_array_equal(from_vec.values, from_sq.values)
    np.testing.assert_allclose(condensed(from_vec), vecs, rtol=0, atol=0)
    assert from_vec.attrs["dissimilarity"] == "1 - pearson r"
    assert list(from_vec["subject"].values) == ["a", "b", "c"]
    single = make_rdms(vecs[0], ids)
    assert single.shape == (1, 6, 6)


@pytest.mark.slow  # importing rsatoolbox takes ~6 s
def test_condensed_order_matches_rsatoolbox(points):
    rsatoolbox = pytest.importorskip("rsatoolbox")
    vecs = np.stack([pdist(p) for p in points])
    ref = rsatoolbox.rdm.RDMs(dissimilarities=vecs)
    ours = make_rdms(ref.get_matrices(), [f"s{i}" for i in range(6)])
    np.testing.assert_allclose(condensed(ours), ref.get_vectors())


def test_make_rdms_checks(points):
    ids = [f"s{i}" for i in range(6)]
    m = squareform(pdist(points[0]))
    with pytest.raises(InvalidDataError, match="length 14 do not fit 6 stimuli"):
        make_rdms(np.zeros((2, 14)), ids)
    with pytest.raises(InvalidDataError, match="square"):
        make_rdms(np.zeros((2, 6, 5)), ids)
    asym = m.copy()
    asym[0, 1] += 1
    with pytest.raises(InvalidDataError, match=r"\['1'\] are not symmetric"):
        make_rdms(np.stack([m, asym]), ids)
    diag = m + np.eye(6)
    with pytest.raises(InvalidDataError, match="zero diagonal"):
        make_rdms(diag, ids)
    hole = m.copy()
    hole[1, 2] = hole[2, 1] = np.nan
    with pytest.raises(InvalidDataError, match="NaN off the diagonal"):
        make_rdms(hole, ids)
    with pytest.raises(InvalidDataError, match="2 names for 1 RDMs"):
        make_rdms(m, ids, ["a", "b"])
    with pytest.raises(InvalidDataError, match="'subject' has 2 values for 1 RDMs"):
        make_rdms(m, ids, rdm_coords={"subject": ["a", "b"]})
    with pytest.raises(StimulusMismatchError, match="'s0'"):
        make_rdms(m, ["s0", *ids[:4], "s0"])
    # NaN on the diagonal is allowed; check=False skips the checks
    nan_diag = m.copy()
    np.fill_diagonal(nan_diag, np.nan)
    assert make_rdms(nan_diag, ids).shape == (1, 6, 6)
    assert make_rdms(diag, ids, check=False).values[0, 0, 0] == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 9), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_rdm_property_round_trip(n, k, seed):
    """Stacks of condensed RDMs of any size round-trip (n = 3, k = 3 used to be read as one RDM)."""
    x = np.random.default_rng(seed).normal(size=(k, n, 3))
    vecs = np.stack([pdist(p) for p in x])
    r = make_rdms(vecs, [str(i) for i in range(n)])
    np.testing.assert_array_equal(condensed(r), vecs)
    np.testing.assert_array_equal(r.values, r.values.transpose(0, 2, 1))
