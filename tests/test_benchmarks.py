"""Benchmarks, results database and report: registry, real-data scoring, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from brainalign.benchmarks import (
    BENCHMARKS,
    ResultsDB,
    ScoreResult,
    get_benchmark,
    layer_order,
    score_features,
)
from brainalign.cli import main
from brainalign.errors import UnknownNameError
from brainalign.responses import make_responses


def test_registry_lists_both_benchmarks():
    assert {"cowley2023.v4.ridge", "kriegeskorte2008.it.rsa"} <= set(BENCHMARKS.names())
    for name in BENCHMARKS.names():
        d = get_benchmark(name).describe()
        for key in ("version", "metric", "ceiling", "split", "citation"):
            assert d[key], (name, key)


def test_unknown_benchmark_lists_valid_names():
    with pytest.raises(UnknownNameError, match="cowley2023.v4.ridge"):
        get_benchmark("cowley2023.v4.rigde")
    res = CliRunner().invoke(main, ["score", "mobilenet_v2", "nope"])
    assert res.exit_code == 2
    assert "Valid benchmarks" in res.output and "kriegeskorte2008.it.rsa" in res.output


def _pixel_features(stimuli, size=24):
    """Two 'layers' of image features with no model: raw pixels and a grey-level histogram."""
    imgs = np.stack([np.asarray(stimuli[i].resize((size, size)), dtype=np.float32) / 255
                     for i in range(len(stimuli))])
    pix = imgs.reshape(len(imgs), -1)
    grey = imgs.mean(-1).reshape(len(imgs), -1)
    hist = np.stack([np.histogram(g, bins=16, range=(0, 1))[0] for g in grey]).astype(np.float32)
    data = np.concatenate([pix, hist], axis=1)
    layer = ["pixels"] * pix.shape[1] + ["histogram"] * hist.shape[1]
    return make_responses(data, stimuli.ids, [f"{lay}/{i}" for i, lay in enumerate(layer)],
                          unit_coords={"layer": layer})


def test_rsa_benchmark_on_pixels_matches_scipy(kriegeskorte):
    """The RSA benchmark's per-target values equal a direct scipy computation."""
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr

    feats = _pixel_features(kriegeskorte.stimuli)
    res = score_features(feats, "kriegeskorte2008.it.rsa", model="pixels")
    assert list(res.layers) == ["pixels", "histogram"] == layer_order(feats)
    it = kriegeskorte.rdms["it"]
    iu = np.triu_indices(92, 1)
    for layer in ("pixels", "histogram"):
        x = feats.sel(unit=feats.layer == layer).values.astype(np.float64)
        model = pdist(x, "correlation")
        for j, t in enumerate(["mIT", "hIT"]):
            ref = spearmanr(model, it.values[j][iu]).statistic
            assert res.targets[layer][t] == pytest.approx(ref, abs=1e-6)
        assert res.layers[layer] == pytest.approx(np.mean(list(res.targets[layer].values())))
    c = res.ceiling["hIT"]
    assert 0 < c["lower"] < c["upper"] < 1
    assert res.best_layer in res.layers and res.score == max(res.layers.values())
    assert res.provenance["method"] == "benchmark.kriegeskorte2008.it.rsa"


@pytest.mark.slow
def test_v4_benchmark_on_pixels_is_low_but_positive(cowley):
    """Pixels predict some V4 neurons; the encoding benchmark runs on real data end to end."""
    bench = get_benchmark("cowley2023.v4.ridge")
    feats = _pixel_features(cowley.stimuli, size=16)
    res = score_features(feats, bench, model="pixels")
    assert 0.0 < res.layers["pixels"] < 0.5
    assert res.details["n_neurons"] == 89 and res.details["n_stimuli"] == 1200


def test_results_db_and_report(tmp_path):
    db = ResultsDB(tmp_path)
    mk = lambda model, s: ScoreResult(model=model, benchmark="b", benchmark_version=1,  # noqa: E731
                                      metric="r", score=s, best_layer="l2",
                                      layers={"l1": s / 2, "l2": s}, targets={},
                                      ceiling={"x": {"lower": 0.1, "upper": 0.2}})
    db.add(mk("m1", 0.3))
    db.add(mk("m2", 0.5))
    db.add(mk("m1", 0.4))  # a newer run of m1 replaces the old one in latest()
    latest = {r.model: r.score for r in db.latest()}
    assert latest == {"m1": 0.4, "m2": 0.5}
    assert len(list(db.all())) == 3
    res = CliRunner().invoke(main, ["leaderboard", "--results", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["model"] for r in rows] == ["m2", "m1"]
    res = CliRunner().invoke(main, ["report", "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "m2" in html


def test_leaderboard_without_results_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(main, ["leaderboard", "--results", str(tmp_path / "none")])
    assert res.exit_code != 0 and "run `brainalign score` first" in res.output


def test_features_without_layer_coord_are_one_layer(kriegeskorte):
    feats = _pixel_features(kriegeskorte.stimuli)
    bare = xr.DataArray(feats.values, dims=feats.dims,
                        coords={"stimulus": feats.stimulus.values, "unit": feats.unit.values})
    res = score_features(bare, "kriegeskorte2008.it.rsa")
    assert list(res.layers) == ["all"]
