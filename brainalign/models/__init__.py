"""Models as subjects: load networks offline, record their layers, intervene on their units.

>>> from brainalign.models import load_model, record
>>> net = load_model("mobilenet_v2")                                  # doctest: +SKIP
>>> resp = record(net, stimuli, ["features.3", "features.10"])        # doctest: +SKIP
>>> resp.dims, resp.unit.values[:2]                                   # doctest: +SKIP
(('stimulus', 'unit'), array(['features.3/c0', 'features.3/c1'], dtype=object))

torch and transformers are imported only when a model is loaded. See docs/models.md.
"""

from __future__ import annotations

from . import causal as _causal  # noqa: F401  (registers smollm2)
from . import craft as _craft  # noqa: F401  (registers craft_vgg16_bn)
from . import mobilenet as _mobilenet  # noqa: F401  (registers mobilenet_v2)
from . import text as _text  # noqa: F401  (registers minilm)
from .base import MODELS, Batch, ModelAdapter, load_model
from .causal import CausalLMAdapter, record_words, surprisal
from .generic import from_module
from .interventions import Ablate, Clamp, Intervention, Patch, Scale, intervene
from .mobilenet import imagenet_classes
from .record import record
from .reductions import parse_reduction
from .selection import select_layers

__all__ = ["MODELS", "Ablate", "Batch", "CausalLMAdapter", "Clamp", "Intervention", "ModelAdapter",
           "Patch", "Scale", "from_module", "record_words", "surprisal", "imagenet_classes", "intervene", "load_model", "parse_reduction", "record",
           "select_layers"]
