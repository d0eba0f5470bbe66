"""Versioned brain benchmarks: data + metric + ceiling + split + citation.

A benchmark is a subclass of :class:`Benchmark` registered with :func:`register_benchmark`.
It names its stimuli and how to score a model's recorded responses on them; it never imports
framework code (the model is recorded through :mod:`brainalign.models`). A changed formula is a
new ``version``, never a silent change of published numbers.

>>> from brainalign.benchmarks import score_model
>>> result = score_model("mobilenet_v2", "cowley2023.v4.ridge")   # doctest: +SKIP
>>> result.best_layer, round(result.score, 3)                     # doctest: +SKIP
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from ..data import StimulusSet
from ..provenance import make_provenance
from ..registry import Registry
from .results import ResultsDB, ScoreResult, results_dir

__all__ = ["Benchmark", "BENCHMARKS", "register_benchmark", "get_benchmark", "score_model",
           "score_features", "ScoreResult", "ResultsDB", "results_dir", "layer_order"]


class Benchmark(abc.ABC):
    """Base class of benchmarks.

    Subclasses set the class attributes and implement :meth:`stimuli` and :meth:`score_layers`.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    kind: ClassVar[str]  # "encoding" | "rsa"
    modality: ClassVar[str] = "image"
    dataset: ClassVar[str]
    region: ClassVar[str]
    metric: ClassVar[str]
    ceiling: ClassVar[str]
    split: ClassVar[str]
    citation: ClassVar[str]
    description: ClassVar[str]
    #: how model responses are reduced per layer when recorded for this benchmark
    reduction: ClassVar[str] = "mean"
    #: a short axis label for plots, e.g. "median held-out r"
    score_label: ClassVar[str] = "score"

    @abc.abstractmethod
    def stimuli(self) -> StimulusSet:
        """The stimuli a model must be shown."""

    @abc.abstractmethod
    def score_layers(self, features: xr.DataArray, *, seed: int = 0,
                     progress: bool = False) -> dict[str, Any]:
        """Score every layer of ``features`` (stimulus x unit, unit coord ``layer``).

        Returns a dict with ``layers`` (layer -> score), and optionally ``targets``
        (layer -> target -> score), ``ceiling`` and ``details``.
        """

    def describe(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("name", "version", "kind", "modality", "dataset",
                                               "region", "metric", "ceiling", "split", "reduction",
                                               "citation", "description")}


BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")


def register_benchmark(cls: type[Benchmark]) -> type[Benchmark]:
    """Class decorator registering a :class:`Benchmark` subclass under ``cls.name``."""
    return BENCHMARKS.register(cls.name, version=cls.version, kind=cls.kind)(cls)


def get_benchmark(name: str) -> Benchmark:
    return BENCHMARKS.get(name)()


def layer_order(features: xr.DataArray) -> list[str]:
    """Layers of a recording in the order they first appear along ``unit``."""
    layers = features["layer"].values
    _, first = np.unique(layers, return_index=True)
    return [str(layers[i]) for i in sorted(first)]


def iter_layers(features: xr.DataArray) -> list[tuple[str, xr.DataArray]]:
    """(layer, stimulus x unit sub-array) for every layer, in order."""
    layers = features["layer"].values
    return [(name, features.isel(unit=np.flatnonzero(layers == name))) for name in layer_order(features)]


def _best(layers: dict[str, float]) -> tuple[str, float]:
    names = list(layers)
    vals = np.array([layers[n] for n in names], dtype=float)
    if np.all(np.isnan(vals)):
        return names[0], float("nan")
    i = int(np.nanargmax(vals))  # first maximum: ties go to the earlier layer
    return names[i], float(vals[i])


def score_features(features: xr.DataArray, benchmark: str | Benchmark, *, model: str = "features",
                   seed: int = 0, progress: bool = False,
                   parents: Sequence[dict] | None = None) -> ScoreResult:
    """Score precomputed features (stimulus x unit with a ``layer`` unit coordinate)."""
    bench = get_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    if "layer" not in features.coords:
        features = features.assign_coords(layer=("unit", np.full(features.sizes["unit"], "all", object)))
    t0 = time.perf_counter()
    out = bench.score_layers(features, seed=seed, progress=progress)
    layers = {k: float(v) for k, v in out["layers"].items()}
    best_layer, best = _best(layers)
    from ..responses import get_provenance

    prov = make_provenance(f"benchmark.{bench.name}", {"version": bench.version, "model": model,
                                                       "reduction": bench.reduction},
                           seed=seed, inputs={"features": features.values},
                           parents=list(parents or []) + [get_provenance(features)])
    return ScoreResult(model=model, benchmark=bench.name, benchmark_version=bench.version,
                       metric=bench.metric, score=best, best_layer=best_layer, layers=layers,
                       targets=out.get("targets", {}), ceiling=out.get("ceiling", {}),
                       details={"score_label": bench.score_label, **out.get("details", {})},
                       provenance=prov,
                       elapsed_s=time.perf_counter() - t0)


def score_model(model: str, benchmark: str, *, layers: str | Sequence[str] | None = None,
                device: str = "cpu", batch_size: int = 32, seed: int = 0, progress: bool = True,
                store: bool | str = False, cache: bool | str | None = None,
                log: Callable[[str], None] | None = None) -> ScoreResult:
    """Record ``model`` on ``benchmark``'s stimuli, score every layer, return the result.

    Parameters
    ----------
    model : a registered model name (``brainalign models list``).
    benchmark : a registered benchmark name (``brainalign benchmarks list``).
    layers : layers to record (names, globs); default the model's ``default_layers``.
    store : ``True`` (default results directory) or a directory: append to its results database.
    cache : ``True`` or a folder: keep the recording in a content-hashed cache (see
        :func:`brainalign.models.record`), so scoring the same model again skips the forward passes.
    """
    from ..models import MODELS, load_model, record

    bench = get_benchmark(benchmark)
    if not model.startswith("hf:"):
        MODELS.get(model)  # an unknown name fails here, before any data or weights are read
    stimuli = bench.stimuli()
    adapter = load_model(model, device=device)
    if adapter.modality != bench.modality:
        from ..errors import InvalidDataError

        raise InvalidDataError(f"model {model!r} takes {adapter.modality} stimuli but benchmark "
                               f"{benchmark!r} shows {bench.modality} stimuli")
    t0 = time.perf_counter()
    if log:
        log(f"recording {model} on {len(stimuli)} stimuli of {bench.name}")
    features = record(adapter, stimuli, layers if layers is not None else adapter.default_layers,
                      reduction=bench.reduction, batch_size=batch_size, progress=progress,
                      cache=cache)
    t_rec = time.perf_counter() - t0
    if log:
        log(f"scoring {len(layer_order(features))} layers ({bench.kind})")
    result = score_features(features, bench, model=model, seed=seed, progress=progress)
    result.details["record_s"] = round(t_rec, 2)
    result.elapsed_s = time.perf_counter() - t0
    if store:
        ResultsDB(None if store is True else store).add(result)
    return result


def _import_builtin() -> None:
    from . import vision  # noqa: F401


_import_builtin()
