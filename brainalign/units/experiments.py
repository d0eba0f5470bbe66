"""End-to-end find-then-ablate experiments on held-out data (used by ``brainalign units ablate``).

Both follow the same recipe: record the candidate layers on a *finding* half of the stimuli, find
the units with :func:`~brainalign.units.mean_difference` (Welch t, permutation p, FDR), ablate the
top ``n_units`` through :func:`brainalign.models.intervene`, and measure the per-item damage on the
*held-out* half, concept vs control items, against random units of the same number per layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.stimuli import StimulusSet
from ..errors import InvalidDataError
from .ablation import AblationResult, ablation_test, classifier_nll, lm_token_loss, unit_means
from .finders import FoundUnits, mean_difference

__all__ = ["vision_ablation", "code_prose_ablation", "halves"]


def halves(labels: Sequence[Any], fold: int = 0) -> np.ndarray:
    """Boolean mask of the finding half: every other stimulus *within each class*, so both halves
    keep the class proportions. ``fold=1`` swaps the halves."""
    labels = np.asarray([str(v) for v in labels], dtype=object)
    mask = np.zeros(len(labels), dtype=bool)
    for c in dict.fromkeys(labels.tolist()):
        idx = np.flatnonzero(labels == c)
        mask[idx[(np.arange(len(idx)) + fold) % 2 == 0]] = True
    return mask


def vision_ablation(model: Any, stimuli: StimulusSet, label: str, concept: str, control: str | None = None,
                    *, layers: str | Sequence[str] = "features.18", n_units: int = 64, n_random: int = 5,
                    value: str = "zero", fold: int = 0, n_permutations: int = 5000, seed: int = 0,
                    max_control: int | None = None, batch_size: int = 32) -> tuple[FoundUnits, AblationResult]:
    """Find ``concept``-selective units of an image model on half the images; ablate them.

    The behaviour measured on each held-out image is the negative log-probability of the class the
    unablated network predicts for it (a rise = lower confidence in its own answer).

    Parameters
    ----------
    model : an image :class:`~brainalign.models.ModelAdapter` with logits as output.
    stimuli : images with a metadata column ``label``.
    concept, control : values of ``label`` (``control=None``: every other value).
    layers : layers to search (and ablate) in.
    max_control : use at most this many held-out control images (speed).
    """
    import torch

    from ..models import record

    if label not in stimuli.metadata.columns:
        raise InvalidDataError(f"no metadata column {label!r}; columns: {list(stimuli.metadata.columns)}")
    lab = np.asarray([str(v) for v in stimuli.metadata[label]], dtype=object)
    is_c = lab == str(concept)
    is_k = ~is_c if control is None else lab == str(control)
    if is_c.sum() < 4 or is_k.sum() < 4:
        raise InvalidDataError(f"need at least 4 {concept!r} and 4 control images; have {int(is_c.sum())} "
                               f"and {int(is_k.sum())}")
    find = halves(lab, fold)
    ids = np.asarray(stimuli.ids, dtype=object)
    resp = record(model, stimuli.subset(list(ids[find])), layers, reduction="mean", progress=False,
                  batch_size=batch_size)
    found = mean_difference(resp, label, str(concept), None if control is None else str(control),
                            n_units=n_units, n_permutations=n_permutations, seed=seed)
    held_c = [i for i in np.flatnonzero(~find & is_c)]
    held_k = [i for i in np.flatnonzero(~find & is_k)][:max_control]
    imgs_c = [stimuli[i] for i in held_c]
    imgs_k = [stimuli[i] for i in held_k]
    with torch.inference_mode():
        top_c = model.predict(imgs_c).argmax(1).tolist()
        top_k = model.predict(imgs_k).argmax(1).tolist()
    cname, kname = str(concept), "control" if control is None else str(control)
    if cname == kname:
        raise InvalidDataError("concept and control must differ")

    def evaluate() -> dict[str, np.ndarray]:
        return {cname: classifier_nll(model, imgs_c, top_c, batch_size=batch_size),
                kname: classifier_nll(model, imgs_k, top_k, batch_size=batch_size)}

    res = ablation_test(model, found, evaluate, concept=cname, control=kname, n_random=n_random,
                        value=value, means=unit_means(resp) if value == "mean" else None, seed=seed,
                        metric="nll of the unablated top-1 class")
    res.settings.update({"experiment": "vision_ablation", "label": label, "fold": fold,
                         "n_find": int(find.sum()), "held_out": {cname: len(held_c), kname: len(held_k)}})
    return found, res


def code_prose_ablation(model: Any, *, n_chunks: int = 40, chunk_tokens: int = 64, fraction: float = 0.01,
                        n_units: int | None = None, layers: str = r"re:layers\.\d+\.mlp\.act_fn",
                        n_random: int = 5, value: str = "zero", fold: int = 0, n_permutations: int = 2000,
                        seed: int = 0, batch_size: int = 8) -> tuple[FoundUnits, AblationResult]:
    """Find code-selective MLP neurons of a causal LM (stdlib source vs the Alice chapter); ablate them.

    Chunks of ``chunk_tokens`` tokens; finding and held-out chunks come from different files and
    passages (:meth:`Chunks.split`). Units: ``n_units`` or ``fraction`` of the recorded neurons
    (token-mean activation per chunk). Behaviour: mean per-token loss of each held-out chunk.
    """
    from ..models import record
    from .corpora import alice_text, code_and_prose_chunks, stdlib_code

    chunks = code_and_prose_chunks(model.tokenizer, stdlib_code(), alice_text(), n_chunks=n_chunks,
                                   chunk_tokens=chunk_tokens)
    find, held = chunks.split(fold)
    resp = record(model, find.stimulus_set(f"code_prose_find{fold}"), layers, reduction="mean",
                  batch_size=batch_size, progress=False)
    k = n_units if n_units is not None else max(1, int(round(fraction * resp.sizes["unit"])))
    found = mean_difference(resp, "corpus", "code", "prose", n_units=k, n_permutations=n_permutations,
                            seed=seed)
    code_texts, prose_texts = held.texts("code"), held.texts("prose")

    def evaluate() -> dict[str, np.ndarray]:
        return {"code": lm_token_loss(model, code_texts, batch_size=batch_size),
                "prose": lm_token_loss(model, prose_texts, batch_size=batch_size)}

    res = ablation_test(model, found, evaluate, concept="code", control="prose", n_random=n_random,
                        value=value, means=unit_means(resp) if value == "mean" else None, seed=seed,
                        metric="per-token loss (nats)")
    res.settings.update({"experiment": "code_prose_ablation", "fold": fold, "chunk_tokens": chunk_tokens,
                         "n_find": len(find), "held_out": {"code": len(code_texts), "prose": len(prose_texts)},
                         "n_recorded_units": int(resp.sizes["unit"])})
    return found, res
