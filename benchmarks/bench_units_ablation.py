"""Acceptance experiments of the units issue, with the numbers quoted in docs/units.md.

1. MobileNetV2 on the 92 images (Kriegeskorte 2008): face and animate units of ``features.18``
   found on one half of the images (mean difference, Welch t, permutation p, FDR), zero-ablated;
   the network's confidence (NLL of its unablated top-1 class) on the *other* half, concept vs
   other images, compared with random units of the same number (10 seeds). Both halves in turn.
2. SmolLM2-135M: code units among the 46,080 MLP neurons (``layers.N.mlp.act_fn``), found on
   chunks of Python standard-library files vs the Alice chapter, zero-ablated; per-token loss on
   held-out files and passages, vs random units (5 seeds). Both splits in turn.

Run: ``.venv/bin/python benchmarks/bench_units_ablation.py [vision|lm|all]`` (tens of minutes on 2
busy cores). Prints one block per experiment and fold, plus the wall time.
"""

from __future__ import annotations

import sys
import time
import warnings


def _show(title: str, found, res, t0: float) -> None:  # noqa: ANN001
    print(f"\n== {title}; {len(found)} units, {int((found.table['q'] < 0.05).sum())} with q<0.05; "
          f"held out {res.settings['held_out']}; {time.perf_counter() - t0:.0f} s", flush=True)
    print(res.summary.round(3).to_string(index=False))
    print(res.contrasts.round(3).to_string(index=False), flush=True)


def vision(n_units: int = 64, n_random: int = 10) -> None:
    from brainalign.data import load_dataset
    from brainalign.models import load_model
    from brainalign.units import vision_ablation

    stim = load_dataset("kriegeskorte2008").stimuli
    net = load_model("mobilenet_v2")
    for col in ("face", "animate"):
        for fold in (0, 1):
            t0 = time.perf_counter()
            found, res = vision_ablation(net, stim, col, "True", "False", n_units=n_units, n_random=n_random,
                                         fold=fold)
            _show(f"MobileNetV2 {col} units (features.18), fold {fold}", found, res, t0)


def lm(fraction: float = 0.01, n_random: int = 5) -> None:
    from brainalign.models import load_model
    from brainalign.units import code_prose_ablation

    t0 = time.perf_counter()
    net = load_model("smollm2")
    print(f"SmolLM2 loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    for fold in (0, 1):
        t0 = time.perf_counter()
        found, res = code_prose_ablation(net, fraction=fraction, n_random=n_random, fold=fold)
        by = found.by_layer()
        layers = sorted(by, key=lambda la: -len(by[la]))[:5]
        _show(f"SmolLM2 code units (MLP act_fn, {fraction:.0%}), split {fold}; most in "
              + ", ".join(f"{la} ({len(by[la])})" for la in layers), found, res, t0)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("lm", "all"):
        lm()
    if what in ("vision", "all"):
        vision()
