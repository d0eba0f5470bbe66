"""Acceptance experiments of the units issue, with the numbers quoted in docs/units.md.

1. MobileNetV2 on the 92 images (Kriegeskorte 2008), face units (faces vs all other images) and
   animate units (animate vs inanimate) of ``features.18`` (1280 channels):

   - the 92 images are cut into two class-stratified halves; units are found on one half
     (mean difference, Welch t, 5000 label permutations, BH-FDR over the 1280 units) and
     zero-ablated through ``brainalign.models.intervene``; the behaviour is the network's
     confidence (NLL of its unablated top-1 class) on the *other* half, concept vs other images,
     against random units of the same number (10 seeds);
   - the number of units is chosen on the finding half only (never on the held-out half): an inner
     2-fold split of the finding half (find on one quarter, evaluate on the other, 20 random
     seeds) scores each size of a grid by ``selectivity: found - random``. Zeroing a channel of
     ``features.18`` zeroes its global-average-pooled value, so the inner evaluation uses the
     pooled features and the linear head (exact; checked against the full ablation below);
   - cross-fitting: both halves in turn (find on A, test on B and vice versa); every image is
     held out exactly once, and the per-image effects of both folds are pooled (92 images) with a
     stratified two-level bootstrap (images within fold and set, random seeds within fold).
2. SmolLM2-135M: code units among the 46,080 MLP neurons (``layers.N.mlp.act_fn``), found on
   chunks of Python standard-library files vs the Alice chapter, zero-ablated; per-token loss on
   held-out files and passages, vs random units (5 seeds). ``lm 0`` / ``lm 1`` run one split.

Run: ``.venv/bin/python benchmarks/bench_units_ablation.py vision`` (about 10 minutes on 2 busy
cores) or ``... lm [0|1]`` (about 10 minutes per split). Prints one block per experiment and fold,
the pooled contrasts, and the wall time.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

GRID = (8, 16, 32, 64, 128, 256)



def _mobilenet_head():
    """The 92 images, MobileNetV2, its linear head (weights, bias) and pooled features.18."""
    from brainalign.data import load_dataset
    from brainalign.models import load_model, record

    stim = load_dataset("kriegeskorte2008").stimuli
    net = load_model("mobilenet_v2")
    lin = net.module.classifier[1]
    w = lin.weight.detach().double().numpy()
    b = lin.bias.detach().double().numpy()
    return stim, net, w, b, record(net, stim, "features.18", reduction="mean", progress=False)

def _show(title: str, found, res, t0: float) -> None:  # noqa: ANN001
    print(f"\n== {title}; {len(found)} units, {int((found.table['q'] < 0.05).sum())} with q<0.05; "
          f"held out {res.settings['held_out']}; {time.perf_counter() - t0:.0f} s", flush=True)
    print(res.summary.round(3).to_string(index=False))
    print(res.contrasts.round(3).to_string(index=False), flush=True)


def _head_nll(pooled: np.ndarray, w: np.ndarray, b: np.ndarray, top: np.ndarray,
              drop: np.ndarray | None = None) -> np.ndarray:
    """NLL of class ``top`` from pooled features.18 (n, 1280) with channels ``drop`` zeroed."""
    x = pooled.copy()
    if drop is not None:
        x[:, drop] = 0.0
    z = x @ w.T + b
    m = z.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
    return lse - z[np.arange(len(z)), top]


def choose_n_units(resp_find, label: str, w: np.ndarray, b: np.ndarray, grid=GRID, n_seeds: int = 20
                   ) -> tuple[int, pd.DataFrame]:  # noqa: ANN001
    """Pick the number of units on the finding half only (inner 2-fold split of it)."""
    from brainalign.units import mean_difference
    from brainalign.units.experiments import halves

    lab = np.asarray([str(v) for v in resp_find[label].values], dtype=object)
    x = np.asarray(resp_find.values, dtype=np.float64)
    score = np.zeros((2, len(grid)))
    for inner in (0, 1):
        a = halves(lab, inner)
        f = mean_difference(resp_find.isel(stimulus=np.flatnonzero(a)), label, "True", "False",
                            n_units=max(grid), n_permutations=0)
        order = np.asarray(f.table["channel"], dtype=int)
        xb, is_c = x[~a], lab[~a] == "True"
        top = (xb @ w.T + b).argmax(1)
        base = _head_nll(xb, w, b, top)
        rng = np.random.default_rng(inner)
        for j, k in enumerate(grid):
            e = _head_nll(xb, w, b, top, order[:k]) - base
            sel_f = e[is_c].mean() - e[~is_c].mean()
            pool = np.setdiff1d(np.arange(x.shape[1]), order[:k])
            sel_r = []
            for _ in range(n_seeds):
                e = _head_nll(xb, w, b, top, rng.choice(pool, k, replace=False)) - base
                sel_r.append(e[is_c].mean() - e[~is_c].mean())
            score[inner, j] = sel_f - np.mean(sel_r)
    table = pd.DataFrame({"n_units": grid, "inner0": score[0], "inner1": score[1], "mean": score.mean(0)})
    return int(grid[int(np.argmax(score.mean(0)))]), table


def pooled_contrasts(results, concept: str, control: str, n_bootstrap: int = 4000, seed: int = 0,
                     level: float = 0.95) -> pd.DataFrame:  # noqa: ANN001
    """Cross-fitted contrasts: per-item effects of several folds (disjoint held-out items) pooled.

    Each pooled mean weights items equally; the bootstrap resamples items within each (fold, set)
    and random seeds within each fold (two-level), as ``ablation_test`` does for one fold.
    """
    rng = np.random.default_rng(seed)
    sets = (concept, control)
    pt = {("found", s): [] for s in sets} | {("random", s): [] for s in sets}
    boot = {k: np.zeros(n_bootstrap) for k in pt}
    n_tot = {s: 0 for s in sets}
    for res in results:
        e = res.effects
        for s in sets:
            f = e.query("condition == 'found' and set == @s").sort_values("item")["effect"].to_numpy()
            r = (e.query("condition == 'random' and set == @s").pivot(index="seed", columns="item",
                                                                      values="effect").to_numpy())
            n_i, n_r = len(f), r.shape[0]
            n_tot[s] += n_i
            pt[("found", s)].append(f.sum())
            pt[("random", s)].append(r.mean(0).sum())
            idx = rng.integers(0, n_i, (n_bootstrap, n_i))
            sidx = rng.integers(0, n_r, (n_bootstrap, n_r))
            boot[("found", s)] += f[idx].sum(1)
            boot[("random", s)] += np.array([r[sidx[i]][:, idx[i]].mean(0).sum() for i in range(n_bootstrap)])
    mean = {k: sum(v) / n_tot[k[1]] for k, v in pt.items()}
    bm = {k: v / n_tot[k[1]] for k, v in boot.items()}
    c, k = concept, control
    rows = []
    for name, est, bs in (
        (f"found: {c} - {k}", mean["found", c] - mean["found", k], bm["found", c] - bm["found", k]),
        (f"random: {c} - {k}", mean["random", c] - mean["random", k], bm["random", c] - bm["random", k]),
        (f"{c}: found - random", mean["found", c] - mean["random", c], bm["found", c] - bm["random", c]),
        (f"{k}: found - random", mean["found", k] - mean["random", k], bm["found", k] - bm["random", k]),
        ("selectivity: found - random",
         (mean["found", c] - mean["found", k]) - (mean["random", c] - mean["random", k]),
         (bm["found", c] - bm["found", k]) - (bm["random", c] - bm["random", k])),
    ):
        lo, hi = np.quantile(bs, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"contrast": name, "estimate": est, "ci_low": lo, "ci_high": hi,
                     "p_boot": (np.sum(bs <= 0) + 1) / (n_bootstrap + 1)})
    for (cond, s), v in mean.items():
        lo, hi = np.quantile(bm[cond, s], [(1 - level) / 2, (1 + level) / 2])
        rows.append({"contrast": f"mean effect {cond} {s}", "estimate": v, "ci_low": lo, "ci_high": hi,
                     "p_boot": np.nan})
    return pd.DataFrame(rows)


def vision(n_random: int = 10, labels: tuple[str, ...] = ("face", "animate")) -> None:
    import torch

    from brainalign.units import vision_ablation
    from brainalign.units.experiments import halves

    t00 = time.perf_counter()
    stim, net, w, b, pooled = _mobilenet_head()
    x_all = np.asarray(pooled.values, dtype=np.float64)
    cat = np.asarray(stim.metadata["category"].astype(str))
    for col in labels:
        lab = np.asarray([str(v) for v in stim.metadata[col]], dtype=object)
        results = []
        for fold in (0, 1):
            t0 = time.perf_counter()
            find = halves(lab, fold)
            k, table = choose_n_units(pooled.isel(stimulus=np.flatnonzero(find)), col, w, b)
            print(f"\n-- {col}, fold {fold}: n_units chosen on the finding half (inner 2-fold, "
                  f"selectivity found - random): {k}\n{table.round(3).to_string(index=False)}", flush=True)
            found, res = vision_ablation(net, stim, col, "True", "False", n_units=k, n_random=n_random,
                                         fold=fold, n_permutations=5000)
            _show(f"MobileNetV2 {col} units (features.18), fold {fold}", found, res, t0)
            q = found.scores["q"].values if "q" in found.scores else None
            if q is not None:
                print(f"units with q<0.05 among all 1280: {int(np.sum(np.asarray(q) < 0.05))}")
            # exactness of the pooled-feature shortcut (found units, held-out concept images)
            held = np.flatnonzero(~find & (lab == "True"))
            xh = x_all[held]
            with torch.inference_mode():
                top = (xh @ w.T + b).argmax(1)
            ch = np.asarray(found.table["channel"], dtype=int)
            fast = _head_nll(xh, w, b, top, ch) - _head_nll(xh, w, b, top)
            full = res.effects.query("condition == 'found' and set == 'True'").sort_values("item")["effect"]
            print(f"pooled-feature shortcut vs full intervene, max |diff| = "
                  f"{np.max(np.abs(fast - full.to_numpy())):.2e}")
            # effect by image category (held-out images)
            eff = res.effects.copy()
            ids = {"True": np.flatnonzero(~find & (lab == "True")), "False": np.flatnonzero(~find & (lab == "False"))}
            eff["category"] = [cat[ids[s][i]] for s, i in zip(eff["set"], eff["item"], strict=True)]
            by = eff.groupby(["category", "condition"])[["baseline", "effect"]].mean().unstack("condition")
            print(by.round(3).to_string(), flush=True)
            results.append(res)
        print(f"\n== MobileNetV2 {col} units, both folds pooled (cross-fitted, 92 held-out images); "
              f"{time.perf_counter() - t00:.0f} s since start")
        print(pooled_contrasts(results, "True", "False").round(3).to_string(index=False), flush=True)


def sensitivity(labels: tuple[str, ...] = ("face", "animate"), n_random: int = 10) -> None:
    """Cross-fitted selectivity for every size of the grid (a sensitivity analysis on the held-out
    halves, not used for any choice), through the exact pooled-feature shortcut."""
    from types import SimpleNamespace

    from brainalign.units import mean_difference
    from brainalign.units.experiments import halves

    stim, net, w, b, pooled = _mobilenet_head()
    x = np.asarray(pooled.values, dtype=np.float64)
    rows = []
    for col in labels:
        lab = np.asarray([str(v) for v in stim.metadata[col]], dtype=object)
        for k in GRID:
            results = []
            for fold in (0, 1):
                find = halves(lab, fold)
                f = mean_difference(pooled.isel(stimulus=np.flatnonzero(find)), col, "True", "False",
                                    n_units=k, n_permutations=0)
                ch = np.asarray(f.table["channel"], dtype=int)
                pool = np.setdiff1d(np.arange(x.shape[1]), ch)
                rng = np.random.default_rng(fold)
                eff = []
                for s in ("True", "False"):
                    xh = x[np.flatnonzero(~find & (lab == s))]
                    top = (xh @ w.T + b).argmax(1)
                    base = _head_nll(xh, w, b, top)
                    conds = [("found", -1, ch)] + [("random", r, rng.choice(pool, k, replace=False))
                                                   for r in range(n_random)]
                    for cond, seed, drop in conds:
                        e = _head_nll(xh, w, b, top, drop) - base
                        eff += [{"condition": cond, "seed": seed, "set": s, "item": i, "effect": v}
                                for i, v in enumerate(e)]
                results.append(SimpleNamespace(effects=pd.DataFrame(eff)))
                r = pooled_contrasts(results[-1:], "True", "False", n_bootstrap=2000).set_index("contrast")
                r = r.loc["selectivity: found - random"]
                rows.append({"label": col, "n_units": k, "contrast": f"fold {fold}: selectivity: found - random",
                             "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "p_boot": r["p_boot"]})
            con = pooled_contrasts(results, "True", "False", n_bootstrap=2000).set_index("contrast")
            for name in ("found: True - False", "True: found - random", "selectivity: found - random"):
                r = con.loc[name]
                rows.append({"label": col, "n_units": k, "contrast": name, "estimate": r["estimate"],
                             "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_boot": r["p_boot"]})
    print("\n== sensitivity: cross-fitted contrasts for every n_units (held-out halves; not used for choices)")
    print(pd.DataFrame(rows).round(3).to_string(index=False), flush=True)


def lm(folds: tuple[int, ...] = (0, 1), fraction: float = 0.01, n_random: int = 5) -> None:
    from brainalign.models import load_model
    from brainalign.units import code_prose_ablation

    t0 = time.perf_counter()
    net = load_model("smollm2")
    print(f"SmolLM2 loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    results = []
    for fold in folds:
        t0 = time.perf_counter()
        found, res = code_prose_ablation(net, fraction=fraction, n_random=n_random, fold=fold)
        by = found.by_layer()
        layers = sorted(by, key=lambda la: -len(by[la]))[:5]
        _show(f"SmolLM2 code units (MLP act_fn, {fraction:.0%}), split {fold}; most in "
              + ", ".join(f"{la} ({len(by[la])})" for la in layers), found, res, t0)
        results.append(res)
    if len(results) > 1:
        print("\n== SmolLM2 code units, splits pooled (cross-fitted: each split's held-out chunks)")
        print(pooled_contrasts(results, "code", "prose").round(3).to_string(index=False), flush=True)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("lm", "all"):
        lm(tuple(int(a) for a in sys.argv[2:]) or (0, 1))
    if what in ("vision", "all"):
        vision()
    if what in ("sensitivity", "all"):
        sensitivity()
