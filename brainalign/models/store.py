"""Streaming a recording into a chunked Zarr store that resumes after a kill, and the cache.

Layout: a store written by :func:`brainalign.responses.save`-compatible code (read it back with
:func:`brainalign.load`), whose attribute ``brainalign_record`` holds the progress (JSON)::

    {"key": <content hash>, "chunk": C, "batch_size": B, "n_stimuli": N,
     "done": [chunk indices written], "complete": bool, "failed": [ids]}

Stimuli are processed in chunks of ``C`` rows (a multiple of the batch size, sized from the
memory budget). A chunk is written to Zarr first and only then listed in ``done`` (Zarr replaces the
metadata file atomically), so a kill at any point loses at most the chunk in flight. On
resume the same batches are recomputed with the same batch size, which makes the resumed store
identical to an uninterrupted run.

The *key* hashes everything that determines the content: model name, weights digest,
preprocessing, stimulus set key (name, content and ids), layers, reductions, dtype and the
format version (and the batch size when a streamed PCA is fitted, whose result depends on it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import dumps
from ..responses import load
from .record import (
    LayerHooks,
    RecordPlan,
    _progress,
    _stimulus_coords,
    fit_pca,
    iter_batches,
    provenance_for,
    unit_table,
)

PROGRESS_ATTR = "brainalign_record"


def parse_bytes(x: int | str) -> int:
    """``512MB`` / ``2GB`` / ``1e9`` / int -> bytes."""
    if isinstance(x, (int, np.integer)):
        return int(x)
    s = str(x).strip().upper().replace(" ", "")
    for suf, mult in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if s.endswith(suf):
            return int(float(s[: -len(suf)]) * mult)
    return int(float(s))


def cache_dir(cache: bool | str | os.PathLike) -> Path:
    """Folder of cached recordings: ``cache`` itself, or ``$BRAINALIGN_CACHE`` (default
    ``~/.cache/brainalign``) + ``/records`` for ``cache=True``."""
    if cache is True:
        root = Path(os.environ.get("BRAINALIGN_CACHE", "~/.cache/brainalign")).expanduser()
        return root / "records"
    return Path(cache)  # type: ignore[arg-type]


def plan_key(plan: RecordPlan, batch_size: int) -> str:
    fields = plan.key_fields()
    if any(r.projection and r.projection[0] == "pca" for r in plan.reducers.values()):
        fields["pca_batch_size"] = batch_size
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def read_progress(path: Path) -> dict[str, Any] | None:
    """The progress record of a store (``None`` if it is not a brainalign recording)."""
    import zarr

    try:
        g = zarr.open_group(store=str(path), mode="r")
        text = g.attrs.get(PROGRESS_ATTR)
    except Exception:  # noqa: BLE001 - anything unreadable is "not a recording"
        return None
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return None


def _write_progress(path: Path, prog: dict[str, Any]) -> None:
    # zarr's local stores replace metadata files atomically (temporary file + rename)
    _set_attrs(path, **{PROGRESS_ATTR: json.dumps(prog)})


def _create_store(path: Path, plan: RecordPlan, unit_ids: list[str], coords: dict[str, np.ndarray],
                  chunk: int, prov: dict[str, Any]) -> None:
    import dask.array as dsa

    n, u = len(plan.stimuli), len(unit_ids)
    data = dsa.zeros((n, u), chunks=(chunk, u), dtype=np.float32)
    c: dict[str, Any] = {"stimulus": np.asarray(plan.stimuli.ids, dtype=object),
                         "unit": np.asarray(unit_ids, dtype=object)}
    for k, v in coords.items():
        c[k] = ("unit", v.astype(object) if v.dtype.kind in "OU" else v)
    for k, v in _stimulus_coords(plan.stimuli).items():
        c[k] = ("stimulus", v.astype(object) if v.dtype.kind in "OU" else v)
    attrs = {"provenance": dumps(prov), "source": f"model:{plan.adapter.name}"}
    da = xr.DataArray(data, dims=("stimulus", "unit"), coords=c, name="responses", attrs=attrs)
    ds = da.to_dataset(name="responses")
    ds.attrs = dict(attrs)
    ds.attrs["brainalign_format"] = "responses/1"
    ds.attrs[PROGRESS_ATTR] = ""
    ds.to_zarr(path, mode="w", compute=False, consolidated=False)


def _open_data(path: Path) -> Any:
    import zarr

    return zarr.open_array(store=str(path), path="responses", mode="r+")


def _set_attrs(path: Path, **attrs: Any) -> None:
    import zarr

    g = zarr.open_group(store=str(path), mode="r+")
    g.attrs.update(attrs)


def record_to_store(plan: RecordPlan, *, out: str | os.PathLike | None, cache: bool | str | os.PathLike | None,
                    batch_size: int, progress: bool, memory_budget: int | str, on_error: str,
                    overwrite: bool) -> xr.DataArray:
    """Stream ``plan`` into a Zarr store (new, resumed or cached); return it lazily."""
    key = plan_key(plan, batch_size)
    if out is not None:
        path = Path(out)
    else:
        path = cache_dir(cache) / f"{plan.adapter.name}-{key}.zarr"  # type: ignore[arg-type]
    prog = read_progress(path) if path.exists() else None
    if path.exists():
        if prog is not None and prog.get("key") == key:
            if prog.get("complete"):
                return load(path, lazy=True)
            batch_size = int(prog["batch_size"])  # same batches as the interrupted run
        elif overwrite or (prog is None and not any(path.iterdir())):
            shutil.rmtree(path)
            prog = None
        else:
            what = "a different recording" if prog is not None else "something that is not a brainalign recording"
            raise InvalidDataError(f"{path} holds {what}; pass overwrite=True (--overwrite) to replace it, "
                                   "or choose another output path")
    if any(r.needs_fit() for r in plan.reducers.values()):
        fit_pca(plan, batch_size, progress, on_error)

    n = len(plan.stimuli)
    budget = parse_bytes(memory_budget)
    failed: list[str] = list(prog.get("failed", [])) if prog else []
    arr = None
    slices: dict[str, slice] = {}
    if prog is not None:
        chunk = int(prog["chunk"])
        done = set(prog["done"])
        arr = _open_data(path)
        layer_coord = load(path, lazy=True)["layer"].values
        for la in plan.layers:
            idx = np.flatnonzero(layer_coord == la)
            slices[la] = slice(int(idx[0]), int(idx[-1]) + 1)
        n_units = arr.shape[1]
    else:
        chunk = 0
        done = set()
        n_units = 0
    n_chunks = -(-n // chunk) if chunk else 0
    todo = [c for c in range(n_chunks) if c not in done] if prog is not None else None
    ranges = _ranges(todo, chunk, n) if todo is not None else [(0, n)]
    buf: np.ndarray | None = None
    total = n - (len(done) * chunk if prog is not None else 0)
    with LayerHooks(plan.adapter, plan.layers, plan.reducers) as hooks, \
            _progress(max(total, 0), progress, f"record {plan.adapter.name}") as bar:
        for lo_r, hi_r in ranges:
            for lo, batch, bad in iter_batches(plan, lo_r, hi_r, batch_size, on_error, failed):
                outs = hooks.run(batch)
                if arr is None:  # first batch of a new store: now the units are known
                    unit_ids, coords, slices = unit_table(plan, hooks.shapes)
                    n_units = len(unit_ids)
                    per_row = max(n_units * 4, 1)
                    chunk = max(batch_size, (budget // per_row) // batch_size * batch_size)
                    chunk = min(chunk, -(-n // batch_size) * batch_size)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _create_store(path, plan, unit_ids, coords, chunk,
                                  provenance_for(plan, batch_size, on_error, []))
                    prog = {"key": key, "chunk": chunk, "batch_size": batch_size, "n_stimuli": n,
                            "done": [], "complete": False, "failed": []}
                    _write_progress(path, prog)
                    arr = _open_data(path)
                if buf is None:
                    buf = np.empty((chunk, n_units), dtype=np.float32)
                c0 = (lo // chunk) * chunk
                off = lo - c0
                for la, z in outs.items():
                    buf[off:off + batch.size, slices[la]] = z.numpy()
                if bad:
                    buf[[off + b for b in bad]] = np.nan
                end = lo + batch.size
                if end == min(c0 + chunk, n):  # chunk complete: write it, then mark it done
                    arr[c0:end] = buf[: end - c0]
                    assert prog is not None
                    prog["done"] = sorted(set(prog["done"]) | {c0 // chunk})
                    prog["failed"] = failed
                    _write_progress(path, prog)
                bar.update(batch.size)
    assert prog is not None
    _set_attrs(path, provenance=dumps(provenance_for(plan, batch_size, on_error, failed)))
    prog["complete"] = True
    _write_progress(path, prog)
    return load(path, lazy=True)


def _ranges(chunks: list[int], chunk: int, n: int) -> list[tuple[int, int]]:
    """Merge consecutive chunk indices into stimulus ranges."""
    out: list[tuple[int, int]] = []
    for c in chunks:
        lo, hi = c * chunk, min((c + 1) * chunk, n)
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
