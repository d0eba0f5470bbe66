"""Brennan et al. (2016) Alice fMRI: language-model features vs word-rate and sound-power baselines.

For every usable subject (27; s33 is excluded by the loader) and each of the 6 left-lateralised
ROIs (10 mm spheres, z-scored time courses), ridge models predict the BOLD time course from:

- ``rate``: word rate (an impulse per word onset) convolved with the SPM HRF, sampled at TRs;
- ``sndpwr``: the sound-power regressor shipped with the dataset (per subject);
- ``lm``: SmolLM2 word activations (layer ``--layer``, last token of each word, reduced to
  ``--pcs`` principal components over words), HRF-convolved at the word onsets;
- ``lm+baselines``: the three together.

Held-out evaluation: 5 contiguous blocks of TRs (BlockedKFold) with a gap of 8 TRs (16 s, the
HRF length) between training and test samples, alpha chosen per ROI by an inner blocked CV with
the same gap. Score: Pearson r on held-out blocks, averaged over blocks. Per ROI we report the
mean over subjects with a 95 % bootstrap CI over subjects, and the number of subjects whose
block-permutation p < 0.05.

Usage: python examples/encoding_brennan_alice.py [--layer layers.14] [--pcs 20]
Runtime: ~2-4 min on 2 CPU cores (SmolLM2 reads the 2127 words once).
"""

from __future__ import annotations

import argparse

import numpy as np

from brainalign.data import load_dataset
from brainalign.encoding import (
    BlockedKFold,
    cross_validate,
    hrf_convolve,
    permutation_test,
)

ROIS = ("LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG")


def lm_features(d, layer: str, n_pcs: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    from brainalign.models.causal import record_words

    acts = record_words("smollm2", d.stimuli, [layer], with_surprisal=False, progress=False)
    A = np.asarray(acts.values, dtype=np.float64)
    A = (A - A.mean(0)) / np.where(A.std(0) > 0, A.std(0), 1.0)
    return PCA(n_components=n_pcs, random_state=0).fit_transform(A)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", default="layers.14")
    ap.add_argument("--pcs", type=int, default=20)
    ap.add_argument("--gap", type=int, default=8)
    args = ap.parse_args()

    d = load_dataset("brennan2016", zscore=True)
    Y = d.responses["10mm"]
    ft = np.asarray(Y["time"].values, dtype=float)
    words = d.extra["words"]
    onsets = words["onset"].to_numpy(float)
    reg = d.extra["regressors"]
    rate = hrf_convolve(np.ones((len(onsets), 1)), onsets, ft)
    lm = hrf_convolve(lm_features(d, args.layer, args.pcs), onsets, ft)
    subjects = list(dict.fromkeys(str(s) for s in Y["subject"].values))
    models = ["rate", "sndpwr", "lm", "lm+baselines"]
    scores = {m: np.full((len(subjects), len(ROIS)), np.nan) for m in models}
    pvals = {m: np.full((len(subjects), len(ROIS)), np.nan) for m in models}
    cv = BlockedKFold(5, gap=args.gap)
    for si, s in enumerate(subjects):
        Ys = Y.isel(unit=np.flatnonzero(Y["subject"].values == s))
        order = [list(Ys["region"].values).index(r) for r in ROIS]
        ys = np.asarray(Ys.values, dtype=np.float64)[:, order]
        snd = reg[(s, "sndpwr")].to_numpy(float)[:, None]
        X = {"rate": rate, "sndpwr": snd, "lm": lm, "lm+baselines": np.hstack([lm, rate, snd])}
        for m in models:
            res = cross_validate(X[m], ys, cv=cv, inner_cv=BlockedKFold(5, gap=args.gap),
                                 alphas=np.logspace(-2, 6, 17))
            scores[m][si] = res.mean_scores
            ok = np.isfinite(res.predictions).all(0)
            if ok.any():
                pt = permutation_test(ys[:, ok], res.predictions[:, ok], n_permutations=500,
                                      block_size=20, seed=si)
                pvals[m][si, ok] = pt.p_values
    print(f"Brennan Alice, 10 mm ROIs, {len(subjects)} subjects, SmolLM2 {args.layer} "
          f"({args.pcs} PCs), blocked 5-fold CV, gap {args.gap} TRs")
    print(f"{'ROI':6s} " + "  ".join(f"{m:>28s}" for m in models))
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(subjects), size=(2000, len(subjects)))
    for j, roi in enumerate(ROIS):
        cells = []
        for m in models:
            v = scores[m][:, j]
            boot = np.array([np.nanmean(v[i]) for i in idx])
            lo, hi = np.quantile(boot, [0.025, 0.975])
            nsig = int(np.nansum(pvals[m][:, j] < 0.05))
            cells.append(f"{np.nanmean(v):+.3f} [{lo:+.3f},{hi:+.3f}] {nsig:2d}/{len(subjects)}")
        print(f"{roi:6s} " + "  ".join(f"{c:>28s}" for c in cells))
    diff = scores["lm+baselines"] - np.maximum(scores["rate"], scores["sndpwr"])
    for j, roi in enumerate(ROIS):
        boot = np.array([np.nanmean(diff[i, j]) for i in idx])
        lo, hi = np.quantile(boot, [0.025, 0.975])
        print(f"{roi}: lm+baselines minus best baseline {np.nanmean(diff[:, j]):+.3f} [{lo:+.3f},{hi:+.3f}]")


if __name__ == "__main__":
    main()
