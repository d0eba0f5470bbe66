"""Score many models on many benchmarks with Dask, storing each result as it completes.

A sweep is resumable: results already in the database for the same (model, benchmark, version,
layers) are skipped, so a killed sweep started again runs only what is missing.

>>> from brainalign.benchmarks.sweep import sweep
>>> sweep(["mobilenet_v2"], ["cowley2023.v4.ridge", "kriegeskorte2008.it.rsa"])  # doctest: +SKIP
>>> sweep(models, benchmarks, scheduler="tcp://scheduler:8786")                  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from . import get_benchmark, score_model
from .results import ResultsDB, ScoreResult

Key = tuple[str, str, int, str]


def _layers_key(layers: Sequence[str] | None) -> str:
    return ",".join(layers) if layers else "default"


def _key(r: ScoreResult) -> Key:
    return (r.model, r.benchmark, r.benchmark_version, str(r.details.get("layers_requested", "default")))


def _run(model: str, benchmark: str, layers: Sequence[str] | None, seed: int, device: str,
         batch_size: int) -> ScoreResult:
    r = score_model(model, benchmark, layers=layers, seed=seed, device=device,
                    batch_size=batch_size, progress=False)
    r.details["layers_requested"] = _layers_key(layers)
    return r


def sweep(models: Sequence[str], benchmarks: Sequence[str], *, layers: Sequence[str] | None = None,
          results: str | os.PathLike | None = None, scheduler: str | None = None, workers: int = 1,
          resume: bool = True, seed: int = 0, device: str = "cpu", batch_size: int = 32,
          log: Callable[[str], None] | None = None) -> list[ScoreResult]:
    """Score every model on every benchmark; each result goes to the results database at once.

    Parameters
    ----------
    models, benchmarks : registered names (unknown names fail before anything runs).
    layers : layers to record for every model (default: each model's default layers).
    results : results directory (default ``$BRAINALIGN_RESULTS`` or ``./brainalign-results``).
    scheduler : ``None`` runs on a local Dask cluster of ``workers`` processes (``workers=1``:
        in this process, no cluster); ``"tcp://host:port"`` submits to a running
        ``distributed`` scheduler.
    resume : skip (model, benchmark, version, layers) already in the database.

    Returns
    -------
    The results computed by this call, in completion order (skipped ones are not repeated).
    """
    from ..models import MODELS

    for m in models:
        if not m.startswith("hf:"):
            MODELS.get(m)
    versions = {b: get_benchmark(b).version for b in benchmarks}
    db = ResultsDB(results)
    lk = _layers_key(layers)
    done = {_key(r) for r in db.all()} if resume else set()
    todo = [(m, b) for m in models for b in benchmarks if (m, b, versions[b], lk) not in done]
    say = log or (lambda _m: None)
    say(f"sweep: {len(todo)} to run, {len(models) * len(benchmarks) - len(todo)} already stored")
    out: list[ScoreResult] = []
    if not todo:
        return out
    if scheduler is None and workers <= 1:
        for m, b in todo:
            say(f"  scoring {m} on {b}")
            r = _run(m, b, layers, seed, device, batch_size)
            db.add(r)
            out.append(r)
            say(f"  {m} on {b}: {r.score:.3f} ({r.best_layer})")
        return out
    from distributed import Client, LocalCluster, as_completed

    cluster: Any = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        futures = {client.submit(_run, m, b, layers, seed, device, batch_size, pure=False): (m, b)
                   for m, b in todo}
        for fut in as_completed(futures):
            r = fut.result()
            db.add(r)
            out.append(r)
            say(f"  {r.model} on {r.benchmark}: {r.score:.3f} ({r.best_layer})")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return out
