"""Encoding models: predict every unit of a brain (voxel, electrode, neuron) from features.

Public API
----------
- :class:`RidgeCV`: ridge with one penalty per target chosen by (K-fold, grouped, blocked or
  efficient leave-one-out) cross-validation; scikit-learn compatible.
- :func:`cross_validate`: outer K-fold over stimuli, out-of-fold predictions, Pearson r per
  target; returns an :class:`EncodingResult`.
- :class:`KernelRidgeCV`, :class:`BandedRidgeCV` (one penalty per feature space and target).
- :func:`pearson_r`, :func:`r2_score`: vectorised per-target scores; noise ceilings
  (:func:`split_half_reliability`, :func:`ncsnr`) and :func:`noise_corrected_r`.
- Time series: :func:`fir_delays`, :func:`hrf_convolve`, :class:`BlockedKFold` (gap).
- Statistics: :func:`permutation_test` (block permutation), :func:`bootstrap_ci`,
  :func:`variance_partitioning`.
- Scale-out: :func:`fit_dask` fits target chunks on Dask (local or a scheduler address).
- Backends: ``backend="numpy"`` (default) or ``"torch"`` / ``"torch:cuda"``, per estimator.

See ``docs/encoding.md`` for conventions.
"""

from ._backend import Backend, NumpyBackend, TorchBackend, get_backend
from ._ceiling import (
    explained_fraction,
    ncsnr,
    ncsnr_ceiling,
    noise_corrected_r,
    split_half_reliability,
)
from ._cv import EncodingResult, cross_validate, group_kfold_splits, kfold_splits, target_validity
from ._dask import fit_dask
from ._kernel import BandedRidgeCV, KernelRidgeCV
from ._metrics import pearson_r, r2_score
from ._ridge import DEFAULT_ALPHAS, RidgeCV
from ._stats import (
    PermutationResult,
    bootstrap_ci,
    partition_from_r2,
    permutation_test,
    variance_partitioning,
)
from ._timeseries import BlockedKFold, block_permutation, fir_delays, hrf_convolve, spm_hrf

__all__ = [
    "Backend", "NumpyBackend", "TorchBackend", "get_backend",
    "EncodingResult", "cross_validate", "group_kfold_splits", "kfold_splits", "target_validity",
    "pearson_r", "r2_score",
    "DEFAULT_ALPHAS", "RidgeCV", "fit_dask", "KernelRidgeCV", "BandedRidgeCV",
    "explained_fraction", "ncsnr", "ncsnr_ceiling", "noise_corrected_r", "split_half_reliability",
    "PermutationResult", "bootstrap_ci", "partition_from_r2", "permutation_test",
    "variance_partitioning",
    "BlockedKFold", "block_permutation", "fir_delays", "hrf_convolve", "spm_hrf",
]
