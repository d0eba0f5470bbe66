"""Shared input handling for the units analyses: response matrices, labels, FDR, top stimuli."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidDataError, StimulusMismatchError
from ..responses import validate

LabelsLike = str | Sequence[Any] | np.ndarray | pd.Series | Mapping[str, Any]


def response_matrix(responses: xr.DataArray, *, name: str = "responses") -> np.ndarray:
    """The (n_stimuli, n_units) float64 matrix of a 2-D responses array.

    Raises
    ------
    InvalidDataError
        If ``responses`` has a ``time`` or ``repeat`` dimension (reduce it first), contains NaN
        or infinite values, or has fewer than two stimuli.
    """
    validate(responses)
    extra = [d for d in responses.dims if d not in ("stimulus", "unit")]
    if extra:
        raise InvalidDataError(
            f"{name} has the extra dimension(s) {extra}; units analyses need (stimulus, unit). "
            f"Reduce them first, e.g. responses.mean({extra[0]!r}) (or .sel({extra[0]}=...) for one "
            "time bin).")
    x = np.asarray(responses.values, dtype=np.float64)
    if not np.isfinite(x).all():
        bad_u = np.flatnonzero(~np.isfinite(x).all(axis=0))
        ids = [str(u) for u in responses["unit"].values[bad_u[:5]]]
        raise InvalidDataError(
            f"{name} contain NaN or infinite values in {len(bad_u)} unit(s) (e.g. {ids}); drop those "
            "units (responses.sel(unit=...)) or impute the values first.")
    if x.shape[0] < 2:
        raise InvalidDataError(f"{name} hold {x.shape[0]} stimulus; at least two are needed")
    return x


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and v == ""


def resolve_labels(responses: xr.DataArray, labels: LabelsLike, *, stimuli_metadata: pd.DataFrame | None = None
                   ) -> tuple[np.ndarray, str]:
    """One label per stimulus, as strings, with missing labels as ``None``.

    Parameters
    ----------
    responses : responses array (its ``stimulus`` ids define the order).
    labels : the name of a stimulus coordinate of ``responses`` (or of a column of
        ``stimuli_metadata``); or one label per stimulus (array, list) in the responses' order; or a
        :class:`pandas.Series` / mapping from stimulus id to label (aligned by id).
    stimuli_metadata : optional metadata table indexed by stimulus id (e.g.
        ``StimulusSet.metadata``), searched when ``labels`` is a name.

    Returns
    -------
    labels : object array, shape (n_stimuli,): ``str`` labels, ``None`` where missing.
    name : a name for the labelling (the coordinate name, or ``"labels"``).
    """
    ids = [str(s) for s in responses["stimulus"].values]
    name = "labels"
    if isinstance(labels, str):
        name = labels
        if labels in responses.coords and responses[labels].dims == ("stimulus",):
            values: Sequence[Any] = responses[labels].values.tolist()
        elif stimuli_metadata is not None and labels in stimuli_metadata.columns:
            labels = stimuli_metadata[labels]
            values = _align_mapping(ids, {str(k): v for k, v in labels.items()})
        else:
            have = [str(c) for c in responses.coords if responses[c].dims == ("stimulus",) and c != "stimulus"]
            if stimuli_metadata is not None:
                have += [str(c) for c in stimuli_metadata.columns]
            raise InvalidDataError(
                f"no stimulus coordinate or metadata column named {labels!r}; available: {sorted(set(have))}. "
                "Pass the labels as an array with one entry per stimulus instead.")
    elif isinstance(labels, pd.Series):
        values = _align_mapping(ids, {str(k): v for k, v in labels.items()})
        name = str(labels.name) if labels.name is not None else name
    elif isinstance(labels, Mapping):
        values = _align_mapping(ids, {str(k): v for k, v in labels.items()})
    else:
        values = list(np.asarray(labels, dtype=object).ravel())
        if len(values) != len(ids):
            raise InvalidDataError(
                f"{len(values)} labels for {len(ids)} stimuli; pass one label per stimulus, in the "
                "responses' stimulus order, or a pandas Series indexed by stimulus id.")
    out = np.asarray([None if _is_missing(v) else str(v) for v in values], dtype=object)
    return out, name


def _align_mapping(ids: list[str], m: Mapping[str, Any]) -> list[Any]:
    missing = [i for i in ids if i not in m]
    if len(missing) == len(ids):
        raise StimulusMismatchError(
            f"none of the responses' stimulus ids (e.g. {ids[:3]}) are in the labels' index (e.g. "
            f"{list(m)[:3]}); index the labels by the same stimulus ids.")
    return [m.get(i) for i in ids]


def encode_classes(labels: np.ndarray, *, min_per_class: int, name: str = "labels",
                   classes: Sequence[str] | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Integer codes for the present (non-missing) labels, after checking class sizes.

    Returns
    -------
    keep : bool array, shape (n_stimuli,): stimuli with a label.
    classes : sorted class names (or ``classes`` in the given order).
    codes : int array, shape (n_kept,): class index of each kept stimulus.

    Raises
    ------
    InvalidDataError
        With fewer than two classes, or a class with fewer than ``min_per_class`` stimuli.
    """
    keep = np.asarray([v is not None for v in labels], dtype=bool)
    present = labels[keep]
    found = sorted(set(present.tolist()))
    if classes is None:
        classes = found
    else:
        classes = [str(c) for c in classes]
        unknown = [c for c in classes if c not in found]
        if unknown:
            raise InvalidDataError(f"classes {unknown} do not occur in {name!r}; present: {found}")
        keep &= np.asarray([v in classes for v in labels], dtype=bool)
        present = labels[keep]
    if len(classes) < 2:
        only = repr(classes[0]) if classes else "none"
        raise InvalidDataError(
            f"{name!r} has a single class ({only}) among {int(keep.sum())} labelled stimuli; selectivity "
            "compares at least two classes. Use labels that vary across stimuli (e.g. a binary "
            "'is X' column, or quantile_labels() of a continuous property).")
    counts = {c: int(np.sum(present == c)) for c in classes}
    small = {c: n for c, n in counts.items() if n < min_per_class}
    if small:
        raise InvalidDataError(
            f"too few stimuli per class in {name!r}: {small} (need at least {min_per_class} each for a "
            "variance). Merge or drop the small classes (set their labels to None), or lower "
            "min_per_class.")
    index = {c: i for i, c in enumerate(classes)}
    codes = np.asarray([index[v] for v in present], dtype=np.int64)
    return keep, list(classes), codes


def fdr(p: np.ndarray, *, method: str = "bh", axis: int = 0) -> np.ndarray:
    """False discovery rate adjusted p-values (q-values) along ``axis``; NaN entries are ignored.

    ``method="bh"``: Benjamini & Hochberg (1995); ``"by"``: Benjamini & Yekutieli (2001). Same
    convention as :func:`scipy.stats.false_discovery_control` (checked in the tests), but NaN-aware
    and vectorised over the other axes.

    Parameters
    ----------
    p : array of p-values in [0, 1], any shape.
    """
    from ..stats import fdr_qvalues

    return fdr_qvalues(p, method=method, axis=axis)


def top_stimuli(responses: xr.DataArray, k: int = 5, *, largest: bool = True) -> xr.DataArray:
    """The ``k`` stimuli with the highest (or lowest) response of every unit.

    Parameters
    ----------
    responses : responses array (stimulus x unit).
    k : number of stimuli per unit (capped at the number of stimuli).
    largest : highest responses first; ``False`` for the lowest.

    Returns
    -------
    DataArray, dims ``("unit", "rank")``, shape (n_units, k): the responses, with the 2-D
    coordinate ``stimulus_id`` (unit, rank) naming the stimulus at each rank. Ties keep the
    stimulus order.
    """
    x = response_matrix(responses)
    k = int(min(max(k, 1), x.shape[0]))
    key = -x if largest else x
    order = np.argsort(key, axis=0, kind="stable")[:k].T  # (unit, k)
    vals = np.take_along_axis(x.T, order, axis=1)
    sid = np.asarray([str(s) for s in responses["stimulus"].values], dtype=object)
    coords: dict[str, Any] = {"unit": responses["unit"].values, "rank": np.arange(k),
                              "stimulus_id": (("unit", "rank"), sid[order])}
    for c in responses.coords:
        if c != "unit" and responses[c].dims == ("unit",):
            coords[str(c)] = ("unit", responses[c].values)
    return xr.DataArray(vals, dims=("unit", "rank"), coords=coords, name="top_responses",
                        attrs={"largest": int(largest)})


def unit_coords(responses: xr.DataArray) -> dict[str, Any]:
    """The unit index and every other coordinate along ``unit``, for building results."""
    out: dict[str, Any] = {"unit": responses["unit"].values}
    for c in responses.coords:
        if c != "unit" and responses[c].dims == ("unit",):
            out[str(c)] = ("unit", responses[c].values)
    return out
