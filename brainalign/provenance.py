"""Provenance: what produced a result (method, parameters, versions, seed, input hashes).

Provenance records are plain JSON-serialisable dicts stored in ``attrs["provenance"]`` of a
labelled array (as a JSON string, so it survives Zarr and netCDF round trips unchanged).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import numpy as np

_VERSION_PACKAGES = ("brainalign", "numpy", "scipy", "xarray", "zarr", "scikit-learn", "torch",
                     "transformers")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape numerical results (installed ones)."""
    out = {"python": platform.python_version()}
    for name in _VERSION_PACKAGES:
        if name == "torch" and "torch" not in sys.modules:
            continue  # do not import torch just to report its version
        if name == "transformers" and "transformers" not in sys.modules:
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def hash_array(a: Any) -> str:
    """SHA-256 (first 16 hex digits) of an array's dtype, shape and bytes (C order)."""
    arr = np.ascontiguousarray(np.asarray(a))
    h = hashlib.sha256()
    h.update(str(arr.dtype).encode())
    h.update(str(arr.shape).encode())
    if arr.dtype.kind in "OUS":
        h.update("\x1f".join(map(str, arr.ravel().tolist())).encode())
    else:
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def hash_strings(items: Any) -> str:
    """SHA-256 (first 16 hex digits) of a sequence of strings, order-sensitive."""
    h = hashlib.sha256()
    for s in items:
        h.update(str(s).encode())
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def hash_file(path: Any, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Full hex digest of a file's content."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else f"array{obj.shape}:{hash_array(obj)}"
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def make_provenance(method: str, params: Mapping[str, Any] | None = None, *,
                    inputs: Mapping[str, Any] | None = None, seed: int | None = None,
                    parents: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Build a provenance record.

    Parameters
    ----------
    method : what was computed, e.g. ``"encoding.ridge_cv"``.
    params : parameters of the computation (JSON-able after conversion).
    inputs : name -> input hash (strings are kept, arrays are hashed).
    seed : random seed, if any.
    parents : provenance records of the inputs, kept as a chain.
    """
    rec: dict[str, Any] = {
        "method": method,
        "params": _jsonable(params or {}),
        "seed": seed,
        "inputs": {k: (v if isinstance(v, str) else hash_array(v)) for k, v in (inputs or {}).items()},
        "versions": versions(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if parents:
        rec["parents"] = [_jsonable(p) for p in parents]
    return rec


def dumps(rec: Mapping[str, Any]) -> str:
    return json.dumps(_jsonable(rec), sort_keys=True)


def loads(text: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    return json.loads(text)
