"""Recording: batched forward passes with hooks that reduce each layer inside the hook.

The recorder

- resolves the requested layers (names, globs, regexes: :func:`select_layers`);
- registers one forward hook per layer that reduces the output at once (no full activation
  map is kept) and removes every hook in a ``finally``;
- stops the forward pass as soon as all requested layers have fired (later layers are not
  computed);
- prepares the next batch in a background thread while the current one runs;
- writes into a preallocated array, or streams chunk by chunk into a Zarr store that survives a
  kill and resumes (see :mod:`brainalign.models.store`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ..data.stimuli import StimulusSet
from ..errors import BrainAlignError, InvalidDataError
from ..provenance import make_provenance
from ..responses import make_responses
from .base import Batch, ModelAdapter, load_model
from .reductions import Reducer, UnitInfo, parse_reduction
from .selection import select_layers

if TYPE_CHECKING:  # pragma: no cover
    import torch

RECORD_FORMAT = "record/1"


class _StopForward(Exception):
    """Raised from the last hook to skip the rest of the network."""


def first_tensor(out: Any) -> torch.Tensor | None:
    """The tensor a hook records from a module output (tensor, tuple, dict or ModelOutput)."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for o in out:
            t = first_tensor(o)
            if t is not None:
                return t
        return None
    if isinstance(out, Mapping):
        for o in out.values():
            t = first_tensor(o)
            if t is not None:
                return t
    return None


class LayerHooks:
    """Forward hooks on chosen layers; a context manager that always removes them.

    Parameters
    ----------
    adapter : the model.
    layers : canonical layer names.
    reducers : layer -> :class:`Reducer`.
    stop_early : raise :class:`_StopForward` once every layer has fired in a forward pass.
    project : apply the reducers' projections (``False`` while fitting a streamed PCA).
    """

    def __init__(self, adapter: ModelAdapter, layers: Sequence[str], reducers: Mapping[str, Reducer],
                 *, stop_early: bool = True, project: bool = True):
        self.adapter = adapter
        self.layers = list(layers)
        self.reducers = dict(reducers)
        self.stop_early = stop_early
        self.project = project
        self.context: dict[str, Any] = {}
        self.batch_size = 0
        self.outputs: dict[str, torch.Tensor] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> LayerHooks:
        try:
            for layer in self.layers:
                mod = self.adapter.layer_module(layer)
                self._handles.append(mod.register_forward_hook(self._make_hook(layer)))
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _make_hook(self, layer: str) -> Callable[..., None]:
        red = self.reducers[layer]

        def hook(module: Any, inputs: Any, output: Any) -> None:
            if layer in self.outputs:  # a module called twice: the first call is recorded
                return
            t = first_tensor(output)
            if t is None:
                raise InvalidDataError(f"layer {layer!r} returned {type(output).__name__} without a "
                                       "tensor; choose another layer")
            if t.ndim == 0 or t.shape[0] != self.batch_size:
                raise InvalidDataError(
                    f"layer {layer!r} returned shape {tuple(t.shape)}, not batch-first for a batch "
                    f"of {self.batch_size}; choose another layer")
            self.shapes[layer] = tuple(t.shape)
            z = red(t, self.context) if self.project else red.reduce(t, self.context)
            self.outputs[layer] = z.float().cpu()
            if self.stop_early and len(self.outputs) == len(self.layers):
                raise _StopForward

        return hook

    def run(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Forward one batch; return layer -> (batch, n_units) float32 tensors."""
        import torch

        self.outputs = {}
        self.context = dict(batch.context)
        self.batch_size = batch.size
        try:
            with torch.inference_mode():
                self.adapter.forward(batch)
        except _StopForward:
            pass
        missing = [la for la in self.layers if la not in self.outputs]
        if missing:
            raise InvalidDataError(
                f"layers {missing} produced no output in the forward pass (the module is not "
                "called for these inputs, e.g. an unused branch); choose other layers")
        return self.outputs


@dataclass
class RecordPlan:
    """Everything that determines a recording's content (its cache key)."""

    adapter: ModelAdapter
    stimuli: StimulusSet
    layers: list[str]
    reducers: dict[str, Reducer]
    context: dict[str, Any]
    truncated: list[str]

    def key_fields(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, "model": self.adapter.name,
                "weights_digest": self.adapter.weights_digest,
                "preprocessing": self.adapter.preprocessing, "stimuli": self.stimuli.key,
                "layers": self.layers, "reduction": {la: self.reducers[la].spec for la in self.layers},
                "dtype": "float32"}


def make_plan(model: ModelAdapter | str, stimuli: StimulusSet, layers: str | Sequence[str] | None,
              reduction: str | Mapping[str, str], device: str | None = None) -> RecordPlan:
    """Resolve model, layers and reductions, and validate the stimuli, before any forward pass."""
    if not isinstance(stimuli, StimulusSet):
        raise InvalidDataError(f"stimuli must be a brainalign StimulusSet, got {type(stimuli).__name__}; "
                               "build one with StimulusSet.from_files / from_arrays / from_texts")
    if len(stimuli) == 0:  # pragma: no cover - StimulusSet refuses empty sets already
        raise InvalidDataError("the stimulus set is empty: nothing to record")
    adapter = load_model(model, device=device or "cpu") if isinstance(model, str) else model
    if not isinstance(adapter, ModelAdapter):
        raise InvalidDataError(f"model must be a name or a ModelAdapter (from load_model or from_module), "
                               f"got {type(adapter).__name__}")
    if adapter.modality != stimuli.kind:
        raise InvalidDataError(f"{adapter.name} takes {adapter.modality} stimuli but the set "
                               f"{stimuli.name!r} holds {stimuli.kind} stimuli")
    names = select_layers(adapter.layers(), layers, adapter.default_layers)
    if isinstance(reduction, Mapping):
        unknown = [k for k in reduction if k not in names and k != "default"]
        if unknown:
            raise InvalidDataError(f"reductions given for layers that are not recorded: {unknown}; "
                                   f"recorded layers: {names}")
        dflt = reduction.get("default", "mean")
        reducers = {la: parse_reduction(reduction.get(la, dflt)) for la in names}
    else:
        r = parse_reduction(reduction)
        reducers = {la: parse_reduction(r.spec) for la in names}
    context: dict[str, Any] = {}
    truncated: list[str] = []
    check = getattr(adapter, "check_texts", None)
    if stimuli.kind == "text" and check is not None:
        texts = [stimuli[i] for i in range(len(stimuli))]
        context["max_tokens"], truncated = check(texts, stimuli.ids)
    return RecordPlan(adapter, stimuli, names, reducers, context, truncated)


def iter_batches(plan: RecordPlan, start: int, stop: int, batch_size: int, on_error: str,
                 failed: list[str]) -> Iterator[tuple[int, Batch, list[int]]]:
    """Prepared batches of stimuli ``start:stop``, the next one prepared in a background thread.

    Yields (first index, batch, positions within the batch of stimuli that failed to load).
    """
    stim, adapter = plan.stimuli, plan.adapter

    def load(lo: int, hi: int) -> tuple[Batch, list[int]]:
        items, bad = [], []
        for i in range(lo, hi):
            try:
                items.append(stim[i])
            except BrainAlignError as exc:
                if on_error != "nan":
                    raise InvalidDataError(
                        f"stimulus {stim.ids[i]!r} could not be loaded: {exc} Remove it "
                        "(stimuli.subset(...)) or pass on_error='nan' to record NaN for it.") from exc
                bad.append(i - lo)
                items.append(None)
            except Exception as exc:
                if on_error != "nan":
                    raise InvalidDataError(f"stimulus {stim.ids[i]!r} could not be loaded: {exc}") from exc
                bad.append(i - lo)
                items.append(None)
        if bad:
            good = next((x for x in items if x is not None), None)
            if good is None:
                good = _blank(stim.kind)
            items = [good if x is None else x for x in items]
        return adapter.prepare(items), bad

    bounds = [(lo, min(lo + batch_size, stop)) for lo in range(start, stop, batch_size)]
    if not bounds:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="brainalign-prefetch") as ex:
        fut: Future[tuple[Batch, list[int]]] = ex.submit(load, *bounds[0])
        for j, (lo, _hi) in enumerate(bounds):
            batch, bad = fut.result()
            if j + 1 < len(bounds):
                fut = ex.submit(load, *bounds[j + 1])
            failed.extend(stim.ids[lo + b] for b in bad)
            yield lo, batch, bad


def _blank(kind: str) -> Any:
    if kind == "text":
        return "."
    from PIL import Image

    return Image.new("RGB", (224, 224))


def unit_table(plan: RecordPlan, shapes: Mapping[str, tuple[int, ...]]) -> tuple[list[str], dict[str, np.ndarray],
                                                                                 dict[str, slice]]:
    """Unit ids, unit coordinates (layer, channel, position) and each layer's column slice."""
    ids: list[str] = []
    layer_c, chan_c, pos_c = [], [], []
    slices: dict[str, slice] = {}
    for la in plan.layers:
        info: UnitInfo = plan.reducers[la].units(shapes[la], plan.context)
        lid = info.ids(la)
        slices[la] = slice(len(ids), len(ids) + len(lid))
        ids += lid
        layer_c.append(np.full(len(lid), la, dtype=object))
        chan_c.append(info.channel)
        pos_c.append(info.position)
    coords = {"layer": np.concatenate(layer_c), "channel": np.concatenate(chan_c).astype(np.int64),
              "position": np.concatenate(pos_c).astype(object)}
    return ids, coords, slices


def provenance_for(plan: RecordPlan, batch_size: int, on_error: str, failed: Sequence[str]) -> dict[str, Any]:
    a = plan.adapter
    return make_provenance(
        "models.record",
        {"model": a.name, "weights_digest": a.weights_digest, "preprocessing": a.preprocessing,
         "layers": plan.layers, "reduction": {la: plan.reducers[la].spec for la in plan.layers},
         "batch_size": batch_size, "device": a.device, "on_error": on_error,
         "failed_stimuli": list(failed), "truncated": plan.truncated,
         "stimulus_set": plan.stimuli.name, "n_stimuli": len(plan.stimuli)},
        inputs={"stimuli": plan.stimuli.key, "weights": a.weights_digest})


def _progress(total: int, enabled: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="stim", leave=False)


def record(model: ModelAdapter | str, stimuli: StimulusSet, layers: str | list[str] | None = None, *,
           reduction: str | Mapping[str, str] = "mean", batch_size: int = 32, progress: bool = True,
           out: str | os.PathLike | None = None, cache: bool | str | os.PathLike | None = None,
           memory_budget: int | str = "512MB", device: str | None = None, on_error: str = "raise",
           overwrite: bool = False) -> xr.DataArray:
    """Record the responses of a model's layers to a stimulus set.

    Parameters
    ----------
    model : a :class:`ModelAdapter` or a registered name (``brainalign models list``).
    stimuli : the stimuli (their kind must match the model's modality).
    layers : canonical names, globs (``"features.*"``) or regexes (``"re:encoder\\.layer\\.\\d+"``);
        ``None`` records ``model.default_layers``.
    reduction : one reduction for all layers, or ``{layer: reduction, "default": ...}``; see
        :mod:`brainalign.models.reductions` (``mean``, ``max``, ``none``/``flatten``,
        ``poolK``, ``first``, ``last``, ``...>srp:D``, ``...>pca:K``).
    batch_size : stimuli per forward pass.
    progress : show a progress bar (stderr).
    out : a Zarr store to stream into (created, or resumed if it holds an interrupted recording
        of the same plan). The result is then a lazy (dask) array backed by the store.
    cache : ``True`` (the folder ``$BRAINALIGN_CACHE`` or ``~/.cache/brainalign``) or a folder:
        store the recording under a content hash of (model, weights digest, preprocessing,
        stimulus set key, layers, reductions); a repeated call reads it back.
    memory_budget : bytes (or ``"512MB"``) for one chunk of streamed output; bounds the memory
        of a streamed recording whatever the number of stimuli.
    device : device for a model given by name.
    on_error : ``"raise"`` (default) on a stimulus that cannot be read, or ``"nan"``: record NaN
        for it and list it in provenance (``params.failed_stimuli``).
    overwrite : replace an ``out`` store that holds a different recording.

    Returns
    -------
    DataArray, dims ("stimulus", "unit"), float32: stimulus ids from ``stimuli``; unit ids
    ``"<layer>/c<channel>[/<position>]"``; unit coordinates ``layer``, ``channel``, ``position``;
    provenance with the model, weights digest, preprocessing, layers and reductions.
    """
    if on_error not in ("raise", "nan"):
        raise InvalidDataError(f"on_error must be 'raise' or 'nan', got {on_error!r}")
    if int(batch_size) < 1:
        raise InvalidDataError(f"batch_size must be >= 1, got {batch_size}")
    plan = make_plan(model, stimuli, layers, reduction, device)
    if out is not None or cache:
        from .store import record_to_store

        return record_to_store(plan, out=out, cache=cache, batch_size=int(batch_size), progress=progress,
                               memory_budget=memory_budget, on_error=on_error, overwrite=overwrite)
    fit_pca(plan, int(batch_size), progress, on_error)
    return _record_in_memory(plan, int(batch_size), progress, on_error)


def _record_in_memory(plan: RecordPlan, batch_size: int, progress: bool, on_error: str) -> xr.DataArray:
    n = len(plan.stimuli)
    failed: list[str] = []
    data: np.ndarray | None = None
    slices: dict[str, slice] = {}
    unit_ids: list[str] = []
    coords: dict[str, np.ndarray] = {}
    with LayerHooks(plan.adapter, plan.layers, plan.reducers) as hooks, \
            _progress(n, progress, f"record {plan.adapter.name}") as bar:
        for lo, batch, bad in iter_batches(plan, 0, n, batch_size, on_error, failed):
            outs = hooks.run(batch)
            if data is None:
                unit_ids, coords, slices = unit_table(plan, hooks.shapes)
                data = np.empty((n, len(unit_ids)), dtype=np.float32)
            for la, z in outs.items():
                data[lo:lo + batch.size, slices[la]] = z.numpy()
            if bad:
                data[[lo + b for b in bad]] = np.nan
            bar.update(batch.size)
    assert data is not None
    return make_responses(
        data, plan.stimuli.ids, unit_ids, unit_coords=coords,
        stimulus_coords=_stimulus_coords(plan.stimuli),
        provenance=provenance_for(plan, batch_size, on_error, failed),
        name=f"{plan.adapter.name}", source=f"model:{plan.adapter.name}")


def _stimulus_coords(stimuli: StimulusSet) -> dict[str, np.ndarray]:
    """Simple metadata columns of the stimulus set, carried onto the stimulus dimension."""
    out = {}
    md = stimuli.metadata
    for col in md.columns:
        v = md[col].to_numpy()
        if v.dtype.kind in "biufU" or v.dtype == object and all(isinstance(x, str) for x in v):
            out[str(col)] = v.astype(object) if v.dtype.kind in "OU" else v
    return out


def fit_pca(plan: RecordPlan, batch_size: int, progress: bool, on_error: str) -> None:
    """First pass of a streamed PCA: fit :class:`sklearn.decomposition.IncrementalPCA` on the
    base-reduced output of each ``...>pca:K`` layer, batch by batch (memory: one batch and the
    K x n_features components)."""
    from sklearn.decomposition import IncrementalPCA

    pca_layers = [la for la in plan.layers if plan.reducers[la].needs_fit()]
    if not pca_layers:
        return
    n = len(plan.stimuli)
    ipcas, pending = {}, {}
    for la in pca_layers:
        k = plan.reducers[la].projection[1]  # type: ignore[index]
        if k > n:
            raise InvalidDataError(f"pca:{k} on layer {la!r} needs at least {k} stimuli; the set has {n}")
        ipcas[la] = IncrementalPCA(n_components=k)
        pending[la] = []
    failed: list[str] = []
    done = 0
    with LayerHooks(plan.adapter, pca_layers, plan.reducers, project=False) as hooks, \
            _progress(n, progress, f"fit PCA {plan.adapter.name}") as bar:
        for _lo, batch, bad in iter_batches(plan, 0, n, batch_size, on_error, failed):
            outs = hooks.run(batch)
            done += batch.size
            keep = [i for i in range(batch.size) if i not in set(bad)]
            for la, z in outs.items():
                pending[la].append(np.nan_to_num(z.numpy()[keep].astype(np.float64)))
                rows = sum(len(p) for p in pending[la])
                k = ipcas[la].n_components
                # fit when k rows are buffered, unless fewer than k stimuli would remain after
                if rows >= k and (n - done == 0 or n - done >= k):
                    ipcas[la].partial_fit(np.concatenate(pending[la]))
                    pending[la] = []
            bar.update(batch.size)
    for la in pca_layers:
        if pending[la]:
            rest = np.concatenate(pending[la])
            if len(rest) >= ipcas[la].n_components:
                ipcas[la].partial_fit(rest)
        if not hasattr(ipcas[la], "components_"):
            raise InvalidDataError(f"too few readable stimuli to fit pca on {la!r}")
        plan.reducers[la].set_pca(ipcas[la].mean_, ipcas[la].components_)
