"""``brainalign encode FEATURES RESPONSES``: cross-validated ridge encoding from two Zarr stores."""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from ..responses import save_result
from ._app import echo_json, main


def _alphas(spec: str | None) -> np.ndarray | None:
    if not spec:
        return None
    parts = spec.split(":")
    if len(parts) == 3:
        lo, hi, num = float(parts[0]), float(parts[1]), int(parts[2])
        return np.logspace(lo, hi, num)
    return np.asarray([float(a) for a in spec.split(",")])


@main.command("encode")
@click.argument("features", type=click.Path(exists=True, file_okay=False))
@click.argument("responses", type=click.Path(exists=True, file_okay=False))
@click.option("--n-splits", default=5, show_default=True, type=int, help="outer folds over stimuli")
@click.option("--inner-cv", default="5", show_default=True,
              help="inner CV choosing alpha: a number of folds or 'loo'")
@click.option("--alphas", default=None,
              help="'lo:hi:num' (log10 range, e.g. -2:8:21) or a comma list (default 1e-2..1e8, 21 values)")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--layer", "layers", multiple=True,
              help="use only feature units whose 'layer' coordinate equals this (repeatable); "
                   "several layers are encoded one by one")
@click.option("--by-layer", is_flag=True, help="encode each layer of FEATURES separately")
@click.option("--ceiling", type=click.Choice(["none", "split-half", "ncsnr"]), default="none",
              show_default=True, help="noise ceiling from the 'repeat' dimension of RESPONSES")
@click.option("--backend", default="numpy", show_default=True, help="numpy, torch or torch:cuda")
@click.option("--out", default=None, type=click.Path(), help="write per-unit results to this Zarr store")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def encode(features: str, responses: str, n_splits: int, inner_cv: str, alphas: str | None, seed: int,
           layers: tuple[str, ...], by_layer: bool, ceiling: str, backend: str, out: str | None,
           as_json: bool) -> None:
    """Predict every unit of RESPONSES from FEATURES with ridge regression.

    FEATURES and RESPONSES are Zarr stores written by ``brainalign.save`` (dims stimulus x unit;
    RESPONSES may have a 'repeat' dimension, averaged for fitting and used for --ceiling). They
    are aligned on stimulus ids. Outer K-fold over stimuli (shuffled with --seed), alpha per
    unit by inner CV on each training fold, Pearson r on held-out stimuli, averaged over folds.
    """
    from ..encoding import (
        cross_validate,
        ncsnr,
        ncsnr_ceiling,
        noise_corrected_r,
        split_half_reliability,
    )
    from ..errors import InvalidDataError
    from ..responses import load

    F = load(features)
    R = load(responses)
    reps = None
    if "repeat" in R.dims:
        reps = R
        import warnings

        with warnings.catch_warnings():  # all-NaN units stay NaN and are flagged invalid
            warnings.simplefilter("ignore", RuntimeWarning)
            R = R.mean("repeat", skipna=True, keep_attrs=True)
    if ceiling != "none" and reps is None:
        raise InvalidDataError(f"--ceiling {ceiling} needs single trials: RESPONSES has no 'repeat' dimension")
    icv: Any = "loo" if inner_cv.lower() == "loo" else int(inner_cv)
    groups: list[tuple[str, Any]] = []
    if layers or by_layer:
        if "layer" not in F.coords:
            raise InvalidDataError("FEATURES has no 'layer' coordinate on its units; drop --layer/--by-layer")
        names = list(layers) if layers else list(dict.fromkeys(str(v) for v in F["layer"].values))
        for nm in names:
            sel = F.isel(unit=np.flatnonzero(F["layer"].values.astype(str) == nm))
            if sel.sizes["unit"] == 0:
                valid = sorted({str(v) for v in F["layer"].values})
                raise InvalidDataError(f"no feature units in layer {nm!r}; layers: {valid}")
            groups.append((nm, sel))
    else:
        groups.append(("all", F))
    ceil = None
    if ceiling == "split-half":
        ceil = split_half_reliability(reps, seed=seed)
    elif ceiling == "ncsnr":
        nrep = float(np.nanmean((~np.isnan(reps.transpose("stimulus", "unit", "repeat").values)).sum(-1)))
        ceil = ncsnr_ceiling(ncsnr(reps), nrep)
    rows = []
    datasets = []
    for nm, Fx in groups:
        res = cross_validate(Fx, R, alphas=_alphas(alphas), n_splits=n_splits, seed=seed, inner_cv=icv,
                             backend=backend)
        row: dict[str, Any] = {"layer": nm, "n_features": int(Fx.sizes["unit"]),
                               "n_units": int(len(res.valid)), "n_valid": int(res.valid.sum()),
                               "median_r": res.median()}
        ds = res.to_dataset()
        if ceil is not None:
            nc = noise_corrected_r(res.mean_scores, ceil)
            good = res.valid & np.isfinite(nc)
            row["median_noise_corrected_r"] = float(np.median(nc[good])) if good.any() else float("nan")
            row["median_ceiling"] = float(np.nanmedian(ceil)) if np.isfinite(ceil).any() else float("nan")
            ds["ceiling"] = ("unit", ceil)
            ds["noise_corrected_r"] = ("unit", nc)
        rows.append(row)
        datasets.append(ds.expand_dims(layer=[nm]))
    if out:
        import xarray as xr

        combined = xr.concat(datasets, dim="layer") if len(datasets) > 1 else datasets[0]
        combined.attrs["ceiling"] = ceiling
        save_result(combined, out)
    summary = {"features": features, "responses": responses, "n_splits": n_splits, "inner_cv": str(icv),
               "seed": seed, "ceiling": ceiling, "metric": "pearson_r (mean over outer folds)",
               "results": rows}
    if as_json:
        echo_json(json.loads(json.dumps(summary, default=float)))
        return
    for r in rows:
        line = (f"{r['layer']:24s} features={r['n_features']:6d} units={r['n_valid']}/{r['n_units']} "
                f"median r={r['median_r']:.4f}")
        if "median_noise_corrected_r" in r:
            line += f"  noise-corrected={r['median_noise_corrected_r']:.4f} (ceiling {r['median_ceiling']:.3f})"
        click.echo(line)
    if out:
        click.echo(f"per-unit results written to {out}")
