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
from .representation import (
    REPR_METRICS,
    angular,
    canonical_correlations,
    cca,
    cka,
    compare_representations,
    geodesic,
    geotopological,
    linear_cka_matrix,
    mutual_knn,
    procrustes,
    pwcca,
    svcca,
)
from .stats import confidence_interval, evaluate, fdr, paired_test, permutation_test
from .temporal import rsa_over_time, temporal_generalization, time_resolved_rdms

__all__ = [
    "COMPARE_METHODS", "CONVENTIONS", "NoiseCeiling", "RDM_METRICS", "REPR_METRICS", "angular",
    "canonical_correlations", "cca", "cka", "compare_rdms", "compare_representations",
    "compare_vectors", "compute_rdms", "confidence_interval", "evaluate", "fdr", "geodesic",
    "geotopological", "linear_cka_matrix", "mutual_knn", "noise_ceiling", "noise_precision",
    "paired_test", "permutation_test", "procrustes", "pwcca", "rsa_over_time", "svcca",
    "temporal_generalization", "time_resolved_rdms",
]
