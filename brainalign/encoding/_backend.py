"""Array backends for the ridge engine: NumPy (default) and torch (CPU or CUDA).

A backend is a small object passed explicitly to the solvers (``backend="numpy"``,
``backend="torch"``, ``backend="torch:cuda"`` or an instance). There is no global
``set_backend``: two estimators in one process can use different backends. Only the large
products and elementwise passes go through the backend; eigendecompositions run in float64
(NumPy/LAPACK on CPU, ``torch.linalg.eigh`` on CUDA) and small per-target arrays (scores,
selected alphas) come back as NumPy arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidDataError

__all__ = ["Backend", "NumpyBackend", "TorchBackend", "get_backend"]


class Backend:
    """Interface of a backend (see :class:`NumpyBackend` for the semantics)."""

    name: str = "abstract"

    def asarray(self, a: Any, dtype: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def to_numpy(self, a: Any) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    #: BLAS threads used inside eigendecompositions (None: leave the BLAS default). LAPACK's
    #: symmetric eigensolver is dominated by memory-bound tridiagonalisation; with one thread it
    #: is as fast on an idle machine and several times faster when cores are shared.
    eigh_threads: int | None = 1

    def eigh(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Eigendecomposition of a symmetric float64 NumPy matrix (ascending eigenvalues)."""
        a = np.asarray(a, dtype=np.float64)
        if self.eigh_threads is None:
            return np.linalg.eigh(a)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.eigh_threads, user_api="blas"):
            return np.linalg.eigh(a)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NumpyBackend(Backend):
    """NumPy arrays; products through the BLAS NumPy links (OpenBLAS/MKL).

    ``eigh_threads`` limits BLAS threads during eigendecompositions only (default 1; None for
    the BLAS default).
    """

    name = "numpy"

    def __init__(self, eigh_threads: int | None = 1):
        self.eigh_threads = eigh_threads

    def asarray(self, a: Any, dtype: str) -> np.ndarray:
        return np.asarray(a, dtype=dtype)

    def to_numpy(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def zeros(self, shape: tuple[int, ...], dtype: str) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)

    def mean0(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0)

    def sum0(self, a: np.ndarray) -> np.ndarray:
        return a.sum(axis=0)

    def sqnorm0(self, a: np.ndarray) -> np.ndarray:
        """Squared norm of every column, shape (n_cols,)."""
        return np.einsum("ij,ij->j", a, a)

    def dot0(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Column-wise dot products, shape (n_cols,)."""
        return np.einsum("ij,ij->j", a, b)

    def sub_(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a -= b`` in place (b broadcast); returns ``a``."""
        np.subtract(a, b, out=a)
        return a

    def rows(self, a: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return a[idx]


class TorchBackend(Backend):
    """torch tensors on ``device`` ("cpu", "cuda", "cuda:1", ...)."""

    name = "torch"

    def __init__(self, device: str = "cpu", eigh_threads: int | None = 1):
        self.eigh_threads = eigh_threads
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - torch is in the models extra
            raise InvalidDataError(
                "backend='torch' needs PyTorch; install it (pip install 'brainalign[models]') "
                "or use backend='numpy'") from exc
        self._torch = torch
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise InvalidDataError(f"backend device {device!r} requested but CUDA is not available; "
                                   "use backend='torch' (CPU) or backend='numpy'")

    def _dt(self, dtype: str) -> Any:
        return {"float32": self._torch.float32, "float64": self._torch.float64}[str(np.dtype(dtype))]

    def asarray(self, a: Any, dtype: str) -> Any:
        t = self._torch
        if isinstance(a, t.Tensor):
            return a.to(device=self.device, dtype=self._dt(dtype))
        arr = np.asarray(a, dtype=dtype)
        if not arr.flags.writeable or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr).copy() if not arr.flags.writeable else np.ascontiguousarray(arr)
        return t.from_numpy(arr).to(self.device)

    def to_numpy(self, a: Any) -> np.ndarray:
        if isinstance(a, self._torch.Tensor):
            return a.detach().cpu().numpy()
        return np.asarray(a)

    def eigh(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.device.type == "cuda":
            w, v = self._torch.linalg.eigh(self.asarray(a, "float64"))
            return self.to_numpy(w), self.to_numpy(v)
        return super().eigh(a)

    def zeros(self, shape: tuple[int, ...], dtype: str) -> Any:
        return self._torch.zeros(shape, dtype=self._dt(dtype), device=self.device)

    def mean0(self, a: Any) -> Any:
        return a.mean(dim=0)

    def sum0(self, a: Any) -> Any:
        return a.sum(dim=0)

    def sqnorm0(self, a: Any) -> Any:
        return (a * a).sum(dim=0)

    def dot0(self, a: Any, b: Any) -> Any:
        return (a * b).sum(dim=0)

    def sub_(self, a: Any, b: Any) -> Any:
        return a.sub_(b)

    def rows(self, a: Any, idx: np.ndarray) -> Any:
        return a[self._torch.as_tensor(idx, device=a.device)]

    def __repr__(self) -> str:
        return f"TorchBackend(device={str(self.device)!r})"


def get_backend(backend: str | Backend | None = None) -> Backend:
    """Return a backend instance from a name: ``"numpy"``, ``"torch"``, ``"torch:cuda"``.

    A new instance is returned each time; nothing is stored globally.
    """
    if backend is None:
        return NumpyBackend()
    if isinstance(backend, Backend):
        return backend
    name, _, device = str(backend).partition(":")
    if name == "numpy":
        if device:
            raise InvalidDataError("the numpy backend runs on the CPU only; drop the ':device' suffix")
        return NumpyBackend()
    if name == "torch":
        return TorchBackend(device or "cpu")
    raise InvalidDataError(f"unknown backend {backend!r}; use 'numpy', 'torch', or 'torch:cuda'")
