"""brainalign rsa / compare on a real dataset's RDMs with a small synthetic recording."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from brainalign.cli import main
from brainalign.responses import make_responses, save


@pytest.fixture(scope="module")
def store(tmp_path_factory, kriegeskorte):
    rng = np.random.default_rng(0)
    ids = list(kriegeskorte.rdms["it"]["stimulus"].values)
    resp = make_responses(rng.standard_normal((len(ids), 30)), ids,
                          unit_coords={"layer": np.repeat(["conv1", "conv2", "fc"], 10)})
    return str(save(resp, tmp_path_factory.mktemp("cli") / "toy.zarr"))


def test_rsa_command(store, tmp_path):
    r = CliRunner().invoke(main, ["rsa", "--responses", store, "--dataset", "kriegeskorte2008",
                                  "--rdms", "hit_subjects", "--n-boot", "20", "--json",
                                  "--out", str(tmp_path / "res.zarr")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert [m["model"] for m in out["models"]] == ["conv1", "conv2", "fc"]
    assert out["convention"] == "mean_r" and out["n_boot"] == 20
    lo, up = out["ceiling"]
    assert 0 < lo < up
    assert all(abs(m["score"]) < 0.2 for m in out["models"])  # random features do not match IT
    assert (tmp_path / "res.zarr").exists()


def test_rsa_command_errors(store):
    r = CliRunner().invoke(main, ["rsa", "--responses", store, "--dataset", "kriegeskorte2008", "--rdms", "v4"])
    assert r.exit_code == 2 and "hit_subjects" in r.output
    r = CliRunner().invoke(main, ["rsa", "--responses", store, "--dataset", "kriegeskorte2008",
                                  "--rdms", "hit_subjects", "--convention", "r"])
    assert r.exit_code == 2 and "mean_r2" in r.output


def test_compare_command(store):
    r = CliRunner().invoke(main, ["compare", store, "--metric", "cka", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["names"] == ["conv1", "conv2", "fc"]
    np.testing.assert_allclose(np.diag(out["matrix"]), 1.0)
    r = CliRunner().invoke(main, ["compare", store, "--metric", "rdm:pearson"])
    assert r.exit_code == 0 and "conv2" in r.output
