"""Shared helpers of the similarity suite: input checks, ranks, products on CPU or a torch device."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..responses import check_same_stimuli

#: default memory budget (bytes) for blocks of a streamed computation
DEFAULT_MEMORY_BUDGET = 1 << 30


def as_rdm_stack(rdms: Any, name: str = "rdms") -> xr.DataArray:
    """Return ``rdms`` as a checked stack with dims ("rdm", "stimulus", "stimulus2").

    Accepts a stack from :func:`brainalign.responses.make_rdms` or a single RDM with dims
    ("stimulus", "stimulus2"). Raises :class:`InvalidDataError` for anything else, for
    non-square or asymmetric matrices, NaN off the diagonal, or a non-zero diagonal.
    """
    if not isinstance(rdms, xr.DataArray):
        raise InvalidDataError(
            f"{name} must be an RDM DataArray with dims ('rdm', 'stimulus', 'stimulus2'), got "
            f"{type(rdms).__name__}; build one with brainalign.make_rdms(matrices, stimulus_ids) "
            "or brainalign.similarity.compute_rdms(responses).")
    if rdms.dims == ("stimulus", "stimulus2"):
        rdms = rdms.expand_dims(rdm=[str(rdms.name or name)])
    if rdms.dims != ("rdm", "stimulus", "stimulus2"):
        raise InvalidDataError(
            f"{name} has dims {rdms.dims}; expected ('rdm', 'stimulus', 'stimulus2') "
            "(see brainalign.make_rdms).")
    n1, n2 = rdms.sizes["stimulus"], rdms.sizes["stimulus2"]
    if n1 != n2:
        raise InvalidDataError(f"{name} are not square: {n1} x {n2} stimuli")
    if n1 < 3:
        raise InvalidDataError(f"{name} have {n1} stimuli; comparing RDMs needs at least 3")
    ids1 = [str(s) for s in rdms["stimulus"].values]
    ids2 = [str(s) for s in rdms["stimulus2"].values]
    if ids1 != ids2:
        raise InvalidDataError(
            f"{name}: rows and columns are labelled with different stimulus ids; an RDM must be "
            "square over one stimulus set")
    m = np.asarray(rdms.values, dtype=float)
    off = ~np.eye(n1, dtype=bool)
    bad = np.isnan(m[:, off]).any(axis=1)
    if bad.any():
        names = [str(x) for x in rdms["rdm"].values[bad]]
        raise InvalidDataError(
            f"{name} {names[:8]} contain NaN off the diagonal; drop the stimuli with missing "
            "dissimilarities (rdms.sel(stimulus=..., stimulus2=...)) before comparing")
    if not np.allclose(m, m.transpose(0, 2, 1), rtol=1e-6, atol=1e-8 * max(1.0, float(np.nanmax(np.abs(m))))):
        asym = np.abs(m - m.transpose(0, 2, 1)).reshape(len(m), -1).max(axis=1)
        names = [str(x) for x, a in zip(rdms["rdm"].values, asym, strict=True) if a > 1e-8]
        raise InvalidDataError(
            f"{name} {names[:8]} are not symmetric (max |D - D.T| = {asym.max():.3g}); "
            "symmetrise them with (D + D.T) / 2 if that is what you mean")
    return rdms


def condensed_vectors(rdms: xr.DataArray) -> np.ndarray:
    """Upper triangles of a checked stack, shape (n_rdm, n_stim*(n_stim-1)/2), float64."""
    n = rdms.sizes["stimulus"]
    iu = np.triu_indices(n, k=1)
    return np.asarray(rdms.values, dtype=np.float64)[:, iu[0], iu[1]]


def reorder_like(ref_ids: Sequence[str], rdms: xr.DataArray, names: tuple[str, str]) -> xr.DataArray:
    """Reorder ``rdms`` onto ``ref_ids`` (same set in any order), else raise naming the ids."""
    ids = [str(s) for s in rdms["stimulus"].values]
    check_same_stimuli(ref_ids, ids, names=names, order=False)
    if list(ids) != list(ref_ids):
        sel = np.asarray(ref_ids, dtype=object)
        rdms = rdms.sel(stimulus=sel, stimulus2=sel)
    return rdms


def rank_rows(v: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties get their mean rank) along the last axis.

    Same values as :func:`scipy.stats.rankdata` (``method="average"``; a row with NaN becomes all
    NaN), from one unstable (SIMD) argsort per row instead of scipy's stable sort.

    Parameters
    ----------
    v : array, shape (..., m)

    Returns
    -------
    array, shape of ``v``, float64
    """
    v = np.asarray(v, dtype=np.float64)
    flat = v.reshape(-1, v.shape[-1]) if v.ndim != 2 else v
    out = ranks_from_order(flat, np.argsort(flat, axis=-1))
    return out.reshape(v.shape)


def tie_groups(sorted_row: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Tie groups of a sorted 1-D array: (start, end) per group (end exclusive), or None if
    all values are distinct."""
    m = len(sorted_row)
    if m == 0:
        return None
    new = np.empty(m, dtype=bool)
    new[0] = True
    np.not_equal(sorted_row[1:], sorted_row[:-1], out=new[1:])
    if new.all():
        return None
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], m)
    return starts, ends


def ranks_from_order(v: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Average ranks of the rows of ``v`` (R, m) given their argsort ``order`` (R, m)."""
    r, m = v.shape
    out = np.empty((r, m))
    pos = np.arange(1.0, m + 1.0)
    for i in range(r):
        vs = v[i, order[i]]
        if m and np.isnan(vs[-1]):  # argsort puts NaN last; rankdata propagates it
            out[i] = np.nan
            continue
        groups = tie_groups(vs)
        if groups is None:
            out[i, order[i]] = pos
        else:
            starts, ends = groups
            out[i, order[i]] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return out


def torch_device(device: Any) -> Any:
    """Resolve a torch device, importing torch only when asked for one."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is an extra
        raise InvalidDataError(
            "device= needs torch; install it (pip install 'brainalign[models]') or use device=None "
            "for numpy") from exc
    return torch.device(device)


def matmul_t(a: np.ndarray, b: np.ndarray | None = None, *, device: Any = None,
             dtype: Any = np.float64) -> np.ndarray:
    """``a @ b.T`` (``b = a`` if None) in numpy, or on a torch ``device`` if given.

    Parameters
    ----------
    a : array, shape (n, p)
    b : array, shape (m, p) or None
    device : None for numpy, else a torch device ("cpu", "cuda", "mps", ...).
    dtype : floating dtype of the product (float64 by default).

    Returns
    -------
    array, shape (n, m), numpy float64.
    """
    if device is None:
        a_ = np.asarray(a, dtype=dtype)
        out = a_ @ (a_ if b is None else np.asarray(b, dtype=dtype)).T
        return np.asarray(out, dtype=np.float64)
    import torch

    dev = torch_device(device)
    tdt = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]
    ta = torch.as_tensor(np.ascontiguousarray(a), device=dev).to(tdt)
    tb = ta if b is None else torch.as_tensor(np.ascontiguousarray(b), device=dev).to(tdt)
    return (ta @ tb.T).to(torch.float64).cpu().numpy()


def as_named_list(objs: Any, what: str) -> list[tuple[str, Any]]:
    """A DataArray, list or dict of them -> list of (name, obj) with unique names."""
    if isinstance(objs, Mapping):
        items = [(str(k), v) for k, v in objs.items()]
    elif isinstance(objs, xr.DataArray):
        items = [(str(objs.attrs.get("name") or objs.name or what), objs)]
    elif isinstance(objs, Sequence) and not isinstance(objs, str):
        items = []
        for i, v in enumerate(objs):
            nm = None
            if isinstance(v, xr.DataArray):
                nm = v.attrs.get("name") or (v.name if v.name not in (None, "responses") else None)
            items.append((str(nm) if nm else f"{what}{i}", v))
    else:
        raise InvalidDataError(
            f"expected a {what} DataArray, or a list or dict of them; got {type(objs).__name__}")
    if not items:
        raise InvalidDataError(f"no {what}s given")
    seen: dict[str, int] = {}
    out = []
    for nm, v in items:
        if nm in seen:
            seen[nm] += 1
            nm = f"{nm}_{seen[nm]}"
        else:
            seen[nm] = 0
        out.append((nm, v))
    return out


def input_hash(da: Any) -> str:
    """Short id of an input for provenance: hash of its provenance record if it has one, else
    of its values (and ids)."""
    from ..provenance import hash_strings

    if isinstance(da, xr.DataArray):
        rec = da.attrs.get("provenance")
        ids = [str(s) for s in da[da.dims[0]].values] if da.dims[0] in da.coords else []
        if rec:
            return hash_strings([rec, *ids])
        return hash_strings([fingerprint(np.asarray(da.values)), *ids])
    return fingerprint(np.asarray(da))


def fingerprint(a: np.ndarray, max_elements: int = 1 << 18) -> str:
    """Cheap content id of a large array for provenance: shape, dtype, the SHA-256 of an evenly
    strided sample of at most ``max_elements`` values and the float sum of all values. Arrays up
    to ``max_elements`` are hashed in full (:func:`brainalign.provenance.hash_array`)."""
    from ..provenance import hash_array, hash_strings

    if a.size <= max_elements or a.dtype.kind not in "fiub":
        return hash_array(a)
    flat = a.reshape(-1)
    step = int(np.ceil(a.size / max_elements))
    return hash_strings([str(a.shape), str(a.dtype), hash_array(flat[::step]), repr(float(flat.sum()))])
