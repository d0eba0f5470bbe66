"""``brainalign encode`` on Zarr stores (synthetic, and Cowley V4 repeats for the ceiling)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from brainalign.cli import main
from brainalign.responses import make_responses, save


def test_encode_command(tmp_path, rng):
    n = 120
    ids = [f"s{i:03d}" for i in range(n)]
    X = rng.standard_normal((n, 6))
    sig = X[:, :2] @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0]])
    reps = sig[:, :, None] + 0.5 * rng.standard_normal((n, 3, 4))
    reps[:, 2, :] = rng.standard_normal((n, 4))  # a pure-noise unit
    feats = make_responses(X, ids, [f"f{j}" for j in range(6)],
                           unit_coords={"layer": ["a"] * 3 + ["b"] * 3})
    resp = make_responses(reps, ids, ["n0", "n1", "n2"], dims=("stimulus", "unit", "repeat"))
    save(feats, tmp_path / "f.zarr")
    save(resp.isel(stimulus=slice(None, None, -1)), tmp_path / "r.zarr")  # other order: aligned by id
    res = CliRunner().invoke(main, ["encode", str(tmp_path / "f.zarr"), str(tmp_path / "r.zarr"),
                                    "--by-layer", "--ceiling", "split-half", "--json",
                                    "--out", str(tmp_path / "out.zarr")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {r["layer"]: r for r in out["results"]}
    assert rows["a"]["median_r"] > rows["b"]["median_r"]
    assert rows["a"]["n_valid"] == 3
    import xarray as xr

    ds = xr.open_zarr(tmp_path / "out.zarr", consolidated=False)
    assert set(ds["layer"].values) == {"a", "b"} and "noise_corrected_r" in ds
    bad = CliRunner().invoke(main, ["encode", str(tmp_path / "f.zarr"), str(tmp_path / "r.zarr"),
                                    "--layer", "zzz"])
    assert bad.exit_code == 2 and "no feature units in layer 'zzz'" in bad.output


@pytest.mark.slow
def test_cowley_ceiling_from_raw_repeats():
    """Golden: split-half and NCSNR ceilings of Cowley V4 session 210325 (raw repeats)."""
    from brainalign.data import load_dataset
    from brainalign.encoding import ncsnr, ncsnr_ceiling, split_half_reliability

    d = load_dataset("cowley2023", session="210325")
    raw = d.responses["210325_raw"]
    rho = split_half_reliability(raw, n_splits=20, seed=0)
    R = raw.transpose("stimulus", "unit", "repeat").values
    nrep = float(np.nanmean((~np.isnan(R)).sum(-1)))
    c2 = ncsnr_ceiling(ncsnr(raw), nrep)
    ok = np.isfinite(rho) & np.isfinite(c2)
    assert ok.sum() > 10
    # two independent estimators of the same reliability agree closely on real data
    assert np.corrcoef(rho[ok], c2[ok])[0, 1] > 0.9
    assert abs(np.median(rho[ok]) - np.median(c2[ok])) < 0.1
    assert 0.2 < np.median(rho[ok]) < 1.0
