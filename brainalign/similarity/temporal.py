"""Time-resolved RSA: an RDM per time point, model RDMs against time, time x time generalisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..responses import validate
from .compare import compare_rdms
from .rdm import compute_rdms


def time_resolved_rdms(responses: xr.DataArray, metric: str = "correlation", **options: Any) -> xr.DataArray:
    """One RDM per time point of a (stimulus x unit x time [x repeat]) responses array.

    Returns
    -------
    RDM stack (rdm, stimulus, stimulus2) with one RDM per time point, named ``"t<i>"`` and
    carrying the ``time`` coordinate values on the ``rdm`` dimension. Options as in
    :func:`compute_rdms` (e.g. ``device=``); each time point is a separate Gram product.
    """
    validate(responses)
    if "time" not in responses.dims:
        raise InvalidDataError("responses have no 'time' dimension; use compute_rdms")
    times = responses["time"].values if "time" in responses.coords else np.arange(responses.sizes["time"])
    slices = {f"t{i}": responses.isel(time=i, drop=True) for i in range(responses.sizes["time"])}
    rdms = compute_rdms(slices, metric, **options)
    return rdms.assign_coords(time=("rdm", np.asarray(times)))


def _times(rdms: xr.DataArray) -> np.ndarray:
    return np.asarray(rdms["time"].values) if "time" in rdms.coords else np.asarray(rdms["rdm"].values)


def rsa_over_time(model_rdms: xr.DataArray, time_rdms: xr.DataArray, method: str = "spearman") -> xr.DataArray:
    """Similarity of each model RDM with the brain RDM at every time point: dims (model, time)."""
    out = compare_rdms(model_rdms, time_rdms, method)
    return xr.DataArray(out.values, dims=("model", "time"),
                        coords={"model": out["rdm_a"].values, "time": _times(time_rdms)},
                        name="rsa_over_time", attrs=out.attrs)


def temporal_generalization(time_rdms: xr.DataArray, method: str = "spearman",
                            other: xr.DataArray | None = None) -> xr.DataArray:
    """Time x time matrix of RDM similarities (within one recording, or between two): dims
    (time_a, time_b)."""
    b = time_rdms if other is None else other
    out = compare_rdms(time_rdms, b, method)
    return xr.DataArray(out.values, dims=("time_a", "time_b"),
                        coords={"time_a": _times(time_rdms), "time_b": _times(b)},
                        name="temporal_generalization", attrs=out.attrs)
