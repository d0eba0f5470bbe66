"""The labelled array that flows through brainalign: responses of units to stimuli.

A *responses* array is an :class:`xarray.DataArray` with dimensions

- ``stimulus`` (required): its index coordinate holds unique stimulus ids (strings); other
  coordinates on this dimension hold stimulus metadata (category, onset time, ...);
- ``unit`` (required): its index coordinate holds unique unit ids (strings); other coordinates
  hold unit metadata: for a model ``layer``, ``channel``, ``position``; for a brain ``subject``,
  ``region``, ``voxel`` / ``neuron``;
- ``time`` and ``repeat`` (optional), in any order after ``stimulus`` and ``unit``.

Its ``attrs`` carry ``provenance`` (a JSON string, see :mod:`brainalign.provenance`) and
free-form ``source``/``name`` strings. Use :func:`make_responses` to build one,
:func:`align` to put two on the same stimuli, and :func:`save` / :func:`load` for chunked Zarr
stores.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import provenance as prov
from .errors import InvalidDataError, StimulusMismatchError

REQUIRED_DIMS = ("stimulus", "unit")
OPTIONAL_DIMS = ("time", "repeat")


def make_responses(
    data: Any,
    stimulus_ids: Sequence[Any],
    unit_ids: Sequence[Any] | None = None,
    *,
    dims: Sequence[str] = REQUIRED_DIMS,
    stimulus_coords: Mapping[str, Sequence[Any]] | None = None,
    unit_coords: Mapping[str, Sequence[Any]] | None = None,
    coords: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    name: str | None = None,
    source: str | None = None,
) -> xr.DataArray:
    """Build a validated responses array.

    Parameters
    ----------
    data : array, shape (n_stimuli, n_units[, n_time][, n_repeat]) in the order of ``dims``.
    stimulus_ids : n_stimuli unique ids (converted to str).
    unit_ids : n_units unique ids; default ``"u0", "u1", ...``.
    dims : dimension names; must start with ``("stimulus", "unit")``.
    stimulus_coords, unit_coords : extra coordinates along each dimension.
    coords : coordinates of the optional dimensions, e.g. ``{"time": seconds}``.
    provenance : a record from :func:`brainalign.provenance.make_provenance`.
    """
    dims = tuple(dims)
    if dims[:2] != REQUIRED_DIMS or any(d not in OPTIONAL_DIMS for d in dims[2:]):
        raise InvalidDataError(
            f"dims must be ('stimulus', 'unit') followed by any of {OPTIONAL_DIMS}; got {dims}")
    arr = data if hasattr(data, "chunks") and not isinstance(data, np.ndarray) else np.asarray(data)
    if arr.ndim != len(dims):
        raise InvalidDataError(
            f"data has {arr.ndim} dimensions {tuple(arr.shape)} but dims {dims} name {len(dims)}; "
            "pass dims= matching the data, e.g. dims=('stimulus', 'unit', 'repeat').")
    n_stim, n_unit = arr.shape[0], arr.shape[1]
    if unit_ids is None:
        unit_ids = [f"u{i}" for i in range(n_unit)]
    sid = np.asarray([str(s) for s in stimulus_ids])
    uid = np.asarray([str(u) for u in unit_ids])
    if len(sid) != n_stim:
        raise InvalidDataError(f"{len(sid)} stimulus ids for {n_stim} rows of data")
    if len(uid) != n_unit:
        raise InvalidDataError(f"{len(uid)} unit ids for {n_unit} columns of data")
    c: dict[str, Any] = {"stimulus": sid, "unit": uid}
    for k, v in (stimulus_coords or {}).items():
        v = np.asarray(v)
        if len(v) != n_stim:
            raise InvalidDataError(f"stimulus coordinate {k!r} has {len(v)} values for {n_stim} stimuli")
        c[k] = ("stimulus", v)
    for k, v in (unit_coords or {}).items():
        v = np.asarray(v)
        if len(v) != n_unit:
            raise InvalidDataError(f"unit coordinate {k!r} has {len(v)} values for {n_unit} units")
        c[k] = ("unit", v)
    c.update(coords or {})
    attrs: dict[str, Any] = {}
    if provenance is not None:
        attrs["provenance"] = prov.dumps(provenance)
    if source is not None:
        attrs["source"] = source
    da = xr.DataArray(arr, dims=dims, coords=c, name=name or "responses", attrs=attrs)
    validate(da)
    return da


def _duplicates(ids: Sequence[str]) -> list[str]:
    return [k for k, n in Counter(ids).items() if n > 1]


def _preview(ids: Sequence[Any], n: int = 8) -> str:
    ids = list(ids)
    s = ", ".join(repr(str(i)) for i in ids[:n])
    return s + (f", ... ({len(ids)} in all)" if len(ids) > n else "")


def validate(da: xr.DataArray, *, allow_nan: bool = True) -> xr.DataArray:
    """Check that ``da`` is a responses array; raise :class:`InvalidDataError` if not."""
    if not isinstance(da, xr.DataArray):
        raise InvalidDataError(f"expected an xarray.DataArray of responses, got {type(da).__name__}")
    if tuple(da.dims[:2]) != REQUIRED_DIMS:
        raise InvalidDataError(f"responses must have dims ('stimulus', 'unit', ...); got {da.dims}")
    for dim in ("stimulus", "unit"):
        if dim not in da.coords:
            raise InvalidDataError(f"responses lack ids on the {dim!r} dimension")
        dup = _duplicates(da[dim].values.tolist())
        if dup:
            raise StimulusMismatchError(f"duplicated {dim} ids: {_preview(dup)}") if dim == "stimulus" \
                else InvalidDataError(f"duplicated unit ids: {_preview(dup)}")
    if not allow_nan and np.isnan(np.asarray(da.values, dtype=float)).any():
        raise InvalidDataError("responses contain NaN; drop or impute them first")
    return da


def stimulus_ids(da: xr.DataArray) -> list[str]:
    return [str(s) for s in da["stimulus"].values]


def check_same_stimuli(ids_a: Sequence[Any], ids_b: Sequence[Any], *, names: tuple[str, str] = ("a", "b"),
                       order: bool = True) -> None:
    """Raise :class:`StimulusMismatchError` naming the ids unless both lists match.

    With ``order=True`` the same ids in another order are also an error.
    """
    a = [str(i) for i in ids_a]
    b = [str(i) for i in ids_b]
    for nm, ids in zip(names, (a, b), strict=True):
        dup = _duplicates(ids)
        if dup:
            raise StimulusMismatchError(f"{nm} has duplicated stimulus ids: {_preview(dup)}")
    sa, sb = set(a), set(b)
    if sa != sb:
        only_a = [i for i in a if i not in sb]
        only_b = [i for i in b if i not in sa]
        parts = []
        if only_a:
            parts.append(f"in {names[0]} but not {names[1]}: {_preview(only_a)}")
        if only_b:
            parts.append(f"in {names[1]} but not {names[0]}: {_preview(only_b)}")
        raise StimulusMismatchError(
            "stimulus ids differ; " + "; ".join(parts)
            + ". Select the common stimuli first (e.g. da.sel(stimulus=ids)).")
    if order and a != b:
        first = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
        raise StimulusMismatchError(
            f"same stimulus ids in a different order (first difference at position {first}: "
            f"{a[first]!r} vs {b[first]!r}); use align(..., reorder=True) to reorder.")


def align(a: xr.DataArray, b: xr.DataArray, *, reorder: bool = True) -> tuple[xr.DataArray, xr.DataArray]:
    """Put ``b`` on the stimuli of ``a``.

    Both must hold exactly the same stimulus ids, without duplicates. With ``reorder=True``
    (default) ``b`` is reordered to ``a``'s order; with ``reorder=False`` a different order is an
    error. Missing or duplicated ids raise :class:`StimulusMismatchError` naming them.
    """
    validate(a)
    validate(b)
    check_same_stimuli(stimulus_ids(a), stimulus_ids(b), names=("first", "second"), order=not reorder)
    if stimulus_ids(a) != stimulus_ids(b):
        b = b.sel(stimulus=a["stimulus"].values)
    return a, b


def get_provenance(da: xr.DataArray) -> dict[str, Any]:
    return prov.loads(da.attrs.get("provenance"))


def _to_storable(obj: Any, string_dtype: Any = object) -> Any:
    """String coordinates -> object dtype (Zarr: variable-length UTF-8) or ``str`` (netCDF).

    Works on a DataArray or a Dataset; returns a shallow copy.
    """
    obj = obj.copy(deep=False)
    for k in list(obj.coords):
        v = obj[k].values
        if v.dtype.kind in "OUT" and (v.dtype.kind != "O" or string_dtype is not object):
            obj = obj.assign_coords({k: (obj[k].dims, v.astype(string_dtype))})
    return obj


def save_result(obj: xr.DataArray | xr.Dataset, path: str | os.PathLike) -> Path:
    """Write an analysis result (DataArray or Dataset) to ``path``: netCDF if it ends in ``.nc``,
    else a Zarr store (replaced if it exists). String coordinates are stored losslessly."""
    path = Path(path)
    if path.suffix == ".nc":
        _to_storable(obj, str).to_netcdf(path)
        return path
    obj = _to_storable(obj)
    ds = obj if isinstance(obj, xr.Dataset) else obj.to_dataset(name=obj.name or "result")
    ds.to_zarr(path, mode="w", consolidated=False)
    return path


def save(da: xr.DataArray, path: str | os.PathLike, *, chunks: Mapping[str, int] | None = None,
         mode: str = "w") -> Path:
    """Write ``da`` to a chunked Zarr store at ``path`` (a directory).

    ``chunks`` defaults to ~64 MB blocks: all units of 1024 stimuli or fewer. Coordinates,
    attributes and provenance are kept exactly.
    """
    validate(da)
    path = Path(path)
    da = _to_storable(da)
    if chunks is None:
        itemsize = np.dtype(da.dtype).itemsize
        per_stim = int(np.prod([da.sizes[d] for d in da.dims[1:]])) * itemsize
        n = int(max(1, min(da.sizes["stimulus"], (64 << 20) // max(per_stim, 1))))
        chunks = {"stimulus": n}
    import dask.array as dsa

    data = da.data if isinstance(da.data, dsa.Array) else dsa.from_array(np.asarray(da.data))
    data = data.rechunk(tuple(chunks.get(d, -1) for d in da.dims))
    da = da.copy(data=data)  # only the data are chunked; coordinates stay in memory
    ds = da.to_dataset(name="responses")
    ds.attrs = dict(da.attrs)
    ds.attrs["brainalign_format"] = "responses/1"
    if da.name is not None:
        ds.attrs["brainalign_name"] = str(da.name)  # the variable is always called "responses"
    for v in ds.variables.values():
        v.encoding.pop("chunks", None)
    ds.to_zarr(path, mode=mode, consolidated=False)
    return path


def load(path: str | os.PathLike, *, lazy: bool = False) -> xr.DataArray:
    """Read a responses array written by :func:`save`.

    With ``lazy=True`` the data stay in the store as a dask array.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no Zarr store at {path}")
    try:
        ds = xr.open_zarr(path, consolidated=False)
    except Exception as exc:  # noqa: BLE001 - re-raised with context
        raise InvalidDataError(f"{path} is not a readable Zarr store ({exc}); re-create it") from exc
    if "responses" not in ds:
        raise InvalidDataError(f"{path} holds no 'responses' array; was it written by brainalign.save?")
    da = ds["responses"]
    da.attrs = {k: v for k, v in ds.attrs.items() if k not in ("brainalign_format", "brainalign_name")}
    da.name = ds.attrs.get("brainalign_name", "responses")
    if not lazy:
        da = da.load()
    for k in list(da.coords):
        if da[k].dtype.kind in "UT":
            da = da.assign_coords({k: (da[k].dims, da[k].values.astype(object))})
    return da


# ---------------------------------------------------------------------------------- RDMs
def make_rdms(
    matrices: Any,
    stimulus_ids: Sequence[Any],
    names: Sequence[str] | None = None,
    *,
    rdm_coords: Mapping[str, Sequence[Any]] | None = None,
    stimulus_coords: Mapping[str, Sequence[Any]] | None = None,
    dissimilarity: str = "unknown",
    provenance: Mapping[str, Any] | None = None,
    check: bool = True,
) -> xr.DataArray:
    """Build a labelled stack of representational dissimilarity matrices.

    Parameters
    ----------
    matrices : array, shape (n_rdm, n_stim, n_stim) square, or (n_rdm, n_stim*(n_stim-1)/2)
        condensed in :func:`scipy.spatial.distance.pdist` order, or a single RDM of either form.
        (With 3 stimuli a (3, 3) array is read as one square RDM if its diagonal is zero or
        NaN, else as three condensed RDMs.)
    stimulus_ids : n_stim unique ids.
    names : n_rdm names (default ``"rdm0", ...``).
    rdm_coords : metadata per RDM (e.g. subject, session, region).
    dissimilarity : the measure, stored in ``attrs`` (e.g. ``"1 - pearson r"``).
    check : verify symmetry and a zero (or NaN) diagonal.

    Returns
    -------
    DataArray with dims ``("rdm", "stimulus", "stimulus2")``.
    """
    from scipy.spatial.distance import squareform

    m = np.asarray(matrices, dtype=float)
    n = len(stimulus_ids)
    if m.ndim == 2 and m.shape == (n, n) and n * (n - 1) // 2 == n:
        # n = 3: three condensed RDMs or one square RDM? Square only if its diagonal is empty.
        diag = np.diag(m)
        if np.all(np.isnan(diag) | (diag == 0)):
            m = m[None]
    elif m.ndim == 1 or (m.ndim == 2 and m.shape == (n, n)):
        m = m[None]
    if m.ndim == 2:  # stack of condensed vectors
        if m.shape[1] != n * (n - 1) // 2:
            raise InvalidDataError(
                f"condensed RDMs of length {m.shape[1]} do not fit {n} stimuli (expected {n * (n - 1) // 2})")
        m = np.stack([squareform(v, checks=False) for v in m])
    if m.ndim != 3 or m.shape[1:] != (n, n):
        raise InvalidDataError(f"RDMs must be square (n_rdm, {n}, {n}); got shape {np.shape(matrices)}")
    if check:
        off = ~np.eye(n, dtype=bool)
        if np.isnan(m[:, off]).any():
            bad = [str(i) for i in np.flatnonzero(np.isnan(m[:, off]).any(axis=1))]
            raise InvalidDataError(f"RDMs {bad[:8]} contain NaN off the diagonal")
        sym = np.isclose(m, m.transpose(0, 2, 1), rtol=1e-6, atol=1e-8, equal_nan=True).all(axis=(1, 2))
        if not sym.all():  # NaN on the diagonal is allowed (see below)
            bad = [str(i) for i in np.flatnonzero(~sym)]
            raise InvalidDataError(f"RDMs {bad[:8]} are not symmetric; pass (M + M.T) / 2 or check=False")
        diag = m[:, np.arange(n), np.arange(n)]
        if not np.all(np.isnan(diag) | (np.abs(diag) < 1e-8)):
            raise InvalidDataError("RDMs must have a zero diagonal")
    names = [str(x) for x in names] if names is not None else [f"rdm{i}" for i in range(len(m))]
    if len(names) != len(m):
        raise InvalidDataError(f"{len(names)} names for {len(m)} RDMs")
    sid = np.asarray([str(s) for s in stimulus_ids], dtype=object)
    c: dict[str, Any] = {"rdm": np.asarray(names, dtype=object), "stimulus": sid, "stimulus2": sid.copy()}
    for k, v in (rdm_coords or {}).items():
        v = np.asarray(v)
        if len(v) != len(m):
            raise InvalidDataError(f"rdm coordinate {k!r} has {len(v)} values for {len(m)} RDMs")
        c[k] = ("rdm", v)
    for k, v in (stimulus_coords or {}).items():
        c[k] = ("stimulus", np.asarray(v))
    attrs = {"dissimilarity": dissimilarity}
    if provenance is not None:
        attrs["provenance"] = prov.dumps(provenance)
    da = xr.DataArray(m, dims=("rdm", "stimulus", "stimulus2"), coords=c, name="rdms", attrs=attrs)
    dup = _duplicates(sid.tolist())
    if dup:
        raise StimulusMismatchError(f"duplicated stimulus ids in RDMs: {_preview(dup)}")
    return da


def condensed(rdms: xr.DataArray) -> np.ndarray:
    """Upper triangles (pdist order) of an RDM stack: shape (n_rdm, n_stim*(n_stim-1)/2)."""
    n = rdms.sizes["stimulus"]
    iu = np.triu_indices(n, k=1)
    return np.asarray(rdms.values)[:, iu[0], iu[1]]
