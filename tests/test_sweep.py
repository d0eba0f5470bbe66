"""Sweeps: resumable, stored as they complete, the same on a local Dask cluster as in-process."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from brainalign.benchmarks import ResultsDB
from brainalign.benchmarks.sweep import sweep
from brainalign.cli import main
from brainalign.errors import UnknownNameError

pytestmark = pytest.mark.slow
BENCH = "kriegeskorte2008.it.rsa"
LAYERS = ["features.0", "features.1"]


def test_sweep_stores_resumes_and_matches_a_dask_cluster(tmp_path):
    first = sweep(["mobilenet_v2"], [BENCH], layers=LAYERS, results=tmp_path)
    assert len(first) == 1 and list(first[0].layers) == LAYERS
    assert len(list(ResultsDB(tmp_path).all())) == 1
    # started again: nothing left to run
    assert sweep(["mobilenet_v2"], [BENCH], layers=LAYERS, results=tmp_path) == []
    # other layers are another run
    other = sweep(["mobilenet_v2"], [BENCH], layers=["features.0"], results=tmp_path)
    assert len(other) == 1
    # the same work on a local Dask cluster of two processes gives the same numbers
    on_dask = sweep(["mobilenet_v2"], [BENCH], layers=LAYERS, results=tmp_path / "dask", workers=2)
    assert on_dask[0].layers == pytest.approx(first[0].layers, abs=1e-6)
    for layer, per_target in first[0].targets.items():
        assert on_dask[0].targets[layer] == pytest.approx(per_target, abs=1e-6)


def test_sweep_checks_names_before_running(tmp_path):
    with pytest.raises(UnknownNameError, match="mobilenet_v2"):
        sweep(["mobilenet"], [BENCH], results=tmp_path)
    with pytest.raises(UnknownNameError, match=BENCH):
        sweep(["mobilenet_v2"], ["kriegeskorte.rsa"], results=tmp_path)
    assert not (tmp_path / "results.sqlite").exists()


def test_sweep_cli(tmp_path):
    args = ["sweep", "--models", "mobilenet_v2", "--benchmarks", BENCH, "--layers", "features.0",
            "--results", str(tmp_path)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "1 run" in res.output
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0 and "0 run" in res.output
