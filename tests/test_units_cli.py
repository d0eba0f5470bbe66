"""``brainalign units`` end to end: stores, datasets, reports, JSON, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from brainalign import make_responses, save
from brainalign.cli import main


@pytest.fixture
def store(tmp_path, rng):
    lab = np.array(["cat", "dog", "car"] * 12)
    x = rng.normal(size=(36, 5)) + 1
    x[lab == "car", 3] += 3
    da = make_responses(x, [f"s{i}" for i in range(36)], stimulus_coords={"kind": lab,
                        "caption": np.where(lab == "car", "a red car", "a furry pet"), "same": ["x"] * 36})
    return save(da, tmp_path / "resp.zarr")


def test_find_on_a_store_table_json_out_report(store, tmp_path):
    r = CliRunner().invoke(main, ["units", "find", str(store), "--labels", "kind", "--n-permutations", "300",
                                  "--top", "2", "--out", str(tmp_path / "out"), "--report",
                                  str(tmp_path / "rep.html")])
    assert r.exit_code == 0, r.output
    assert "classes {'car': 12, 'cat': 12, 'dog': 12}" in r.output
    first_car = [ln for ln in r.output.splitlines() if ln.strip().startswith("car")][0]
    assert "u3" in first_car
    tab = pd.read_csv(tmp_path / "out" / "selective_units.csv")
    assert len(tab) == 15 and set(tab["label"]) == {"car", "cat", "dog"}
    import xarray as xr

    ds = xr.open_zarr(tmp_path / "out" / "selectivity.zarr", consolidated=False)
    assert ds["t"].dims == ("unit", "label") and "provenance" in ds.attrs
    html = (tmp_path / "rep.html").read_text()
    assert html.count("<img") >= 4 and "Most selective units for" in html and "units.selectivity" in html
    j = CliRunner().invoke(main, ["units", "find", str(store), "--labels", "kind", "--n-permutations", "100",
                                  "--json"])
    out = json.loads(j.stdout)
    assert out["classes"] == ["car", "cat", "dog"] and out["top"][0]["label"] == "car"
    assert out["top"][0]["unit"] == "u3"


def test_find_clear_errors(store):
    r = CliRunner().invoke(main, ["units", "find", str(store), "--labels", "same"])
    assert r.exit_code == 2 and "single class" in r.output
    r = CliRunner().invoke(main, ["units", "find", str(store), "--labels", "nope"])
    assert r.exit_code == 2 and "available" in r.output and "kind" in r.output
    r = CliRunner().invoke(main, ["units", "find", "--labels", "kind"])
    assert r.exit_code == 2 and "--dataset" in r.output
    r = CliRunner().invoke(main, ["units", "find", str(store), "--labels", "luminance"])
    assert r.exit_code == 2 and "image stimuli" in r.output


@pytest.mark.slow
def test_find_on_v4_neurons_by_contrast(tmp_path):
    r = CliRunner().invoke(main, ["units", "find", "--dataset", "cowley2023", "--option", "session=201025",
                                  "--labels", "contrast", "--n-permutations", "200", "--json", "--report",
                                  str(tmp_path / "v4.html")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["n_units"] == 89 and out["n_per_class"] == [600, 600]
    assert out["significant_q05"]["high"] >= 5
    assert "<img" in (tmp_path / "v4.html").read_text()


@pytest.mark.slow
def test_describe_cli(store):
    r = CliRunner().invoke(main, ["units", "describe", str(store), "--texts", "caption", "--vocab",
                                  "car,dog,cat,tree", "--units", "u3,u0", "--json", "--n-permutations", "100"])
    assert r.exit_code == 0, r.output
    rows = {d["unit"]: d for d in json.loads(r.stdout)}
    assert rows["u3"]["best"] == "car"


def test_ablate_needs_labels_for_images():
    r = CliRunner().invoke(main, ["units", "ablate", "--model", "mobilenet_v2"])
    assert r.exit_code == 2 and "--dataset and --labels" in r.output
