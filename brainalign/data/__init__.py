"""Stimulus sets, brain datasets and the on-disk store.

Datasets are registered with :func:`register_dataset`, each a loader that reads the local
mirror (see :mod:`brainalign.data.mirror`) and returns a :class:`BrainData`.

>>> from brainalign.data import load_dataset
>>> v4 = load_dataset("cowley2023", session="201025")   # doctest: +SKIP
>>> v4.responses["201025"].dims                         # doctest: +SKIP
('stimulus', 'unit')
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from ..errors import UnknownNameError
from ..registry import Registry
from .mirror import FileSpec, data_root, verify
from .stimuli import StimulusSet

__all__ = ["BrainData", "DatasetInfo", "FileSpec", "StimulusSet", "DATASETS", "register_dataset",
           "load_dataset", "dataset_info", "data_root", "verify"]


@dataclass(frozen=True)
class DatasetInfo:
    """Description of a registered dataset (shown by ``brainalign datasets show``)."""

    name: str
    title: str
    modality: str
    citation: str
    licence: str
    source: str
    description: str
    files: tuple[FileSpec, ...] = ()
    options: dict[str, str] = field(default_factory=dict)  # loader keyword -> meaning


@dataclass
class BrainData:
    """What a dataset loader returns.

    Attributes
    ----------
    name : dataset name.
    stimuli : the stimulus set (images or texts), or ``None`` (e.g. C. elegans traces).
    responses : name -> responses array (``stimulus x unit [x time] [x repeat]``).
    rdms : name -> RDM stack (``rdm x stimulus x stimulus2``), see
        :func:`brainalign.responses.make_rdms`.
    extra : anything else (timings, regressors, features), documented per dataset.
    info : the dataset's :class:`DatasetInfo`.
    """

    name: str
    info: DatasetInfo
    stimuli: StimulusSet | None = None
    responses: dict[str, xr.DataArray] = field(default_factory=dict)
    rdms: dict[str, xr.DataArray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stimuli": None if self.stimuli is None else {"kind": self.stimuli.kind, "n": len(self.stimuli)},
            "responses": {k: dict(v.sizes) for k, v in self.responses.items()},
            "rdms": {k: dict(v.sizes) for k, v in self.rdms.items()},
            "extra": sorted(self.extra),
        }


Loader = Callable[..., BrainData]
DATASETS: Registry[Loader] = Registry("dataset")


def register_dataset(info: DatasetInfo) -> Callable[[Loader], Loader]:
    """Decorator registering a loader ``f(root=None, **options) -> BrainData`` under ``info.name``."""
    return DATASETS.register(info.name, info=info)


def dataset_info(name: str) -> DatasetInfo:
    return DATASETS.meta(name)["info"]


def load_dataset(name: str, root: str | os.PathLike | None = None, **options: Any) -> BrainData:
    """Load a registered dataset from the mirror (verifying checksums).

    An option the loader does not take raises :class:`~brainalign.errors.UnknownNameError`
    listing the valid options (see ``brainalign datasets show NAME``).
    """
    _import_builtin()
    loader = DATASETS.get(name)
    params = inspect.signature(loader).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        valid = [k for k in params if k != "root"]
        for key in options:
            if key not in valid:
                raise UnknownNameError(f"{name} option", key, valid)
    return loader(root=root, **options)


def _import_builtin() -> None:
    from . import datasets  # noqa: F401  (registers the built-in datasets)


_import_builtin()
