"""Benchmark: brainalign RidgeCV(cv="loo") vs scikit-learn RidgeCV(alpha_per_target=True).

scikit-learn's own problem: efficient leave-one-out (GCV) with one alpha per target. Same
inputs, same alphas, one process; prints wall time, ratio, peak memory (tracemalloc) and
agreement (best alphas, coefficients). scikit-learn works in float64 (it upcasts); ours runs
the decomposition in float64 and the products in float32 (``--dtype float64`` for exact).

Usage::

    python benchmarks/bench_ridge_sklearn.py                    # n=2000, p=200, 10,000 targets
    python benchmarks/bench_ridge_sklearn.py --n 1000 --p 100 --targets 2000
    python benchmarks/bench_ridge_sklearn.py --repeats 5      # alternate ours / scikit-learn 5x

On a shared machine times drift with the other jobs, so the two fits alternate ``--repeats``
times and every pair's ratio is printed with the 1-minute load average; the summary is the
median ratio.
"""

from __future__ import annotations

import argparse
import os
import resource

import numpy as np
from _harness import measure as run


def max_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--p", type=int, default=200)
    ap.add_argument("--targets", type=int, default=10_000)
    ap.add_argument("--alphas", type=int, default=20)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--repeats", type=int, default=3, help="alternating ours/scikit-learn pairs")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, p, t = args.n, args.p, args.targets
    X = rng.standard_normal((n, p)) * np.geomspace(1, 0.05, p)
    W = rng.standard_normal((p, t))
    Y = X @ W
    Y = Y / Y.std(axis=0) * np.sqrt(np.geomspace(0.02, 5, t)) + rng.standard_normal((n, t))
    alphas = np.logspace(-1, 6, args.alphas)
    print(f"LOO problem: n={n} p={p} targets={t} alphas={len(alphas)}; ours dtype={args.dtype}")

    from sklearn.linear_model import RidgeCV as SkRidgeCV

    from brainalign.encoding import RidgeCV

    ratios = []
    for i in range(args.repeats):
        ours = RidgeCV(alphas=alphas, cv="loo", dtype=args.dtype)
        _, t_ours, m_ours = run(lambda: ours.fit(X, Y))  # noqa: B023 - called at once
        load_mid = os.getloadavg()[0]
        sk = SkRidgeCV(alphas=alphas, alpha_per_target=True)
        _, t_sk, m_sk = run(lambda: sk.fit(X, Y))  # noqa: B023 - called at once
        ratios.append(t_sk / t_ours)
        print(f"run {i + 1}: brainalign {t_ours:6.2f} s  scikit-learn {t_sk:6.2f} s  "
              f"speed-up {t_sk / t_ours:5.2f}x  (load average {load_mid:.2f})")
    print(f"brainalign peak {m_ours / 2**30:6.2f} GiB, scikit-learn peak {m_sk / 2**30:6.2f} GiB "
          f"(tracemalloc; max RSS {max_rss_gib():.2f} GiB)")
    print(f"speed-up: median {np.median(ratios):.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x "
          f"over {len(ratios)} alternating pairs); memory ratio {m_sk / max(m_ours, 1):.2f}x")
    same = np.isclose(sk.alpha_, ours.best_alphas_, rtol=1e-6)
    print(f"same best alpha: {100 * same.mean():.3f} % of targets")
    rel = (np.abs(sk.coef_[same] - ours.coef_[same]).max(axis=1)
           / np.abs(sk.coef_[same]).max(axis=1))
    print(f"coef max relative difference (same alpha): median {np.median(rel):.2e}, max {rel.max():.2e}")


if __name__ == "__main__":
    main()
