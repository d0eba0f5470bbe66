"""Similarity suite: RDMs, RDM comparisons, noise ceilings, statistics and representation metrics.

>>> from brainalign.similarity import compute_rdms, compare_rdms, noise_ceiling
>>> model = compute_rdms(recording, "correlation", by="layer")      # doctest: +SKIP
>>> scores = compare_rdms(model, brain_rdms, "spearman")              # doctest: +SKIP
>>> lower, upper = noise_ceiling(subject_rdms, "spearman", convention="mean_r")  # doctest: +SKIP

Conventions are documented per function and in ``docs/similarity.md``.
"""

from .ceiling import CONVENTIONS, NoiseCeiling, noise_ceiling
from .compare import COMPARE_METHODS, compare_rdms, compare_vectors
from .rdm import RDM_METRICS, compute_rdms, noise_precision

__all__ = [
    "COMPARE_METHODS", "CONVENTIONS", "NoiseCeiling", "RDM_METRICS", "compare_rdms", "compare_vectors",
    "compute_rdms", "noise_ceiling", "noise_precision",
]
