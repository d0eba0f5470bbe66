"""Encoding models: predict every unit of a brain (voxel, electrode, neuron) from features.

Public API
----------
- :class:`RidgeCV`: ridge with one penalty per target chosen by (K-fold, grouped, blocked or
  efficient leave-one-out) cross-validation; scikit-learn compatible.
- :func:`cross_validate`: outer K-fold over stimuli, out-of-fold predictions, Pearson r per
  target; returns an :class:`EncodingResult`.
- :func:`pearson_r`, :func:`r2_score`: vectorised per-target scores.

See ``docs/encoding.md`` for conventions.
"""

from ._backend import Backend, NumpyBackend, TorchBackend, get_backend
from ._cv import EncodingResult, cross_validate, group_kfold_splits, kfold_splits, target_validity
from ._metrics import pearson_r, r2_score
from ._ridge import DEFAULT_ALPHAS, RidgeCV

__all__ = [
    "Backend", "NumpyBackend", "TorchBackend", "get_backend",
    "EncodingResult", "cross_validate", "group_kfold_splits", "kfold_splits", "target_validity",
    "pearson_r", "r2_score",
    "DEFAULT_ALPHAS", "RidgeCV",
]
