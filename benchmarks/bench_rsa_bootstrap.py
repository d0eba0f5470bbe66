"""Benchmark: brainalign.similarity.evaluate (stimulus bootstrap) vs rsatoolbox
eval_bootstrap_pattern, same inputs and the same resampling indices, one process.

Problem (issue 5): 20 model RDMs vs 10 subject RDMs over 500 stimuli, Spearman, noise ceiling per
sample (rsatoolbox's default). Prints time per bootstrap sample of each, the ratio, peak memory
(tracemalloc) and agreement of point estimates and of every bootstrap value.

Usage::

    python benchmarks/bench_rsa_bootstrap.py                 # rsatoolbox 3 samples, ours 50
    python benchmarks/bench_rsa_bootstrap.py --n-ref 1 --n-ours 20 --stimuli 200
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _harness import measure as run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stimuli", type=int, default=500)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--subjects", type=int, default=10)
    ap.add_argument("--n-ref", type=int, default=3, help="rsatoolbox bootstrap samples")
    ap.add_argument("--n-ours", type=int, default=50, help="brainalign bootstrap samples")
    ap.add_argument("--method", default="spearman")
    args = ap.parse_args()
    n, m = args.stimuli, args.stimuli * (args.stimuli - 1) // 2
    rng = np.random.default_rng(0)
    true = rng.random(m)
    subj = true + 0.8 * rng.random((args.subjects, m))
    mods = true + rng.uniform(0.5, 4, (args.models, 1)) * rng.random((args.models, m))
    ids = [f"s{i}" for i in range(n)]

    from brainalign.responses import make_rdms
    from brainalign.similarity.stats import evaluate

    models, data = make_rdms(mods, ids), make_rdms(subj, ids)
    # the indices rsatoolbox will draw from numpy's global generator after seeding
    np.random.seed(123)  # noqa: NPY002
    idx = np.stack([np.random.randint(0, n, size=n) for _ in range(args.n_ref)])  # noqa: NPY002
    extra = np.random.default_rng(1).integers(0, n, size=(args.n_ours - args.n_ref, n))
    all_idx = np.vstack([idx, extra])

    load0 = os.getloadavg()[0]
    ours, t_ours, m_ours = run(lambda: evaluate(models, data, args.method, indices={"stimuli": all_idx}))

    from rsatoolbox.inference import eval_bootstrap_pattern
    from rsatoolbox.model import ModelFixed
    from rsatoolbox.rdm import RDMs

    rs_models = [ModelFixed(f"m{i}", RDMs(mods[i:i + 1])) for i in range(args.models)]
    rs_data = RDMs(subj)
    method = {"pearson": "corr", "rho_a": "rho-a"}.get(args.method, args.method)
    np.random.seed(123)  # noqa: NPY002
    ref, t_ref, m_ref = run(lambda: eval_bootstrap_pattern(rs_models, rs_data, method=method, N=args.n_ref))

    from rsatoolbox.rdm import compare

    point_ref = compare(RDMs(mods), rs_data, method).mean(axis=1)
    d_point = np.abs(ours["score"].values - point_ref).max()
    d_boot = np.abs(ours["boot_score"].values[:args.n_ref] - ref.evaluations).max()
    d_ceil = max(np.abs(ours["boot_ceiling_lower"].values[:args.n_ref] - ref.noise_ceiling[0]).max(),
                 np.abs(ours["boot_ceiling_upper"].values[:args.n_ref] - ref.noise_ceiling[1]).max())
    per_ours, per_ref = t_ours / args.n_ours, t_ref / args.n_ref
    print(f"problem: {args.models} models x {args.subjects} subjects, {n} stimuli, {args.method}, ceiling per sample")
    print(f"load average (1 min) at start / end: {load0:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"brainalign evaluate      : {per_ours:8.3f} s/sample ({args.n_ours} samples incl. point estimate)"
          f"  peak {m_ours / 2**20:8.1f} MiB")
    print(f"rsatoolbox eval_bootstrap: {per_ref:8.3f} s/sample ({args.n_ref} samples)"
          f"  peak {m_ref / 2**20:8.1f} MiB")
    print(f"speed-up per sample: {per_ref / per_ours:.1f}x")
    print(f"agreement: point estimates {d_point:.2e}, bootstrap values {d_boot:.2e}, ceilings {d_ceil:.2e}")


if __name__ == "__main__":
    main()
