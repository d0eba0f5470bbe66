"""Benchmark: linear CKA for all pairs of R layers vs the cost of forming the R Gram matrices once.

Problem (issue 5): 50 layers, 2000 stimuli, 4096 units each (float32 products). The reference
cost is forming every centred Gram matrix ``Xc Xc^T`` once (what any CKA implementation must
at least do); ``linear_cka_matrix`` streams Gram row blocks within a memory budget and gets
all pairs from one product per block. Agreement is checked against netrep-style per-pair CKA
(:func:`brainalign.similarity.cka`, float64) on a few pairs.

Usage::

    python benchmarks/bench_cka_allpairs.py                       # full size (~1.6 GB input)
    python benchmarks/bench_cka_allpairs.py --layers 10 --stimuli 1000 --units 1024
"""

from __future__ import annotations

import argparse

import numpy as np
from _harness import measure as run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--stimuli", type=int, default=2000)
    ap.add_argument("--units", type=int, default=4096)
    ap.add_argument("--budget-mb", type=int, default=1024)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    base = rng.standard_normal((args.stimuli, 64)).astype(np.float32)
    reps = [(base @ rng.standard_normal((64, args.units)).astype(np.float32)
             + 2 * rng.standard_normal((args.stimuli, args.units)).astype(np.float32))
            for _ in range(args.layers)]

    from brainalign.similarity import cka, linear_cka_matrix

    def grams():
        out = 0.0
        for x in reps:
            xc = x - x.mean(axis=0, keepdims=True)
            g = xc @ xc.T
            out += float(g[0, 0])
        return out

    _, t_gram, m_gram = run(grams)
    mat, t_cka, m_cka = run(lambda: linear_cka_matrix(reps, dtype=np.float32,
                                                      memory_budget=args.budget_mb << 20))
    pairs = [(0, 1), (2, args.layers - 1), (args.layers // 2, 3 % args.layers)]
    ref = [cka(reps[i].astype(np.float64), reps[j].astype(np.float64)) for i, j in pairs]
    diff = max(abs(mat[i, j] - r) for (i, j), r in zip(pairs, ref, strict=True))
    print(f"problem: {args.layers} layers x ({args.stimuli} stimuli x {args.units} units), float32")
    print(f"forming {args.layers} centred Grams once : {t_gram:8.2f} s  peak {m_gram / 2**20:8.1f} MiB")
    print(f"linear CKA, all {args.layers * (args.layers - 1) // 2} pairs   : {t_cka:8.2f} s  "
          f"peak {m_cka / 2**20:8.1f} MiB (budget {args.budget_mb} MiB)")
    print(f"ratio (all-pairs CKA / Gram formation): {t_cka / t_gram:.2f}x")
    print(f"agreement with per-pair float64 CKA on {len(pairs)} pairs: max |difference| = {diff:.2e}")


if __name__ == "__main__":
    main()
