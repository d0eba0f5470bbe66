"""The CLI as a user runs it: real model, real data, subprocesses, JSON out, report on disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BIN = Path(sys.executable).parent / "brainalign"


def run(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    e = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    p = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=e, timeout=900)
    if check and p.returncode != 0:
        raise AssertionError(f"brainalign {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def rsa_result(results) -> dict:
    p = run("score", "mobilenet_v2", "kriegeskorte2008.it.rsa", "--json", "--quiet",
            "--results", str(results))
    return json.loads(p.stdout)


@pytest.mark.slow
def test_score_rsa_json(rsa_result):
    r = rsa_result
    for key in ("model", "benchmark", "score", "best_layer", "layers", "targets", "ceiling", "provenance"):
        assert key in r
    assert r["model"] == "mobilenet_v2" and r["benchmark"] == "kriegeskorte2008.it.rsa"
    layers = list(r["layers"])
    assert len(layers) >= 19 and r["best_layer"] in layers
    assert r["score"] == pytest.approx(max(r["layers"].values()))
    # Spearman with monkey IT and human IT for every layer, highest in the deeper blocks
    for target in ("mIT", "hIT"):
        vals = np.array([r["targets"][name][target] for name in layers])
        assert np.all(np.abs(vals) < 1)
        assert int(np.argmax(vals)) >= len(vals) - len(vals) // 4, (target, vals.round(3))
        assert vals[-3:].mean() > vals[:3].mean() + 0.1, (target, vals.round(3))
    c = r["ceiling"]["hIT"]
    assert 0 < c["lower"] < c["upper"] < 1


@pytest.mark.slow
def test_score_v4_json_reaches_half(results):
    # three layers keep the test short; `brainalign demo` scores all of them
    p = run("score", "mobilenet_v2", "cowley2023.v4.ridge", "--json", "--quiet",
            "--layers", "features.3,features.9,features.17", "--results", str(results))
    r = json.loads(p.stdout)
    assert r["score"] >= 0.5, r["layers"]
    assert r["details"]["n_neurons"] == 89
    # the best layer is an intermediate block, not the first or the classifier
    layers = list(r["layers"])
    assert layers == ["features.3", "features.9", "features.17"]
    assert r["best_layer"] == "features.9", r["layers"]


@pytest.mark.slow
def test_leaderboard_and_report_from_stored_results(results, rsa_result):
    p = run("leaderboard", "--results", str(results), "--json")
    rows = json.loads(p.stdout)
    assert any(row["benchmark"] == "kriegeskorte2008.it.rsa" and row["model"] == "mobilenet_v2"
               for row in rows)
    out = results / "r.html"
    run("report", "--results", str(results), "--out", str(out))
    html = out.read_text()
    assert "kriegeskorte2008.it.rsa" in html and "data:image/png;base64," in html


def test_unknown_names_list_valid_ones():
    p = run("score", "mobilenet_v3", "kriegeskorte2008.it.rsa", check=False)
    assert p.returncode == 2 and "mobilenet_v2" in p.stderr and "Traceback" not in p.stderr
    p = run("datasets", "show", "kriegeskorte", check=False)
    assert p.returncode == 2 and "kriegeskorte2008" in p.stderr
    p = run("benchmarks", "show", "v4", check=False)
    assert p.returncode == 2 and "cowley2023.v4.ridge" in p.stderr


@pytest.mark.slow
def test_unknown_layer_is_named():
    p = run("score", "mobilenet_v2", "kriegeskorte2008.it.rsa", "--layers", "features.99",
            "--no-store", "--quiet", check=False)
    assert p.returncode == 2 and "features.99" in p.stderr and "Traceback" not in p.stderr


def test_missing_and_corrupted_data_are_named(tmp_path):
    from brainalign.data import data_root

    root = data_root()
    mirror = tmp_path / "mirror" / "kriegeskorte2008_92"
    mirror.mkdir(parents=True)
    env = {"BRAINALIGN_DATA": str(tmp_path / "mirror")}
    p = run("score", "mobilenet_v2", "kriegeskorte2008.it.rsa", "--no-store", env=env, check=False)
    assert p.returncode == 2 and "missing" in p.stderr and "Kriegeskorte_Neuron2008" in p.stderr
    for f in (root / "kriegeskorte2008_92").iterdir():
        shutil.copy(f, mirror / f.name)
    bad = mirror / "92_brainRDMs.mat"
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    p = run("score", "mobilenet_v2", "kriegeskorte2008.it.rsa", "--no-store", env=env, check=False)
    assert p.returncode == 2 and "92_brainRDMs.mat" in p.stderr and "expected" in p.stderr
