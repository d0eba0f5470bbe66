"""Concept-unit finders from the literature, each returning ranked units with the exact settings.

=============================  ===============================================================
finder                         method and source
=============================  ===============================================================
:func:`activation_entropy`     activation probability per condition and its entropy across
                               conditions (LAPE): Tang T, Luo W, Huang H, Zhang D, Wang X,
                               Zhao WX, Wei F, Wen J-R (2024). *Language-Specific Neurons: The
                               Key to Multilingual Capabilities in Large Language Models.* ACL
                               2024, arXiv:2402.16438.
:func:`mean_difference`        mean activation difference between a concept corpus and a
                               control corpus, Welch t and a label-permutation test: the
                               functional-localizer approach of AlKhamissi B, Tuckute G,
                               Bosselut A, Schrimpf M (2025). *The LLM Language Network: A
                               Neuroscientific Approach for Identifying Causally Task-Relevant
                               Units.* NAACL 2025, arXiv:2411.02280 (after Fedorenko et al.
                               2010, J Neurophysiol 104:1177), as used for safety neurons
                               (Chen J et al. 2024, *Finding Safety Neurons in Large Language
                               Models*, arXiv:2406.14144, "activation contrasting").
:func:`grad_x_activation`      gradient x activation attribution of each unit toward a target
                               output, the first-order (attribution-patching) estimate of the
                               effect of zeroing the unit: Syed A, Rager C, Conmy A (2023).
                               *Attribution Patching Outperforms Automated Circuit Discovery.*
                               arXiv:2310.10348; cf. knowledge neurons, Dai D et al. (2022), ACL
                               2022 (integrated gradients).
=============================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import dumps, hash_array, make_provenance
from ._common import LabelsLike, encode_classes, resolve_labels, response_matrix, unit_coords
from .selectivity import selectivity

__all__ = ["FoundUnits", "activation_entropy", "mean_difference", "grad_x_activation", "CITATIONS"]

CITATIONS = {
    "activation_entropy": "Tang et al. (2024). Language-Specific Neurons: The Key to Multilingual "
                          "Capabilities in Large Language Models. ACL 2024. arXiv:2402.16438",
    "mean_difference": "AlKhamissi, Tuckute, Bosselut & Schrimpf (2025). The LLM Language Network: A "
                       "Neuroscientific Approach for Identifying Causally Task-Relevant Units. NAACL "
                       "2025. arXiv:2411.02280",
    "grad_x_activation": "Syed, Rager & Conmy (2023). Attribution Patching Outperforms Automated "
                         "Circuit Discovery. arXiv:2310.10348",
}


@dataclass
class FoundUnits:
    """Units found by a finder, ranked, with scores and settings.

    Attributes
    ----------
    table : one row per selected unit, best first: ``rank``, ``unit``, the unit coordinates
        (``layer``, ``channel`` for models), ``score`` and method-specific columns.
    scores : per-unit scores of *all* units (a Dataset over ``unit``).
    settings : method, citation and every parameter (also in ``provenance``).
    provenance : a provenance record (see :mod:`brainalign.provenance`).
    """

    table: pd.DataFrame
    scores: xr.Dataset
    settings: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def units(self) -> list[str]:
        """Selected unit ids, best first."""
        return [str(u) for u in self.table["unit"]]

    def top(self, n: int) -> list[str]:
        """The ``n`` best unit ids."""
        return self.units[:n]

    def by_layer(self, n: int | None = None) -> dict[str, list[int]]:
        """Selected units grouped as ``{layer: [channel, ...]}`` (for ablations), best first."""
        if "layer" not in self.table or "channel" not in self.table:
            raise InvalidDataError("these units have no 'layer'/'channel' coordinates (brain units?)")
        rows = self.table if n is None else self.table.iloc[:n]
        out: dict[str, list[int]] = {}
        for layer, ch in zip(rows["layer"], rows["channel"], strict=True):
            out.setdefault(str(layer), []).append(int(ch))
        return out

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return f"<FoundUnits {self.settings.get('method')}: {len(self)} units>"


def _unit_frame(responses_or_scores: xr.DataArray | xr.Dataset, idx: np.ndarray) -> pd.DataFrame:
    ucols = [str(c) for c in responses_or_scores.coords
             if c != "unit" and responses_or_scores[c].dims == ("unit",)]
    data: dict[str, Any] = {"rank": np.arange(len(idx)),
                            "unit": [str(u) for u in responses_or_scores["unit"].values[idx]]}
    for c in ucols:
        data[c] = responses_or_scores[c].values[idx]
    return pd.DataFrame(data)


# ------------------------------------------------------------------------------ LAPE
def activation_entropy(
    responses: xr.DataArray,
    conditions: LabelsLike,
    *,
    threshold: float = 0.0,
    top_rate: float = 0.01,
    filter_rate: float = 0.95,
    activation_bar_ratio: float = 0.95,
    min_per_class: int = 1,
) -> FoundUnits:
    """Condition-specific units by low entropy of activation probability (LAPE).

    Each row of ``responses`` is one observation (typically one token's activations; record with
    token-level output), labelled with its condition (e.g. language). Following Tang et al.
    (2024): ``P[u, c]`` is the fraction of observations of condition ``c`` where unit ``u``
    exceeds ``threshold``; ``LAPE[u] = -sum_c p'[u, c] log p'[u, c]`` with ``p' = P / sum_c P``.
    Units none of whose probabilities exceeds the ``filter_rate`` quantile of all ``P`` are
    dismissed; the ``top_rate`` fraction of all units with the lowest entropy is selected, and a
    selected unit is *specific* to every condition where ``P`` exceeds the
    ``activation_bar_ratio`` quantile of all ``P`` (the quantiles are order statistics,
    ``kthvalue(round(N * rate))``, as in the authors' code).

    Parameters
    ----------
    responses : (stimulus = observation, unit) activations.
    conditions : condition of each observation (coordinate name, array, or Series).
    threshold : activation threshold (0 for the post-nonlinearity "active" of the paper).

    Returns
    -------
    FoundUnits whose table has ``score`` (= entropy, lower is more specific), ``conditions``
    (comma-separated conditions the unit is specific to) and one ``P[<condition>]`` column per
    condition; ``scores`` holds ``activation_probability`` (unit, condition) and ``entropy``.
    """
    x = response_matrix(responses)
    lab, name = resolve_labels(responses, conditions)
    keep, cls, codes = encode_classes(lab, min_per_class=min_per_class, name=name)
    active = x[keep] > threshold
    counts = np.bincount(codes, minlength=len(cls)).astype(float)
    onehot = np.zeros((len(cls), len(codes)))
    onehot[codes, np.arange(len(codes))] = 1.0
    prob = (onehot @ active.astype(float)).T / counts  # (unit, C)
    total = prob.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        normed = np.where(total > 0, prob / total, 0.0)
        logp = np.where(normed > 0, np.log(np.where(normed > 0, normed, 1.0)), 0.0)
    entropy = -(normed * logp).sum(axis=1)
    flat = np.sort(prob.ravel())
    n_all = flat.size

    def kth(rate: float) -> float:  # torch.kthvalue(k) with k = round(N * rate), 1-based
        k = int(round(n_all * rate))
        return float(flat[min(max(k, 1), n_all) - 1])

    top_prob = kth(filter_rate)
    candidate = (prob > top_prob).sum(axis=1) > 0
    ent_rank = np.where(candidate, entropy, np.inf)
    n_sel = int(round(len(entropy) * top_rate))
    order = np.argsort(ent_rank, kind="stable")[:n_sel]
    order = order[np.isfinite(ent_rank[order])]
    bar = kth(activation_bar_ratio)
    specific = prob[order] > bar  # (n_sel, C)
    order = order[specific.any(axis=1)]
    specific = prob[order] > bar
    table = _unit_frame(responses, order)
    table["score"] = entropy[order]
    table["conditions"] = [",".join(c for c, s in zip(cls, row, strict=True) if s) for row in specific]
    for j, c in enumerate(cls):
        table[f"P[{c}]"] = prob[order, j]
    coords = unit_coords(responses)
    coords["condition"] = np.asarray(cls, dtype=object)
    scores = xr.Dataset({"activation_probability": (("unit", "condition"), prob),
                         "entropy": ("unit", entropy), "candidate": ("unit", candidate)}, coords=coords)
    settings = {"method": "activation_entropy", "citation": CITATIONS["activation_entropy"],
                "conditions": name, "classes": cls, "n_per_condition": counts.astype(int).tolist(),
                "threshold": threshold, "top_rate": top_rate, "filter_rate": filter_rate,
                "activation_bar_ratio": activation_bar_ratio, "filter_value": top_prob,
                "activation_bar": bar}
    prov = make_provenance("units.activation_entropy", settings,
                           inputs={"responses": hash_array(x), "conditions": hash_array(lab.astype(str))})
    scores.attrs["provenance"] = dumps(prov)
    return FoundUnits(table, scores, settings, prov)


# ------------------------------------------------------------------------------ mean difference
def mean_difference(
    responses: xr.DataArray,
    labels: LabelsLike,
    concept: str,
    control: str | None = None,
    *,
    n_units: int | None = None,
    fraction: float | None = 0.01,
    rank_by: str = "t",
    n_permutations: int = 1000,
    q_max: float | None = None,
    seed: int | None = 0,
    alternative: str = "greater",
) -> FoundUnits:
    """Units more active for a concept corpus than a control corpus.

    ``difference = mean(concept) - mean(control)`` per unit, Welch's t, and a label-permutation
    p-value (``alternative="greater"``: the unit prefers the concept), FDR-corrected across
    units (Benjamini-Hochberg). Units are ranked by ``rank_by`` (``"t"``, as in AlKhamissi et
    al. 2025, or ``"difference"``).

    Parameters
    ----------
    responses : (stimulus, unit) activations; stimuli of both corpora.
    labels : corpus of each stimulus (coordinate name, array, Series).
    concept, control : the two label values; ``control=None`` means every other stimulus.
    n_units : how many units to select; default ``round(fraction * n_units_total)`` (at least 1).
    q_max : select only units with ``q <= q_max`` (then at most ``n_units``).

    Returns
    -------
    FoundUnits; table columns ``score`` (the ranking statistic), ``difference``, ``t``,
    ``dprime``, ``p_perm``, ``q``; ``scores`` holds these for every unit.
    """
    if rank_by not in ("t", "difference"):
        raise InvalidDataError(f"rank_by must be 't' or 'difference', got {rank_by!r}")
    lab, name = resolve_labels(responses, labels)
    present = sorted({v for v in lab.tolist() if v is not None})
    if str(concept) not in present:
        raise InvalidDataError(f"concept {concept!r} is not a value of {name!r}; values: {present}")
    if control is not None and str(control) not in present:
        raise InvalidDataError(f"control {control!r} is not a value of {name!r}; values: {present}")
    two = np.asarray([None if v is None else ("concept" if v == str(concept) else
                      ("control" if control is None or v == str(control) else None)) for v in lab],
                     dtype=object)
    res = selectivity(responses, two, classes=["concept", "control"], n_permutations=n_permutations,
                      alternative=alternative, seed=seed)
    r = res.sel(label="concept")
    diff = np.asarray(r["mean_in"] - r["mean_out"], dtype=float)
    t = np.asarray(r["t"], dtype=float)
    score = t if rank_by == "t" else diff
    total = responses.sizes["unit"]
    k = n_units if n_units is not None else max(1, int(round((fraction or 0.01) * total)))
    ok = np.isfinite(score)
    if q_max is not None:
        ok &= np.asarray(r["q"].values) <= q_max
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(-score[idx], kind="stable")][:k]
    table = _unit_frame(responses, idx)
    table["score"] = score[idx]
    table["difference"] = diff[idx]
    for v in ("t", "dprime", "p_perm", "q"):
        table[v] = np.asarray(r[v].values, dtype=float)[idx]
    scores = xr.Dataset({"difference": ("unit", diff), "t": ("unit", t),
                         "dprime": ("unit", np.asarray(r["dprime"].values, dtype=float)),
                         "p_perm": ("unit", np.asarray(r["p_perm"].values, dtype=float)),
                         "q": ("unit", np.asarray(r["q"].values, dtype=float))},
                        coords=unit_coords(responses))
    settings = {"method": "mean_difference", "citation": CITATIONS["mean_difference"], "labels": name,
                "concept": str(concept), "control": "rest" if control is None else str(control),
                "n_concept": int(res["n_stimuli"].values[0]), "n_control": int(res["n_stimuli"].values[1]),
                "n_units": k, "rank_by": rank_by, "n_permutations": n_permutations, "q_max": q_max,
                "alternative": alternative, "t": "welch", "fdr": "bh", "seed": seed}
    prov = make_provenance("units.mean_difference", settings, seed=seed,
                           inputs={"responses": hash_array(response_matrix(responses))})
    scores.attrs["provenance"] = dumps(prov)
    return FoundUnits(table, scores, settings, prov)


# ------------------------------------------------------------------------------ grad x activation
def grad_x_activation(
    model: Any,
    stimuli: Sequence[Any],
    layers: Sequence[str],
    target: Callable[[Any, Any], Any],
    *,
    n_units: int = 100,
    batch_size: int = 8,
    absolute: bool = False,
) -> FoundUnits:
    """Attribution of each unit toward a target output: mean over stimuli of ``a * dT/da``.

    For unit ``u`` (a channel of a layer's output ``a``) the score is the mean over stimuli of
    ``sum_positions a_u * dT/da_u`` where ``T`` is the per-stimulus target. It is the first-order
    Taylor estimate of ``T(a with a_u = 0) - T(a)`` with the sign flipped: a positive score means
    zeroing the unit is predicted to *lower* the target.

    Parameters
    ----------
    model : a :class:`brainalign.models.ModelAdapter` (anything with ``layer_module``,
        ``prepare``, ``forward`` and ``modality``).
    stimuli : images or texts to average over.
    layers : canonical layer names; the channel axis is 1 for 4-D (N, C, H, W) outputs and the
        last axis otherwise; other axes are summed (padding tokens excluded through the batch's
        ``attention_mask``).
    target : ``target(output, batch) -> tensor (batch,)``: the quantity to attribute, e.g. the
        log-probability of a class or of the next tokens.
    n_units : size of the returned ranking.
    absolute : rank by ``|score|`` instead of ``score``.

    Returns
    -------
    FoundUnits with table columns ``layer``, ``channel``, ``score``; ``scores`` holds every unit
    (unit ids ``"<layer>:<channel>"``).
    """
    import torch

    if not layers:
        raise InvalidDataError("grad_x_activation needs at least one layer")
    if len(stimuli) == 0:
        raise InvalidDataError("grad_x_activation needs at least one stimulus")
    mods = {layer: model.layer_module(layer) for layer in layers}
    sums: dict[str, torch.Tensor] = {}
    acts: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Callable[..., None]:
        def fn(_mod: Any, _inp: Any, out: Any) -> None:
            t = out[0] if isinstance(out, tuple) else out
            t.retain_grad()
            acts[name] = t
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in mods.items()]
    n_seen = 0
    try:
        was_training = model.module.training
        model.module.eval()
        for start in range(0, len(stimuli), batch_size):
            items = list(stimuli[start:start + batch_size])
            batch = model.prepare(items)
            acts.clear()
            with torch.enable_grad():
                out = _forward_with_grad(model, batch)
                tgt = target(out, batch)
                if tgt.ndim != 1 or tgt.shape[0] != len(items):
                    raise InvalidDataError(
                        f"target must return one value per stimulus, shape ({len(items)},); got "
                        f"{tuple(tgt.shape)}")
                model.module.zero_grad(set_to_none=True)
                tgt.sum().backward()
            mask = batch.context.get("attention_mask") if hasattr(batch, "context") else None
            for name in layers:
                a = acts.get(name)
                if a is None or a.grad is None:
                    raise InvalidDataError(f"layer {name!r} produced no output (or no gradient) for "
                                           "this target; pick a layer upstream of the target")
                ga = (a * a.grad).detach()
                if ga.ndim == 4:
                    per = ga.sum(dim=(2, 3))
                elif ga.ndim == 3:
                    if mask is not None and mask.shape == ga.shape[:2]:
                        ga = ga * mask.to(ga.dtype)[..., None]
                    per = ga.sum(dim=1)
                else:
                    per = ga.reshape(ga.shape[0], -1)
                sums[name] = sums.get(name, 0) + per.sum(dim=0).double()
            n_seen += len(items)
        model.module.train(was_training)
    finally:
        for h in handles:
            h.remove()
    unit_ids, lay, ch, vals = [], [], [], []
    for name in layers:
        v = (sums[name] / n_seen).cpu().numpy()
        unit_ids += [f"{name}:{i}" for i in range(len(v))]
        lay += [name] * len(v)
        ch += list(range(len(v)))
        vals.append(v)
    score = np.concatenate(vals)
    key = np.abs(score) if absolute else score
    idx = np.argsort(-key, kind="stable")[:n_units]
    scores = xr.Dataset({"score": ("unit", score)},
                        coords={"unit": np.asarray(unit_ids, dtype=object),
                                "layer": ("unit", np.asarray(lay, dtype=object)),
                                "channel": ("unit", np.asarray(ch))})
    table = _unit_frame(scores, idx)
    table["score"] = score[idx]
    settings = {"method": "grad_x_activation", "citation": CITATIONS["grad_x_activation"],
                "model": getattr(model, "name", type(model).__name__), "layers": list(layers),
                "n_stimuli": n_seen, "n_units": n_units, "absolute": absolute,
                "target": getattr(target, "__name__", repr(target)),
                "reduction": "mean over stimuli of the sum over positions of a * dT/da"}
    prov = make_provenance("units.grad_x_activation", settings,
                           inputs={"weights": str(getattr(model, "weights_digest", ""))})
    scores.attrs["provenance"] = dumps(prov)
    return FoundUnits(table, scores, settings, prov)


def _forward_with_grad(model: Any, batch: Any) -> Any:
    """Forward pass with autograd on (adapters may wrap ``forward`` in inference mode)."""
    inputs = batch.inputs
    if isinstance(inputs, dict):
        return model.module(**inputs)
    return model.module(inputs)

