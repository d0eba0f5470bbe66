"""Benchmark: brainalign.encoding.RidgeCV vs himalaya RidgeCV (NumPy backend), same inputs.

Problem P (issue 4): n=2000 samples, p=2000 features, 50,000 targets, 20 alphas, 5-fold CV,
float32. Long regime: n=3000, p=300, 10,000 targets. Both fit the same data in one process;
we print wall time, the time ratio, peak memory (tracemalloc: NumPy allocations), and agreement
(best alphas, coefficients).

Usage::

    python benchmarks/bench_ridge_himalaya.py --problem P --targets 5000   # scaled down
    python benchmarks/bench_ridge_himalaya.py --problem P                  # full size (~8 GB)
    python benchmarks/bench_ridge_himalaya.py --problem long

Himalaya's run with its defaults (all targets in one batch) peaks at ~8 GB at full size: run
the full problem rarely and only when the machine has memory to spare.
"""

from __future__ import annotations

import argparse
import resource

import numpy as np
from _harness import measure as run

PROBLEMS = {"P": (2000, 2000, 50_000), "long": (3000, 300, 10_000)}


def make_data(n: int, p: int, t: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features with a decaying spectrum; targets with signal-to-noise varying over targets."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(np.float32)
    X *= np.geomspace(1.0, 0.05, p).astype(np.float32)
    k = min(p, 200)
    W = rng.standard_normal((k, t)).astype(np.float32)
    Y = X[:, :k] @ W
    Y /= Y.std(axis=0)
    snr = np.geomspace(0.02, 5, t).astype(np.float32)
    Y = Y * np.sqrt(snr) + rng.standard_normal((n, t)).astype(np.float32)
    return X, Y


def max_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="P")
    ap.add_argument("--targets", type=int, default=None, help="number of targets (scale down)")
    ap.add_argument("--alphas", type=int, default=20)
    ap.add_argument("--budget", default="512MB", help="brainalign memory_budget")
    ap.add_argument("--skip-himalaya", action="store_true")
    args = ap.parse_args()
    n, p, t = PROBLEMS[args.problem]
    t = args.targets or t
    X, Y = make_data(n, p, t)
    alphas = np.logspace(-1, 6, args.alphas)
    print(f"problem {args.problem}: n={n} p={p} targets={t} alphas={len(alphas)} cv=5 float32")

    from brainalign.encoding import RidgeCV

    ours = RidgeCV(alphas=alphas, cv=5, dtype="float32", memory_budget=args.budget)
    _, t_ours, m_ours = run(lambda: ours.fit(X, Y))
    print(f"brainalign: {t_ours:8.2f} s  peak {m_ours / 2**30:6.2f} GiB (allocations during fit)  "
          f"process max RSS {max_rss_gib():.2f} GiB (incl. inputs)  form={ours.form_}")
    if args.skip_himalaya:
        return

    import himalaya.ridge
    from himalaya.backend import set_backend

    set_backend("numpy")  # himalaya's global backend (their API)
    him = himalaya.ridge.RidgeCV(alphas=alphas, cv=5, fit_intercept=True,
                                 solver_params={"score_func": _r2_mean_folds()})
    _, t_him, m_him = run(lambda: him.fit(X, Y))
    print(f"himalaya:   {t_him:8.2f} s  peak {m_him / 2**30:6.2f} GiB (allocations during fit)  "
          f"process max RSS {max_rss_gib():.2f} GiB")
    print(f"speed-up:   {t_him / t_ours:.2f}x   memory ratio {m_him / max(m_ours, 1):.2f}x")
    hb = np.asarray(him.best_alphas_, dtype=np.float64)
    same = np.isclose(hb, ours.best_alphas_, rtol=1e-5)
    print(f"same best alpha: {100 * same.mean():.3f} % of targets ({int((~same).sum())} differ)")
    hc = np.asarray(him.coef_, dtype=np.float64).T  # himalaya: (p, t)
    oc = ours.coef_.astype(np.float64)
    rel = np.abs(hc[same] - oc[same]).max(axis=1) / np.abs(hc[same]).max(axis=1)
    print(f"coef max relative difference (targets with the same alpha): median {np.median(rel):.2e}, "
          f"99th percentile {np.quantile(rel, 0.99):.2e}, max {rel.max():.2e}")
    if (~same).any():
        hs = np.asarray(him.cv_scores_, dtype=np.float64)[~same]
        gap = np.abs(hs - ours.cv_scores_[~same])
        print(f"targets with different alphas: |difference of the best cv score| max {gap.max():.2e} "
              "(near-ties between neighbouring alphas)")


def _r2_mean_folds():
    from himalaya.scoring import r2_score

    return r2_score


if __name__ == "__main__":
    main()
