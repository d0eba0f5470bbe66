"""Shared measuring helpers for the side-by-side benchmark scripts in this folder.

Each script runs brainalign and the anchor library on the same inputs in one process and prints
the time ratio, the peak memory and whether the results agree.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """Run ``fn()`` once; return (its result, wall seconds, peak bytes allocated by Python/NumPy).

    Peak memory is traced with :mod:`tracemalloc`, which sees NumPy buffers but not memory that
    torch or BLAS allocate on their own; scripts that need the process peak print RSS as well.
    """
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        dt = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return out, dt, peak
