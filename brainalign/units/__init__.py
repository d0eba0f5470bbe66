"""Units: what single units encode, in models and in brains, and what silencing them does.

The same functions take model responses (from :func:`brainalign.models.record`) and brain
responses (from :func:`brainalign.data.load_dataset`): any responses array with dims
(stimulus, unit). See ``docs/units.md``.
"""

from ._common import fdr, top_stimuli
from .ablation import (
    AblationResult,
    ablation_test,
    classifier_nll,
    lm_token_loss,
    random_units,
    unit_means,
)
from .decompose import Decomposition, nmf, semi_nmf, topk_sae
from .describe import Descriptions, TextEmbedder, describe_units
from .experiments import code_prose_ablation, halves, vision_ablation
from .finders import CITATIONS, FoundUnits, activation_entropy, grad_x_activation, mean_difference
from .properties import PROPERTIES, image_properties, quantile_labels
from .report import Report, units_report
from .selectivity import class_statistics, selective_units, selectivity

__all__ = [
    "PROPERTIES", "Report", "code_prose_ablation", "halves", "units_report", "vision_ablation",
    "AblationResult", "ablation_test", "classifier_nll", "lm_token_loss", "random_units", "unit_means",
    "CITATIONS", "Decomposition", "Descriptions", "TextEmbedder", "describe_units", "FoundUnits", "activation_entropy", "class_statistics", "fdr",
    "grad_x_activation", "image_properties", "mean_difference", "nmf", "quantile_labels",
    "selective_units", "selectivity", "semi_nmf", "top_stimuli", "topk_sae",
]
