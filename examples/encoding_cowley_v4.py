"""Cowley V4 with MobileNetV2 features: per-layer median encoding r, and noise-corrected r.

- Session 201025 (89 neurons, 1200 images, repeat-averaged): per-layer median Pearson r.
- Session 210325 (raw repeats): the same analysis, with the split-half (Spearman-Brown) and
  NCSNR ceilings from the raw repeats, giving per-layer median noise-corrected r.

Usage: python examples/encoding_cowley_v4.py [--layers features.4,features.8,...]
Runtime on 2 CPU cores: a few minutes (feature recording dominates).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from brainalign.data import load_dataset
from brainalign.encoding import (
    cross_validate,
    ncsnr,
    ncsnr_ceiling,
    noise_corrected_r,
    split_half_reliability,
)
from brainalign.models import record

LAYERS = "features.4,features.7,features.10,features.14,features.17"


def run_session(session: str, layers: list[str], ceiling: bool, reduction: str) -> None:
    d = load_dataset("cowley2023", session=session)
    Y = d.responses[session]
    feats = record("mobilenet_v2", d.stimuli, layers, reduction=reduction, progress=False)
    ceil = ceil2 = None
    if ceiling:
        raw = d.responses[f"{session}_raw"]
        ceil = split_half_reliability(raw, n_splits=50, seed=0)
        R = raw.transpose("stimulus", "unit", "repeat").values
        ceil2 = ncsnr_ceiling(ncsnr(raw), float(np.nanmean((~np.isnan(R)).sum(-1))))
        print(f"session {session}: median split-half ceiling {np.nanmedian(ceil):.3f}, "
              f"NCSNR ceiling {np.nanmedian(ceil2):.3f}")
    for layer in layers:
        X = feats.isel(unit=np.flatnonzero(feats["layer"].values.astype(str) == layer))
        t0 = time.perf_counter()
        res = cross_validate(X, Y, n_splits=5, seed=0)
        line = (f"{session} {layer:14s} p={X.sizes['unit']:5d} valid={int(res.valid.sum())}/{len(res.valid)} "
                f"median r={res.median():.3f}")
        if ceil is not None:
            nc = noise_corrected_r(res.mean_scores, ceil)
            nc2 = noise_corrected_r(res.mean_scores, ceil2)
            line += (f"  noise-corrected (split-half) {np.nanmedian(nc[res.valid]):.3f}"
                     f"  (NCSNR) {np.nanmedian(nc2[res.valid]):.3f}")
        print(line + f"  [{time.perf_counter() - t0:.1f} s]", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default=LAYERS)
    ap.add_argument("--reduction", default="pool4", help="record() reduction: mean, pool4, ...")
    args = ap.parse_args()
    layers = args.layers.split(",")
    run_session("201025", layers, ceiling=False, reduction=args.reduction)
    run_session("210325", layers, ceiling=True, reduction=args.reduction)


if __name__ == "__main__":
    main()
