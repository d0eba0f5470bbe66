"""Scale-out: fit a ridge estimator over chunks of targets with Dask.

Every target's alpha is chosen and fitted independently of the others, so splitting the targets
into chunks gives the same result as one process (bit-identical with ``dtype="float64"``; with
float32 products equal to float32 rounding, since BLAS may block differently).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from ..errors import InvalidDataError

__all__ = ["fit_dask"]

_ATTRS_T = ("best_alphas_", "cv_scores_", "intercept_")  # (t,)


def _fit_chunk(estimator: Any, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    m = clone(estimator).fit(X, Y)
    out = {k: np.asarray(getattr(m, k)) for k in _ATTRS_T}
    out["coef_"] = np.asarray(m.coef_)
    out["cv_path_"] = np.asarray(m.cv_path_)
    out["form_"] = np.asarray(m.form_)
    out["rank_"] = np.asarray(m.rank_)
    out["alphas_"] = m.alphas_
    out["n_splits_"] = np.asarray(m.n_splits_)
    return out


def fit_dask(estimator: Any, X: Any, Y: Any, *, chunk_size: int = 2000,
             scheduler: str | None = None) -> Any:
    """Fit ``estimator`` (a :class:`~brainalign.encoding.RidgeCV`) on chunks of the targets.

    Parameters
    ----------
    estimator : an unfitted RidgeCV (its parameters are used for every chunk).
    X : (n_samples, n_features); Y : (n_samples, n_targets) NumPy or dask array.
    chunk_size : targets per task.
    scheduler : None -> Dask's local threaded scheduler; ``"processes"``/``"threads"``/
        ``"synchronous"``; or a ``distributed`` scheduler address (``"tcp://host:8786"``), to
        which a client is connected for this call only.

    Returns
    -------
    A fitted clone of ``estimator`` whose attributes are the chunks' attributes concatenated.
    """
    import dask

    X = np.asarray(X)
    n_t = Y.shape[1] if getattr(Y, "ndim", 1) == 2 else None
    if n_t is None:
        raise InvalidDataError("fit_dask needs 2-D Y (n_samples, n_targets)")
    if chunk_size < 1:
        raise InvalidDataError(f"chunk_size={chunk_size} must be >= 1")
    Xd = dask.delayed(X, pure=True)
    tasks = []
    for start in range(0, n_t, chunk_size):
        blk = Y[:, start:start + chunk_size]
        tasks.append(dask.delayed(_fit_chunk, pure=True)(estimator, Xd, blk))
    if scheduler is not None and "://" in str(scheduler):
        from distributed import Client

        with Client(scheduler) as client:
            parts = list(client.gather(client.compute(tasks)))
    else:
        parts = list(dask.compute(*tasks, scheduler=scheduler or "threads"))
    model = clone(estimator)
    for k in _ATTRS_T:
        setattr(model, k, np.concatenate([p[k] for p in parts]))
    model.coef_ = np.concatenate([p["coef_"] for p in parts], axis=0)
    model.cv_path_ = np.concatenate([p["cv_path_"] for p in parts], axis=1)
    model.form_ = str(parts[0]["form_"])
    model.rank_ = int(parts[0]["rank_"])
    model.alphas_ = parts[0]["alphas_"]
    model.n_features_in_ = X.shape[1]
    model.n_splits_ = int(parts[0]["n_splits_"])
    return model
