"""Interventions: change chosen units of chosen layers during any forward pass.

>>> from brainalign.models import intervene, Ablate, Scale
>>> with intervene(net, {"features.10": Ablate([3, 17]), "features.12": Scale([5], 2.0)}):
...     resp = record(net, stimuli, "classifier")                      # doctest: +SKIP

Conventions
-----------
- A *unit* of a layer is a channel: axis 1 of a 4-D (batch, channel, h, w) map and of a 2-D
  (batch, feature) output; the last axis of a 3-D (batch, token, feature) sequence. An
  intervention acts on the unit at every position (all pixels, all tokens).
- ``units`` is ``None`` (all units), a list of channel indices, or a list of unit ids as
  :func:`~brainalign.models.record` names them (``"features.3/c12"``; the position part, if
  any, is ignored), or a boolean mask.
- The hook runs before any recording hook on the same layer (it is prepended), so a recording
  inside the ``with`` block sees the changed output, and every later layer is computed from it.
- The output is copied, never changed in place; hooks are removed when the block exits, also
  on an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidDataError, UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    import torch

Units = Sequence[int] | Sequence[str] | np.ndarray | None


@dataclass
class Ablate:
    """Set units to zero (``value="zero"``) or to their mean (``value="mean"``).

    ``mean`` gives the value per unit (length n_selected, or a scalar), e.g. the stimulus mean
    of a ``reduction="mean"`` recording: ``resp.sel(unit=ids).mean("stimulus").values``. Without
    it, mean ablation uses the mean of each unit over the current batch and all positions
    (which depends on the batch: pass ``mean`` for reproducible results).
    """

    units: Units = None
    value: str = "zero"
    mean: Any = None


@dataclass
class Scale:
    """Multiply units by ``factor`` (a scalar or one value per selected unit)."""

    units: Units = None
    factor: Any = 1.0


@dataclass
class Clamp:
    """Clip units to ``[min, max]`` (either bound may be ``None``); ``value`` alone pins them."""

    units: Units = None
    min: float | None = None
    max: float | None = None
    value: float | None = None


@dataclass
class Patch:
    """Replace units with ``values``.

    ``values`` is broadcast against the selected slice of the output, whose shape is
    (batch, n_selected, h, w) for maps, (batch, token, n_selected) for sequences and
    (batch, n_selected) for vectors: a scalar, one value per unit, or whole activations from
    another run (e.g. patching in activations of another stimulus). A callable
    ``values(selected) -> tensor`` computes the replacement.
    """

    units: Units = None
    values: Any = 0.0


Spec = Ablate | Scale | Clamp | Patch | Callable[[Any], Any] | Mapping[str, Any] | str


@dataclass
class Intervention:
    """Handle yielded by :func:`intervene`: ``calls[layer]`` counts the forward passes changed."""

    specs: dict[str, Any]
    calls: dict[str, int] = field(default_factory=dict)


def channel_axis(ndim: int) -> int:
    """Axis of units for an output with ``ndim`` dims (see module docs)."""
    return -1 if ndim == 3 else 1


def parse_spec(spec: Spec) -> Any:
    """Normalise a spec: objects pass through; ``"zero"``/``"mean"`` ablate all units; a dict
    ``{"op": "zero" | "mean" | "scale" | "clamp" | "patch", "units": ..., ...}``."""
    if isinstance(spec, (Ablate, Scale, Clamp, Patch)) or callable(spec):
        return spec
    if isinstance(spec, str):
        if spec in ("zero", "mean"):
            return Ablate(None, spec)
        raise InvalidDataError(f"intervention {spec!r}: a string spec must be 'zero' or 'mean'")
    if isinstance(spec, Mapping):
        d = dict(spec)
        op = d.pop("op", None)
        try:
            if op in ("zero", "mean", "ablate"):
                return Ablate(d.pop("units", None), "mean" if op == "mean" else d.pop("value", "zero"),
                              d.pop("mean", None))
            if op == "scale":
                return Scale(**d)
            if op == "clamp":
                return Clamp(**d)
            if op == "patch":
                return Patch(**d)
        except TypeError as exc:
            raise InvalidDataError(f"intervention {spec!r}: {exc}") from exc
        raise InvalidDataError(f"intervention {spec!r}: 'op' must be one of zero, mean, scale, clamp, patch")
    raise InvalidDataError(f"cannot interpret intervention {spec!r}; use Ablate, Scale, Clamp, Patch, "
                           "a dict with 'op', or a callable")


_UNIT_ID = re.compile(r"^(?P<layer>.+)/c(?P<ch>\d+)(/.*)?$")


def unit_index(units: Units, layer: str, n: int) -> torch.Tensor | None:
    """Channel indices (LongTensor) selected by ``units`` among ``n``; ``None`` for all."""
    import torch

    if units is None:
        return None
    if isinstance(units, (int, np.integer, str)):
        units = [units]  # type: ignore[list-item]
    arr = np.asarray(units)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InvalidDataError(f"a boolean unit mask for {layer!r} needs {n} entries, got {arr.shape}")
        idx = np.flatnonzero(arr)
    elif arr.dtype.kind in "OUS":
        idx_list = []
        for u in arr.tolist():
            m = _UNIT_ID.match(str(u))
            if not m:
                raise InvalidDataError(f"unit id {u!r} is not of the form '<layer>/c<channel>'")
            if m.group("layer") != layer:
                raise InvalidDataError(f"unit {u!r} does not belong to layer {layer!r}")
            idx_list.append(int(m.group("ch")))
        idx = np.asarray(idx_list, dtype=np.int64)
    else:
        idx = arr.astype(np.int64).ravel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise InvalidDataError(f"units {idx[(idx < -n) | (idx >= n)][:5].tolist()} out of range for "
                               f"layer {layer!r} with {n} units")
    return torch.as_tensor(np.unique(idx % n), dtype=torch.long)


def _param(value: Any, like: torch.Tensor, axis: int, k: int) -> Any:
    """A per-unit parameter broadcast along the unit axis of ``like``."""
    import torch

    t = torch.as_tensor(np.asarray(value, dtype=np.float32) if not isinstance(value, torch.Tensor) else value,
                        dtype=like.dtype, device=like.device)
    if t.ndim == 1 and t.shape[0] == k and like.ndim > 1:
        shape = [1] * like.ndim
        shape[axis] = k
        t = t.reshape(shape)
    return t


def apply_spec(spec: Any, t: torch.Tensor, layer: str) -> torch.Tensor:
    """Return a changed copy of layer output ``t`` (batch first)."""
    import torch

    if not isinstance(spec, (Ablate, Scale, Clamp, Patch)):
        out = spec(t)
        if not isinstance(out, torch.Tensor) or out.shape != t.shape:
            raise InvalidDataError(f"intervention function on {layer!r} must return a tensor of shape "
                                   f"{tuple(t.shape)}")
        return out
    axis = channel_axis(t.ndim) % t.ndim
    n = t.shape[axis]
    idx = unit_index(spec.units, layer, n)
    sel = t if idx is None else t.index_select(axis, idx)
    k = sel.shape[axis]
    if isinstance(spec, Ablate):
        if spec.value == "zero":
            new = torch.zeros_like(sel)
        elif spec.value == "mean":
            if spec.mean is not None:
                new = torch.zeros_like(sel) + _param(spec.mean, sel, axis, k)
            else:
                dims = tuple(d for d in range(sel.ndim) if d != axis)
                new = sel.mean(dim=dims, keepdim=True).expand_as(sel).clone()
        else:
            raise InvalidDataError(f"Ablate value must be 'zero' or 'mean', got {spec.value!r}")
    elif isinstance(spec, Scale):
        new = sel * _param(spec.factor, sel, axis, k)
    elif isinstance(spec, Clamp):
        if spec.value is not None:
            new = torch.full_like(sel, float(spec.value))
        else:
            new = sel.clamp(min=spec.min, max=spec.max)
    else:
        v = spec.values(sel) if callable(spec.values) else _param(spec.values, sel, axis, k)
        try:
            new = torch.zeros_like(sel) + v
        except RuntimeError as exc:
            raise InvalidDataError(f"patch values of shape {tuple(torch.as_tensor(v).shape)} do not "
                                   f"broadcast to the selected output {tuple(sel.shape)} of {layer!r}") from exc
        if new.shape != sel.shape:
            raise InvalidDataError(f"patch values change the output shape of {layer!r}")
    if idx is None:
        return new.contiguous()
    out = t.clone()
    out.index_copy_(axis, idx, new.to(out.dtype))
    return out


def _replace_first(output: Any, new: torch.Tensor) -> Any:
    import torch

    if isinstance(output, torch.Tensor):
        return new
    if isinstance(output, tuple) and not hasattr(output, "_fields"):
        items = list(output)
        for i, o in enumerate(items):
            if isinstance(o, torch.Tensor):
                items[i] = new
                return tuple(items)
    if isinstance(output, list):
        items = list(output)
        for i, o in enumerate(items):
            if isinstance(o, torch.Tensor):
                items[i] = new
                return items
    if isinstance(output, Mapping):
        for k, o in output.items():
            if isinstance(o, torch.Tensor):
                output[k] = new  # type: ignore[index]
                return output
    raise InvalidDataError(f"cannot intervene on an output of type {type(output).__name__}")


@contextmanager
def intervene(model: Any, specs: Mapping[str, Spec]) -> Iterator[Intervention]:
    """Change units of layers during every forward pass inside the ``with`` block.

    Parameters
    ----------
    model : a :class:`~brainalign.models.ModelAdapter` (canonical layer names) or a
        :class:`torch.nn.Module` (``named_modules`` paths).
    specs : layer -> :class:`Ablate`, :class:`Scale`, :class:`Clamp`, :class:`Patch`, a dict
        ``{"op": ..., "units": ...}``, ``"zero"`` / ``"mean"``, or ``fn(output) -> output``.

    Yields
    ------
    :class:`Intervention` whose ``calls`` counts, per layer, the module calls changed.

    Hooks are removed on exit, whatever happens inside the block.
    """
    from .base import ModelAdapter, named_modules
    from .record import first_tensor

    if isinstance(model, ModelAdapter):
        resolve = model.layer_module
    else:
        mods = dict(named_modules(model))

        def resolve(name: str) -> Any:
            if name not in mods:
                raise UnknownNameError("layer", name, mods)
            return mods[name]

    parsed = {str(k): parse_spec(v) for k, v in specs.items()}
    handle = Intervention(parsed, {k: 0 for k in parsed})
    modules = {k: resolve(k) for k in parsed}  # every name checked before any hook exists
    hooks = []

    def make(layer: str, spec: Any) -> Callable[..., Any]:
        def hook(module: Any, inputs: Any, output: Any) -> Any:
            t = first_tensor(output)
            if t is None:
                raise InvalidDataError(f"layer {layer!r} returned no tensor to intervene on")
            handle.calls[layer] += 1
            return _replace_first(output, apply_spec(spec, t, layer))

        return hook

    try:
        for layer, spec in parsed.items():
            hooks.append(modules[layer].register_forward_hook(make(layer, spec), prepend=True))
        yield handle
    finally:
        for h in hooks:
            h.remove()
