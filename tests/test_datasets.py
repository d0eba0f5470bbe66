"""Golden values of the five built-in datasets, read from the real mirror.

Expected numbers were read from the raw files with numpy / scipy / h5py (independently of the
loaders) and are hard-coded here, so a change in parsing, ordering or alignment fails a test.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import scipy.io as sio
from click.testing import CliRunner

from brainalign.data import DATASETS, data_root, dataset_info, load_dataset
from brainalign.data.datasets import brennan, flavell
from brainalign.errors import InvalidDataError, UnknownNameError
from brainalign.responses import condensed, get_provenance, validate

ALL = ("algonauts2019", "brennan2016", "cowley2023", "flavell2023", "kriegeskorte2008")


@pytest.fixture(scope="module")
def algonauts():
    return load_dataset("algonauts2019")


@pytest.fixture(scope="module")
def alice():
    return load_dataset("brennan2016")


@pytest.fixture(scope="module")
def worm():
    return load_dataset("flavell2023")


def _raw(rel: str):
    return data_root() / rel


def test_registry_has_all_five():
    assert set(ALL) <= set(DATASETS.names())
    for name in ALL:
        info = dataset_info(name)
        assert info.files and all(f.sha256 and len(f.sha256) == 64 for f in info.files)
        assert info.citation and info.licence and info.source


# ----------------------------------------------------------------------------- kriegeskorte
def test_kriegeskorte_golden(kriegeskorte):
    assert len(kriegeskorte.stimuli) == 92
    assert kriegeskorte.stimuli[0].size == (175, 175)
    meta = kriegeskorte.stimuli.metadata
    assert meta["animacy"].value_counts().to_dict() == {"animate": 48, "inanimate": 44}
    hit = kriegeskorte.rdms["hit_subjects"]
    assert hit.shape == (8, 92, 92)
    assert list(hit["subject"].values) == ["BE", "BE", "KO", "KO", "SN", "SN", "TI", "TI"]
    assert list(hit["session"].values) == [1, 2] * 4
    m = hit.values
    np.testing.assert_array_equal(m, m.transpose(0, 2, 1))
    assert np.all(m[:, np.arange(92), np.arange(92)] == 0)
    it = kriegeskorte.rdms["it"]
    assert list(it["rdm"].values) == ["mIT", "hIT"]
    assert it.values[0, 0, 1] == pytest.approx(0.9669127246041016, abs=1e-12)
    assert it.values[1, 0, 1] == pytest.approx(0.9356239885091782, abs=1e-12)
    # independent read of the same file
    raw = sio.loadmat(_raw("kriegeskorte2008_92/92_brainRDMs.mat"), squeeze_me=True,
                      struct_as_record=False)["RDMs"]
    np.testing.assert_array_equal(m[3], np.asarray(raw[1][1].RDM, float))  # KO session 2


# ----------------------------------------------------------------------------- cowley
def test_cowley_golden(cowley):
    r = cowley.responses["201025"]
    validate(r)
    assert r.shape == (1200, 89)
    assert r.values[0, 0] == pytest.approx(2.6363636363636362)
    assert r.values[5, 7] == pytest.approx(2.6923076923076925)
    assert str(r["stimulus"].values[0]) == "201025/image0001"
    raw = np.load(_raw("cowley2023_v4/responses_repeat_averaged/responses_201025.npy"))
    np.testing.assert_array_equal(r.values, raw.T)
    assert cowley.stimuli[0].size == (112, 112)


# ----------------------------------------------------------------------------- algonauts
def test_algonauts_rdms(algonauts):
    assert len(algonauts.stimuli) == 78
    assert algonauts.stimuli.ids[0] == "image_01" and algonauts.stimuli.ids[-1] == "image_78"
    for key, region, v01, v_3_10_20 in (("evc", "EVC", 0.41302534413724645, None),
                                       ("it", "IT", 0.36588553497812104, 0.20424738237571538)):
        r = algonauts.rdms[key]
        assert r.dims == ("rdm", "stimulus", "stimulus2") and r.shape == (15, 78, 78)
        assert list(r["subject"].values[:2]) == ["sub01", "sub02"]
        assert set(r["region"].values) == {region}
        assert r.values[0, 0, 1] == pytest.approx(v01, abs=1e-15)
        if v_3_10_20 is not None:
            assert r.values[3, 10, 20] == pytest.approx(v_3_10_20, abs=1e-15)
        m = r.values
        # documented conventions: symmetric to rounding (not bit-identical), zero diagonal, no NaN
        assert np.abs(m - m.transpose(0, 2, 1)).max() < 1e-15
        assert np.all(m[:, np.arange(78), np.arange(78)] == 0)
        assert not np.isnan(m).any() and m.min() >= 0 and m.max() < 1
        raw = np.load(_raw(f"algonauts2019_78/brain/fmri_{region}_RDMs.npz"))["arr_0"]
        np.testing.assert_array_equal(m, raw)
        assert condensed(r).shape == (15, 78 * 77 // 2)
        assert "pearson" in r.attrs["dissimilarity"]


def test_algonauts_features(algonauts):
    f = algonauts.responses["resnet18"]
    validate(f)
    assert f.shape == (78, 256 * 14 * 14 + 512 * 7 * 7)
    assert f.dtype == np.float32
    assert list(dict.fromkeys(f["layer"].values.tolist())) == ["layer3.1.conv2", "layer4.1.bn2"]
    # image_05 row equals the raw file, flattened (channel, y, x) per layer
    with np.load(_raw("algonauts2019_78/features_resnet18/ResNet18_image_05.npz")) as z:
        for layer in ("layer3.1.conv2", "layer4.1.bn2"):
            got = f.sel(stimulus="image_05", unit=f["layer"] == layer).values
            np.testing.assert_array_equal(got, z[layer].reshape(-1))
            c, h, w = z[layer].shape[1:]
            sel = f.sel(unit=f["layer"] == layer)
            # unit (channel=3, y=2, x=5) is element [0, 3, 2, 5] of the raw tensor
            u = sel.sel(unit=f"{layer}/c3/y2x5")
            assert int(u["channel"]) == 3 and int(u["position"]) == 2 * w + 5
            assert float(u.sel(stimulus="image_05")) == z[layer][0, 3, 2, 5]
    l4 = f.sel(unit=f["layer"] == "layer4.1.bn2").values
    assert l4.min() == 0.0  # documented caveat: relu(bn2 + shortcut), not the BatchNorm output
    prov = get_provenance(f)
    assert prov["params"]["computed_by"] == "Net2Brain"


def test_algonauts_without_features():
    d = load_dataset("algonauts2019", features=False)
    assert d.responses == {} and set(d.rdms) == {"evc", "it"}


# ----------------------------------------------------------------------------- brennan
def test_brennan_responses(alice):
    assert set(alice.responses) == {"6mm", "10mm"}
    for radius, da in alice.responses.items():
        validate(da)
        assert da.shape == (362, 27 * 6)
        assert "s33" not in set(da["subject"].values)
        assert set(da["radius"].values) == {radius}
        np.testing.assert_array_equal(da["time"].values, (np.arange(362) + 10) * 2.0)
        assert da["time"].values[0] == 20.0 and da["time"].values[-1] == 742.0
    six = alice.responses["6mm"]
    assert six.sel(stimulus="tr000", unit="s18/LATL").item() == pytest.approx(80.890972)
    raw = np.loadtxt(_raw("brennan2016_alice/alice_data_shared/10mm/s44-timecourses.txt"))
    np.testing.assert_array_equal(
        alice.responses["10mm"].sel(unit=[f"s44/{r}" for r in brennan.REGIONS]).values, raw)
    prov = get_provenance(six)
    assert "s33" in prov["params"]["excluded_subjects"]
    assert "s33" in dataset_info("brennan2016").description


def test_brennan_subject_tr_roi(alice):
    cube = brennan.subject_tr_roi(alice.responses["6mm"])
    assert cube.dims == ("subject", "stimulus", "region") and cube.shape == (27, 362, 6)
    assert list(cube["region"].values) == list(brennan.REGIONS)
    da = alice.responses["6mm"]
    np.testing.assert_array_equal(cube.sel(subject="s40").values,
                                  da.sel(unit=da["subject"] == "s40").values)
    np.testing.assert_array_equal(cube["time"].values, da["time"].values)


def test_brennan_words(alice):
    words = alice.extra["words"]
    assert len(words) == 2127 == len(alice.stimuli)
    assert alice.stimuli.kind == "text"
    assert alice.stimuli.ids[:2] == ["w0000", "w0001"]
    assert alice.stimuli[0] == "Alice" and words["word"].iloc[0] == "Alice"
    assert words["onset"].iloc[0] == pytest.approx(20.05891632653599, abs=1e-12)
    assert words["offset"].iloc[0] == pytest.approx(20.621637414967992, abs=1e-12)
    assert words["word"].iloc[-1] == "cake"
    assert (np.diff(words["onset"].to_numpy()) > 0).all()
    # tr: the scan whose window [t, t + 2 s) holds the onset; t of scan i is (i + 10) * 2
    t0 = (words["tr"].to_numpy() + 10) * 2.0
    assert ((words["onset"] >= t0) & (words["onset"] < t0 + 2)).all()


def test_brennan_regressors_aligned(alice):
    reg = alice.extra["regressors"]
    da = alice.responses["6mm"]
    assert list(reg.index) == list(da["stimulus"].values)
    assert reg.shape == (362, 12 + 27 * 8)
    assert list(reg["all"].columns) == list(brennan.PREDICTORS)
    assert list(reg["s18"].columns) == ["sndpwr", "rate", *brennan.MOTION]
    # motion and predictors have 372 rows (all volumes): rows 10.. are kept
    motion = np.loadtxt(_raw("brennan2016_alice/alice_data_shared/s22-rp_epiRTwm2_scan_0004__003.txt"))
    np.testing.assert_array_equal(reg["s22"][list(brennan.MOTION)].values, motion[10:])
    # the alignment is right: rate_conv (372 rows) matches the subject's word rate (362 rows)
    # only with a shift of 10 volumes
    pred = np.loadtxt(_raw("brennan2016_alice/alice_data_shared/"
                           "sept18-generic-predictors-under-hrf-with-logfrqhal.txt"))
    rate = reg["s18"]["rate"].to_numpy()
    r = [np.corrcoef(pred[k:k + 362, 0], rate)[0, 1] for k in range(11)]
    assert int(np.argmax(r)) == 10 and r[10] > 0.97
    assert np.corrcoef(reg["all"]["rate_conv"], rate)[0, 1] == pytest.approx(r[10])


def test_brennan_options():
    d = load_dataset("brennan2016", subjects=["s40", "s18"], zscore=True)
    da = d.responses["10mm"]
    assert list(dict.fromkeys(da["subject"].values.tolist())) == ["s40", "s18"]
    np.testing.assert_allclose(da.values.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(da.values.std(axis=0), 1, atol=1e-10)
    assert set(d.extra["regressors"].columns.get_level_values(0)) == {"all", "s40", "s18"}
    with pytest.raises(InvalidDataError, match="s33.*constant"):
        load_dataset("brennan2016", subjects=["s33"])
    with pytest.raises(UnknownNameError, match="s18"):
        load_dataset("brennan2016", subjects=["s99"])


def test_textgrid_parser(tmp_path):
    p = tmp_path / "x.TextGrid"
    p.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 2\n'
                 'tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n'
                 '        class = "IntervalTier"\n        name = "word"\n        xmin = 0\n'
                 '        xmax = 2\n        intervals: size = 2\n'
                 '        intervals [1]:\n            xmin = 0\n            xmax = 0.5\n'
                 '            text = "say ""hi"""\n'
                 '        intervals [2]:\n            xmin = 0.5\n            xmax = 2\n'
                 '            text = ""\n', encoding="utf-8")
    df = brennan.parse_textgrid(p)
    assert df["text"].tolist() == ['say "hi"', ""]
    assert df["xmax"].tolist() == [0.5, 2.0]
    with pytest.raises(UnknownNameError, match="word"):
        brennan.parse_textgrid(p, "phone")
    p.write_text(p.read_text().replace("intervals: size = 2", "intervals: size = 3"))
    with pytest.raises(InvalidDataError, match="truncated"):
        brennan.parse_textgrid(p)
    q = tmp_path / "short.TextGrid"
    q.write_text('File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n2\n<exists>\n1\n')
    with pytest.raises(InvalidDataError, match="long TextGrid"):
        brennan.parse_textgrid(q)


# ----------------------------------------------------------------------------- flavell
def test_flavell_traces(worm):
    rec = "2022-07-26-31"
    da = worm.responses[rec]
    validate(da)
    assert da.shape == (800, 146)
    with h5py.File(_raw(f"flavell2023_celegans/{rec}-data.h5"), "r") as h5:
        np.testing.assert_array_equal(da.values, h5["gcamp/trace_array"][()])
        roi_match = h5["neuropal_registration/roi_match"][()]
        stamps = h5["timing/timestamp_confocal"][()]
        velocity = h5["behavior/velocity"][()]
    np.testing.assert_allclose(da["time"].values, stamps - stamps[0])
    assert worm.extra["frame_rate"] == pytest.approx(1.6623, abs=1e-3)
    # trace_array is z-scored per neuron with ddof=1
    np.testing.assert_allclose(da.values.std(axis=0, ddof=1), 1, atol=1e-9)
    # NeuroPAL: roi_match[k] is the 1-based neuron of NeuroPAL ROI k + 1
    roi = da["neuropal_roi"].values
    assert (roi > 0).sum() == 135
    for k in np.flatnonzero(roi_match > 0)[:20]:
        assert roi[roi_match[k] - 1] == k + 1
    assert np.isnan(da["neuropal_confidence"].values[roi < 0]).all()
    beh = worm.extra["behaviour"]
    assert list(beh.index) == list(da["stimulus"].values)
    np.testing.assert_array_equal(beh["velocity"].to_numpy(), velocity)
    rv = np.zeros(800, dtype=int)
    for start, stop in worm.extra["reversals"].itertuples(index=False):
        rv[start:stop] = 1
    np.testing.assert_array_equal(rv, beh["reversal_vec"].to_numpy())
    assert worm.extra["posture"]["body_angle"].shape == (800, 30)


def test_flavell_connectome(worm):
    edges = worm.extra["connectome"]
    assert len(edges) == 2781
    assert edges["type"].value_counts().to_dict() == {"chemical": 2202, "electrical": 579}
    assert edges["synapses"].sum() == 8264
    with open(_raw("flavell2023_celegans/connectome/witvliet_2020_7.json")) as f:
        raw = json.load(f)
    first = edges.iloc[0]
    assert (first["pre"], first["post"], first["synapses"]) == (raw[0]["pre"], raw[0]["post"],
                                                               len(raw[0]["syn"]))
    chem = flavell.adjacency(edges, "chemical")
    assert chem.shape == (224, 224) and int(chem.sel(pre="ADAL", post="AIAL")) == 2
    gap = flavell.adjacency(edges, "electrical").values
    assert (gap != gap.T).sum() <= 6  # gap junctions are listed in both directions (3 exceptions)
    total = flavell.adjacency(edges, "all")
    assert int(total.sum()) == 8264


def test_flavell_options():
    d = load_dataset("flavell2023", recording="2022-08-02-31", trace="original", connectome=False)
    da = d.responses["2022-08-02-31"]
    assert da.shape == (800, 130) and "connectome" not in d.extra
    assert str(da["stimulus"].values[0]) == "2022-08-02-31/f000"
    assert get_provenance(da)["params"]["hdf5_dataset"] == "gcamp/trace_array_original"
    with pytest.raises(UnknownNameError, match="2022-07-27-31"):
        load_dataset("flavell2023", recording="2022-01-01-01")
    with pytest.raises(UnknownNameError, match="zscored"):
        load_dataset("flavell2023", trace="dff")


# ----------------------------------------------------------------------------- CLI
def test_cli_datasets_list():
    from brainalign.cli import main

    res = CliRunner().invoke(main, ["datasets", "list"])
    assert res.exit_code == 0, res.output
    for name in ALL:
        assert name in res.output
    res = CliRunner().invoke(main, ["datasets", "list", "--json"])
    assert {row["name"] for row in json.loads(res.output)} >= set(ALL)


@pytest.mark.parametrize("name,key", [("brennan2016", "6mm"), ("flavell2023", "2022-07-26-31")])
def test_cli_datasets_show(name, key):
    from brainalign.cli import main

    res = CliRunner().invoke(main, ["datasets", "show", name, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["name"] == name and key in out["loaded"]["responses"]
    assert len(out["files"]) == len(dataset_info(name).files)
    res = CliRunner().invoke(main, ["datasets", "show", name])
    assert res.exit_code == 0 and "citation:" in res.output


def test_cli_datasets_show_unknown():
    from brainalign.cli import main

    res = CliRunner().invoke(main, ["datasets", "show", "brenan2016"])
    assert res.exit_code == 2
    assert "brennan2016" in res.output and "flavell2023" in res.output


def test_cli_datasets_show_sizes_and_files():
    from brainalign.cli import main

    res = CliRunner().invoke(main, ["datasets", "show", "algonauts2019", "--json"])
    disk = json.loads(res.output)["disk"]
    assert disk["n_files"] == disk["present"] == 158 and disk["missing"] == []
    assert disk["bytes"] == sum((data_root() / f.path).stat().st_size
                                for f in dataset_info("algonauts2019").files)
    res = CliRunner().invoke(main, ["datasets", "show", "brennan2016", "--files"])
    assert res.exit_code == 0
    assert "0b3edb01e8531aed8091b13e4f46cfdf630e0ec21b8758b54076de5c56f028e4" in res.output
    assert "files: 137 of 137" in res.output


def test_cli_datasets_show_without_mirror(tmp_path):
    from brainalign.cli import main

    res = CliRunner().invoke(main, ["datasets", "show", "flavell2023", "--root", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "files: 0 of 4" in res.output
    assert "missing: flavell2023_celegans/2022-07-26-31-data.h5" in res.output
    assert "flavell-lab/NSM_5HTR_analysis" in res.output


def test_docs_examples_run():
    """The Python examples of docs/datasets.md run as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "datasets.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for block in blocks[1:]:  # the first lists attributes of an object it does not build
        exec(compile(block, "docs/datasets.md", "exec"), {})
