"""Vision benchmarks: V4 neurons (encoding) and IT (RSA)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..data import StimulusSet, load_dataset
from . import Benchmark, iter_layers, register_benchmark


def _progress(items: list, enabled: bool, desc: str) -> Any:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


@register_benchmark
class CowleyV4Ridge(Benchmark):
    """Predict each V4 neuron's repeat-averaged spike count from a layer's responses."""

    name = "cowley2023.v4.ridge"
    version = 1
    kind = "encoding"
    dataset = "cowley2023 (session 201025)"
    region = "V4"
    session = "201025"
    metric = ("median over neurons of the held-out Pearson r (per neuron: r on each of 5 outer "
              "folds, averaged; not squared)")
    ceiling = ("none applied: session 201025 has no raw repeats in the public mirror; the raw "
               "score is reported")
    split = ("5-fold cross-validation over the 1200 images (shuffled, seed); features z-scored with "
             "training statistics; ridge penalty per neuron chosen on the training folds by exact "
             "efficient leave-one-out (PRESS R^2) over the default alpha grid")
    citation = ("Cowley BR, Stan PL, Pillow JW, Smith MA (2023). Compact deep neural network models "
                "of visual cortex. bioRxiv 2023.11.22.568315.")
    description = ("89 macaque V4 neurons (Utah array, spike counts 100 ms bins, 12 repeats) to "
                   "1200 natural images (112x112). Cross-validated ridge encoding per layer.")
    reduction = "pool4"
    score_label = "median held-out Pearson r (V4 neurons)"
    n_splits = 5

    def _data(self) -> Any:
        return load_dataset("cowley2023", session=self.session)

    def stimuli(self) -> StimulusSet:
        return self._data().stimuli

    def score_layers(self, features: xr.DataArray, *, seed: int = 0,
                     progress: bool = False) -> dict[str, Any]:
        from ..encoding import cross_validate

        y = self._data().responses[self.session]
        layers: dict[str, float] = {}
        details: dict[str, Any] = {"per_layer": {}}
        for name, x in _progress(iter_layers(features), progress, "layers"):
            res = cross_validate(x, y, n_splits=self.n_splits, seed=seed, inner_cv="loo")
            r = np.asarray(res.mean_scores, dtype=float)
            layers[name] = float(np.nanmedian(r))
            details["per_layer"][name] = {
                "n_features": int(x.sizes["unit"]),
                "mean_r": float(np.nanmean(r)),
                "q25_r": float(np.nanpercentile(r, 25)), "q75_r": float(np.nanpercentile(r, 75)),
                "fold_medians": [float(v) for v in np.nanmedian(np.asarray(res.scores), axis=1)],
            }
        details["n_neurons"] = int(y.sizes["unit"])
        details["n_stimuli"] = int(y.sizes["stimulus"])
        return {"layers": layers, "details": details}


@register_benchmark
class KriegeskorteITRSA(Benchmark):
    """Compare each layer's RDM with the monkey IT and human IT RDMs of the 92 objects."""

    name = "kriegeskorte2008.it.rsa"
    version = 1
    kind = "rsa"
    dataset = "kriegeskorte2008"
    region = "IT"
    metric = ("Spearman rho between the layer RDM (1 - Pearson r between flattened responses) and "
              "the brain RDM, upper triangles; score = mean of monkey IT and human IT rho")
    ceiling = ("human IT: leave-one-subject-out noise ceiling (lower, upper) of Spearman rho from the "
               "4 subjects' RDMs (sessions averaged); monkey IT has a single RDM and no ceiling")
    split = "none (RSA over all 92 images)"
    citation = ("Kriegeskorte N, Mur M, Ruff DA, Kiani R, Bodurka J, Esteky H, Tanaka K, Bandettini "
                "PA (2008). Neuron 60:1126-1141.")
    description = ("92 object images; monkey IT (674 neurons) and human IT (316 voxels) RDMs. "
                   "Representational similarity per layer.")
    reduction = "flatten"
    score_label = "Spearman rho with IT RDM"

    def _data(self) -> Any:
        return load_dataset("kriegeskorte2008")

    def stimuli(self) -> StimulusSet:
        return self._data().stimuli

    def score_layers(self, features: xr.DataArray, *, seed: int = 0,
                     progress: bool = False) -> dict[str, Any]:
        from ..similarity import compare_rdms, compute_rdms, noise_ceiling

        data = self._data()
        brain = data.rdms["it"]
        model_rdms = compute_rdms(features, "correlation", by="layer")
        sim = compare_rdms(model_rdms, brain, method="spearman")
        names_b = [str(v) for v in brain["rdm"].values]
        vals = np.asarray(sim.values)
        targets = {str(layer): {names_b[j]: float(vals[i, j]) for j in range(len(names_b))}
                   for i, layer in enumerate(model_rdms["rdm"].values)}
        layers = {k: float(np.mean(list(v.values()))) for k, v in targets.items()}
        ci = self._bootstrap_ci(model_rdms, brain, seed)
        subj = data.rdms["hit_subjects"]
        per_subject = subj.groupby("subject").mean("rdm").rename(subject="rdm")
        from ..responses import make_rdms

        per_subject = make_rdms(per_subject.transpose("rdm", "stimulus", "stimulus2").values,
                                [str(s) for s in subj["stimulus"].values],
                                [str(s) for s in per_subject["rdm"].values], check=False)
        lower, upper = noise_ceiling(per_subject, method="spearman")
        ceiling = {"hIT": {"lower": float(lower), "upper": float(upper),
                           "method": "spearman", "subjects": int(per_subject.sizes["rdm"]),
                           "convention": "leave-one-subject-out, rho averaged over subjects"}}
        return {"layers": layers, "targets": targets, "ceiling": ceiling,
                "details": {"n_stimuli": int(brain.sizes["stimulus"]),
                            "ci95_bootstrap_stimuli": ci, "n_boot": self.n_boot}}

    n_boot = 1000

    def _bootstrap_ci(self, model_rdms: xr.DataArray, brain: xr.DataArray,
                      seed: int) -> dict[str, dict[str, list[float]]]:
        """95 % percentile intervals of rho per layer and target, bootstrapping stimuli (seeded)."""
        from ..similarity import confidence_interval, evaluate

        out: dict[str, dict[str, list[float]]] = {str(k): {} for k in model_rdms["rdm"].values}
        for target in brain["rdm"].values:
            res = evaluate(model_rdms, brain.sel(rdm=[target]), "spearman", over="stimuli",
                           n_boot=self.n_boot, seed=seed, ceiling=False)
            ci = confidence_interval(res)
            for layer in out:
                lo, hi = (float(v) for v in ci.sel(model=layer).values)
                out[layer][str(target)] = [lo, hi]
        return out
