"""Benchmark: brainalign.similarity.compute_rdms vs rsatoolbox calc_rdm, same inputs, one process.

Problem (issue 5): 20 representations of 500 stimuli x 4096 units plus 10 of 500 x 200, float64,
correlation distance. Prints wall time of each, the ratio, peak memory (tracemalloc: NumPy
allocations) and the largest absolute difference between the RDMs.

Each timing is the best of ``--repeat`` runs (ours and rsatoolbox alternate, so both see the same
machine load); the 1-minute load average is printed. ``--blas-threads 1`` runs everything under
``threadpoolctl.threadpool_limits(1)``: on an oversubscribed machine a multi-threaded BLAS
spin-waits and a single thread is faster (rsatoolbox's einsum does not use BLAS threads).

Usage::

    python benchmarks/bench_rsa_rdms.py                    # full size
    python benchmarks/bench_rsa_rdms.py --small            # 5 x (500 x 4096) + 3 x (500 x 200)
    python benchmarks/bench_rsa_rdms.py --blas-threads 1   # single-threaded BLAS
"""

from __future__ import annotations

import argparse
import contextlib
import os

import numpy as np
from _harness import measure as run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--metric", default="correlation", choices=["correlation", "euclidean"])
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is reported")
    ap.add_argument("--blas-threads", type=int, default=None)
    args = ap.parse_args()
    ctx = contextlib.nullcontext()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits

        ctx = threadpool_limits(args.blas_threads)
    with ctx:
        _main(args)


def _main(args) -> None:
    n_big, n_small = (5, 3) if args.small else (20, 10)
    rng = np.random.default_rng(0)
    n = 500
    reps = [rng.standard_normal((n, 4096)) for _ in range(n_big)] + [rng.standard_normal((n, 200))
                                                                     for _ in range(n_small)]
    ids = [f"s{i}" for i in range(n)]

    from brainalign.responses import make_responses
    from brainalign.similarity import compute_rdms

    resp = {f"r{i}": make_responses(x, ids) for i, x in enumerate(reps)}
    import rsatoolbox

    def theirs():
        out = []
        for x in reps:
            ds = rsatoolbox.data.Dataset(x)
            out.append(rsatoolbox.rdm.calc_rdm(ds, method=args.metric).get_vectors()[0])
        return np.array(out)

    load0 = os.getloadavg()[0]
    t_ours, t_32, t_ref = [], [], []
    for _ in range(args.repeat):  # alternate, so that both see the same load
        ours, t, m_ours = run(lambda: compute_rdms(resp, args.metric))
        t_ours.append(t)
        ours32, t, m_32 = run(lambda: compute_rdms(resp, args.metric, dtype=np.float32))
        t_32.append(t)
        ref, t, m_ref = run(theirs)
        t_ref.append(t)
    t_ours, t_32, t_ref = min(t_ours), min(t_32), min(t_ref)
    from brainalign.responses import condensed

    ours_v = condensed(ours)
    if args.metric == "euclidean":  # rsatoolbox: squared Euclidean divided by the number of units
        ours_v = ours_v**2 / np.array([x.shape[1] for x in reps])[:, None]
    diff = np.abs(ours_v - ref).max()
    v32 = condensed(ours32)
    if args.metric == "euclidean":
        v32 = v32**2 / np.array([x.shape[1] for x in reps])[:, None]
    diff32 = np.abs(v32 - ref).max()
    print(f"problem: {n_big} x ({n} x 4096) + {n_small} x ({n} x 200), metric={args.metric}, "
          f"blas threads: {args.blas_threads or 'default'}, best of {args.repeat}")
    print(f"load average (1 min) at start / end: {load0:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"brainalign compute_rdms : {t_ours:8.3f} s   peak {m_ours / 2**20:8.1f} MiB")
    print(f"brainalign float32 Gram : {t_32:8.3f} s   peak {m_32 / 2**20:8.1f} MiB")
    print(f"rsatoolbox calc_rdm     : {t_ref:8.3f} s   peak {m_ref / 2**20:8.1f} MiB")
    print(f"speed-up (rsatoolbox / brainalign): {t_ref / t_ours:.1f}x float64, {t_ref / t_32:.1f}x float32")
    print(f"agreement: max |difference| = {diff:.2e} (float64), {diff32:.2e} (float32)")


if __name__ == "__main__":
    main()
