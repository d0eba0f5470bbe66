"""Causal tests: silence found units, measure behaviour, compare with random units of the same number.

:func:`ablation_test` runs an evaluation (per-item losses on a *concept* set and a *control*
set) three ways: unablated (baseline), with the found units ablated, and with ``n_random`` sets of
randomly drawn units ablated (same number per layer as the found units, never one of them; one
seed each). The effect on an item is ``metric(ablated) - metric(baseline)``; with a loss (per-token
negative log-likelihood, negative log-probability of a class) a positive effect is damage.

Reported with bootstrap confidence intervals (items resampled within each set; for random units,
seeds resampled too, a two-level bootstrap):

- ``summary``: mean effect per condition (found / random) and set;
- ``contrasts``: the *selectivity of the effect* ``effect(concept) - effect(control)`` for found
  and for random units, the excess of found over random units per set, and the difference of
  selectivities ``[found(concept) - found(control)] - [random(concept) - random(control)]``; each
  with a one-sided bootstrap p-value (fraction of bootstrap replicates <= 0).

Ablation goes through :func:`brainalign.models.intervene` (zero or mean ablation per channel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import make_provenance
from .finders import FoundUnits

__all__ = ["AblationResult", "ablation_test", "random_units", "unit_means", "classifier_nll", "lm_token_loss"]

Evaluate = Callable[[], Mapping[str, np.ndarray]]


@dataclass
class AblationResult:
    """Outcome of :func:`ablation_test`.

    Attributes
    ----------
    effects : one row per (condition, seed, set, item): ``baseline``, ``ablated``, ``effect``.
    summary : one row per (condition, set): ``effect`` (mean), ``ci_low``, ``ci_high``,
        ``n_items``, ``n_seeds``.
    contrasts : one row per contrast: ``estimate``, ``ci_low``, ``ci_high``, ``p_boot``.
    settings, provenance : parameters (units ablated, seeds, value, bootstrap) and the record.
    """

    effects: pd.DataFrame
    summary: pd.DataFrame
    contrasts: pd.DataFrame
    settings: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)

    def contrast(self, name: str) -> dict[str, float]:
        row = self.contrasts.loc[self.contrasts["contrast"] == name]
        if row.empty:
            raise InvalidDataError(f"no contrast {name!r}; have {list(self.contrasts['contrast'])}")
        return {k: float(row[k].iloc[0]) for k in ("estimate", "ci_low", "ci_high", "p_boot")}


def _normalise_units(units: FoundUnits | Mapping[str, Sequence[int]], n: int | None) -> dict[str, list[int]]:
    if isinstance(units, FoundUnits):
        out = units.by_layer(n)
    else:
        out = {str(k): [int(c) for c in v] for k, v in units.items()}
        if n is not None:
            flat = [(k, c) for k, v in out.items() for c in v][:n]
            out = {}
            for k, c in flat:
                out.setdefault(k, []).append(c)
    out = {k: sorted(set(v)) for k, v in out.items() if v}
    if not out:
        raise InvalidDataError("no units to ablate")
    return out


def _layer_sizes(units: Any, layer_sizes: Mapping[str, int] | None) -> dict[str, int]:
    if layer_sizes is not None:
        return {str(k): int(v) for k, v in layer_sizes.items()}
    if isinstance(units, FoundUnits) and "layer" in units.scores.coords:
        lay = np.asarray(units.scores["layer"].values).astype(str)
        ch = np.asarray(units.scores["channel"].values).astype(int)
        return {la: int(ch[lay == la].max()) + 1 for la in np.unique(lay)}
    raise InvalidDataError("pass layer_sizes={layer: n_channels} to draw random units")


def random_units(found: Mapping[str, Sequence[int]], layer_sizes: Mapping[str, int], seed: int
                 ) -> dict[str, list[int]]:
    """As many random channels per layer as in ``found``, none of them in ``found``."""
    rng = np.random.default_rng(seed)
    out = {}
    for layer, chans in found.items():
        n = int(layer_sizes[layer])
        pool = np.setdiff1d(np.arange(n), np.asarray(chans, dtype=int))
        if len(pool) < len(chans):
            raise InvalidDataError(f"layer {layer!r} has {n} units: cannot draw {len(chans)} random units "
                                   f"outside the {len(chans)} found ones")
        out[layer] = sorted(rng.choice(pool, len(chans), replace=False).tolist())
    return out


def unit_means(responses: xr.DataArray) -> dict[str, np.ndarray]:
    """Per-layer channel means over stimuli, ``{layer: array (n_channels,)}``, for mean ablation.

    ``responses`` must be a recording with ``reduction="mean"`` (one unit per channel) and
    ``layer``/``channel`` unit coordinates.
    """
    if "layer" not in responses.coords or "channel" not in responses.coords:
        raise InvalidDataError("unit_means needs a model recording with 'layer' and 'channel' unit coordinates")
    m = np.asarray(responses.mean("stimulus").values, dtype=np.float64)
    lay = np.asarray(responses["layer"].values).astype(str)
    ch = np.asarray(responses["channel"].values).astype(int)
    out = {}
    for la in np.unique(lay):
        sel = lay == la
        v = np.zeros(int(ch[sel].max()) + 1)
        v[ch[sel]] = m[sel]
        out[la] = v
    return out


def _specs(units: Mapping[str, Sequence[int]], value: str, means: Mapping[str, np.ndarray] | None) -> dict:
    from ..models import Ablate

    specs = {}
    for layer, chans in units.items():
        if value == "mean":
            if means is None or layer not in means:
                raise InvalidDataError(f"mean ablation needs means for layer {layer!r}: pass "
                                       "means=unit_means(recording)")
            specs[layer] = Ablate(list(chans), "mean", np.asarray(means[layer])[list(chans)])
        else:
            specs[layer] = Ablate(list(chans), "zero")
    return specs


def _run(evaluate: Evaluate, sets: Sequence[str]) -> dict[str, np.ndarray]:
    out = evaluate()
    missing = [s for s in sets if s not in out]
    if missing:
        raise InvalidDataError(f"evaluate() returned the sets {sorted(out)}, not {missing}")
    return {s: np.asarray(out[s], dtype=np.float64).ravel() for s in sets}


def _ci(samples: np.ndarray, level: float) -> tuple[float, float]:
    a = (1 - level) / 2
    lo, hi = np.quantile(samples, [a, 1 - a])
    return float(lo), float(hi)


def ablation_test(
    model: Any,
    units: FoundUnits | Mapping[str, Sequence[int]],
    evaluate: Evaluate,
    *,
    concept: str,
    control: str,
    n_units: int | None = None,
    n_random: int = 5,
    value: str = "zero",
    means: Mapping[str, np.ndarray] | None = None,
    layer_sizes: Mapping[str, int] | None = None,
    seed: int = 0,
    n_bootstrap: int = 2000,
    level: float = 0.95,
    metric: str = "loss",
) -> AblationResult:
    """Ablate found units and random units; compare the effects on a concept and a control set.

    Parameters
    ----------
    model : a :class:`~brainalign.models.ModelAdapter` (or module) to intervene on.
    units : found units (the first ``n_units`` of a :class:`FoundUnits`), or ``{layer: [channel]}``.
    evaluate : ``evaluate() -> {set name: per-item metric array}``, run on ``model`` (e.g. a closure
        over :func:`lm_token_loss` or :func:`classifier_nll`). It must return the same items every
        call, and include ``concept`` and ``control``.
    concept, control : the two set names compared.
    n_random : random unit sets (seeds ``seed, seed+1, ...``).
    value : ``"zero"`` or ``"mean"`` (then ``means={layer: per-channel means}``, see
        :func:`unit_means`).
    layer_sizes : ``{layer: n_channels}`` to draw random units from; taken from a
        :class:`FoundUnits`' scores when it has every unit.
    n_bootstrap, level : bootstrap replicates and confidence level.
    metric : name of the per-item metric, for the tables (``"loss"``).

    Returns
    -------
    AblationResult.
    """
    from ..models import intervene

    if value not in ("zero", "mean"):
        raise InvalidDataError(f"value must be 'zero' or 'mean', got {value!r}")
    if n_random < 2:
        raise InvalidDataError(f"n_random must be at least 2 for a confidence interval, got {n_random}")
    sets = [concept, control]
    found = _normalise_units(units, n_units)
    sizes = _layer_sizes(units, layer_sizes)
    unknown = [la for la in found if la not in sizes]
    if unknown:
        raise InvalidDataError(f"no size for layers {unknown}; pass layer_sizes")
    base = _run(evaluate, sets)
    for s in sets:
        if len(base[s]) < 2:
            raise InvalidDataError(f"set {s!r} has {len(base[s])} item(s); need at least 2 for intervals")
    rows: list[dict[str, Any]] = []
    eff_found: dict[str, np.ndarray] = {}
    with intervene(model, _specs(found, value, means)) as h:
        res = _run(evaluate, sets)
    if not all(h.calls.values()):
        raise InvalidDataError(f"the evaluation never ran through layers {[k for k, v in h.calls.items() if not v]}")
    for s in sets:
        eff_found[s] = res[s] - base[s]
        rows += [{"condition": "found", "seed": -1, "set": s, "item": i, "baseline": b, "ablated": a,
                  "effect": a - b} for i, (b, a) in enumerate(zip(base[s], res[s], strict=True))]
    eff_rand: dict[str, list[np.ndarray]] = {s: [] for s in sets}
    drawn = []
    for k in range(n_random):
        ru = random_units(found, sizes, seed + k)
        drawn.append(ru)
        with intervene(model, _specs(ru, value, means)):
            res = _run(evaluate, sets)
        for s in sets:
            eff_rand[s].append(res[s] - base[s])
            rows += [{"condition": "random", "seed": seed + k, "set": s, "item": i, "baseline": b,
                      "ablated": a, "effect": a - b} for i, (b, a) in enumerate(zip(base[s], res[s], strict=True))]
    er = {s: np.stack(v) for s, v in eff_rand.items()}  # (n_random, n_items)

    rng = np.random.default_rng(seed)
    boot_f = {}
    boot_r = {}
    for s in sets:
        n_i = len(base[s])
        idx = rng.integers(0, n_i, (n_bootstrap, n_i))
        sidx = rng.integers(0, n_random, (n_bootstrap, n_random))
        boot_f[s] = eff_found[s][idx].mean(axis=1)
        # two-level: resample seeds, then the same resampled items for every seed
        boot_r[s] = np.stack([er[s][sidx[b]][:, idx[b]].mean() for b in range(n_bootstrap)])
    summ = []
    for cond, point, boot, n_seeds in (("found", {s: eff_found[s].mean() for s in sets}, boot_f, 1),
                                       ("random", {s: er[s].mean() for s in sets}, boot_r, n_random)):
        for s in sets:
            lo, hi = _ci(boot[s], level)
            summ.append({"condition": cond, "set": s, "effect": float(point[s]), "ci_low": lo, "ci_high": hi,
                         "n_items": len(base[s]), "n_seeds": n_seeds, "baseline": float(base[s].mean())})
    con = []

    def add(name: str, est: float, boot: np.ndarray) -> None:
        lo, hi = _ci(boot, level)
        con.append({"contrast": name, "estimate": float(est), "ci_low": lo, "ci_high": hi,
                    "p_boot": float((np.sum(boot <= 0) + 1) / (len(boot) + 1))})

    fc, fk = eff_found[concept].mean(), eff_found[control].mean()
    rc, rk = er[concept].mean(), er[control].mean()
    add(f"found: {concept} - {control}", fc - fk, boot_f[concept] - boot_f[control])
    add(f"random: {concept} - {control}", rc - rk, boot_r[concept] - boot_r[control])
    add(f"{concept}: found - random", fc - rc, boot_f[concept] - boot_r[concept])
    add(f"{control}: found - random", fk - rk, boot_f[control] - boot_r[control])
    add("selectivity: found - random", (fc - fk) - (rc - rk),
        (boot_f[concept] - boot_f[control]) - (boot_r[concept] - boot_r[control]))
    n_total = sum(len(v) for v in found.values())
    settings = {"concept": concept, "control": control, "value": value, "n_units": n_total,
                "units": found, "n_random": n_random, "random_units": drawn, "seed": seed,
                "n_bootstrap": n_bootstrap, "level": level, "metric": metric,
                "effect": f"{metric}(ablated) - {metric}(baseline), per item",
                "effect_label": f"change in {metric}",
                "finder": units.settings if isinstance(units, FoundUnits) else None,
                "model": getattr(model, "name", type(model).__name__)}
    prov = make_provenance("units.ablation_test", settings, seed=seed,
                           inputs={"weights": str(getattr(model, "weights_digest", ""))})
    return AblationResult(pd.DataFrame(rows), pd.DataFrame(summ), pd.DataFrame(con), settings, prov)


# ------------------------------------------------------------------------------ metrics
def classifier_nll(model: Any, images: Sequence[Any], classes: Sequence[int], *, batch_size: int = 32
                   ) -> np.ndarray:
    """Per-image negative log-probability of ``classes`` (e.g. the unablated top-1 class).

    Parameters
    ----------
    model : an image adapter whose forward returns logits (batch, n_classes).
    images : PIL images (or anything ``model.prepare`` takes).
    classes : the class index per image.

    Returns
    -------
    array, shape (n_images,): ``-log softmax(logits)[class]``; a rise means lower confidence.
    """
    import torch

    if len(classes) != len(images):
        raise InvalidDataError(f"{len(classes)} classes for {len(images)} images")
    out = []
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            logits = model.forward(model.prepare(list(images[i:i + batch_size])))
            lp = torch.log_softmax(logits.double(), dim=-1)
            c = torch.as_tensor(list(classes[i:i + batch_size]), dtype=torch.long)
            out.append((-lp[torch.arange(len(c)), c]).numpy())
    return np.concatenate(out)


def lm_token_loss(model: Any, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
    """Per-text mean next-token negative log-likelihood (nats) of a causal language model.

    Parameters
    ----------
    model : a text adapter whose forward returns an object with ``logits`` (batch, token, vocab)
        and whose batch has ``input_ids`` and ``attention_mask``.
    texts : the texts (each must fit the model's context).

    Returns
    -------
    array, shape (n_texts,): mean over the predicted tokens (2nd to last real token) of
    ``-log p(token | preceding tokens)``.
    """
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            batch = model.prepare(list(texts[i:i + batch_size]))
            res = model.forward(batch)
            logits = res.logits if hasattr(res, "logits") else res[0]
            ids = batch.inputs["input_ids"]
            mask = batch.inputs["attention_mask"].to(torch.float64)
            lp = torch.log_softmax(logits[:, :-1].double(), dim=-1)
            nll = -lp.gather(-1, ids[:, 1:, None])[..., 0]
            m = mask[:, 1:] * mask[:, :-1]
            out.append(((nll * m).sum(1) / m.sum(1).clamp_min(1)).numpy())
    return np.concatenate(out)
