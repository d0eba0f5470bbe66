"""Concept-unit finders: LAPE against the authors' algorithm, mean difference, grad x activation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
import torch

from brainalign import make_responses
from brainalign.errors import InvalidDataError
from brainalign.units import activation_entropy, grad_x_activation, mean_difference


def _lape_reference(activation_probs: torch.Tensor, top_rate=0.01, filter_rate=0.95, bar_ratio=0.95):
    """The selection step of Tang et al. (2024), transcribed from their released identify.py."""
    normed = activation_probs / activation_probs.sum(dim=-1, keepdim=True)
    normed[torch.isnan(normed)] = 0
    log_probs = torch.where(normed > 0, normed.log(), 0)
    entropy = -torch.sum(normed * log_probs, dim=-1)
    flattened_probs = activation_probs.flatten()
    top_prob_value = flattened_probs.kthvalue(round(len(flattened_probs) * filter_rate)).values.item()
    top_position = (activation_probs > top_prob_value).sum(dim=-1)
    entropy[top_position == 0] = torch.inf
    flattened_entropy = entropy.flatten()
    top_entropy_value = round(len(flattened_entropy) * top_rate)
    _, index = flattened_entropy.topk(top_entropy_value, largest=False)
    row_index = index // entropy.size(1)
    col_index = index % entropy.size(1)
    selected_probs = activation_probs[row_index, col_index].transpose(0, 1)  # lang x n
    activation_bar = flattened_probs.kthvalue(round(len(flattened_probs) * bar_ratio)).values.item()
    lang, indice = torch.where(selected_probs > activation_bar)
    out = {}
    for i in range(activation_probs.shape[-1]):
        sel = indice[lang == i]
        out[i] = sorted((row_index[sel] * entropy.size(1) + col_index[sel]).tolist())
    return out


def test_activation_entropy_matches_authors_algorithm():
    rng = np.random.default_rng(0)
    n_layers, width, langs = 4, 250, ["en", "fr", "zh"]
    n_units = n_layers * width
    n_tok = 300
    base = rng.uniform(0.05, 0.6, size=n_units)
    spec = rng.choice(n_units, 40, replace=False)
    x_parts, lab = [], []
    for li, lang in enumerate(langs):
        p = base.copy()
        p[spec[li::3]] = np.where(np.arange(len(spec[li::3])) % 2 == 0, 0.97, 0.9)  # units specific to this language
        x_parts.append((rng.uniform(size=(n_tok, n_units)) < p) * rng.uniform(0.1, 1, (n_tok, n_units))
                       - (rng.uniform(size=(n_tok, n_units)) >= p) * 0.1)
        lab += [lang] * n_tok
    x = np.concatenate(x_parts)
    da = make_responses(x, [f"tok{i}" for i in range(len(x))],
                        unit_coords={"layer": np.repeat([f"l{i}" for i in range(n_layers)], width),
                                     "channel": np.tile(np.arange(width), n_layers)})
    found = activation_entropy(da, np.array(lab))
    prob = np.stack([(x[np.array(lab) == g] > 0).mean(0) for g in langs], axis=1)
    np.testing.assert_allclose(found.scores["activation_probability"].values, prob)
    ref = _lape_reference(torch.tensor(prob.reshape(n_layers, width, 3)))
    for i, g in enumerate(langs):
        ours = sorted(int(np.flatnonzero(da["unit"].values == u)[0])
                      for u, c in zip(found.table["unit"], found.table["conditions"], strict=True)
                      if g in c.split(","))
        assert ours == ref[i]
        assert len(ours) > 0
    assert found.table["score"].is_monotonic_increasing
    assert found.settings["citation"].startswith("Tang")
    by = found.by_layer()
    assert sum(len(v) for v in by.values()) == len(found)


def test_mean_difference_ranks_planted_units_and_matches_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 300))
    lab = np.array(["code"] * 40 + ["prose"] * 40 + ["other"] * 20)
    planted = [5, 17, 250]
    x[:40, planted] += 2.0
    da = make_responses(x, [f"s{i}" for i in range(100)])
    f = mean_difference(da, lab, "code", "prose", n_units=3, n_permutations=300)
    assert sorted(f.units) == sorted(f"u{i}" for i in planted)
    ref = ss.ttest_ind(x[:40], x[40:80], equal_var=False)
    np.testing.assert_allclose(f.scores["t"].values, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(f.scores["difference"].values, x[:40].mean(0) - x[40:80].mean(0))
    assert f.settings["n_concept"] == 40 and f.settings["n_control"] == 40
    # control=None: every other stimulus
    g = mean_difference(da, lab, "code", fraction=0.01, rank_by="difference", n_permutations=0)
    assert len(g) == 3 and f"u{planted[0]}" in g.units
    np.testing.assert_allclose(g.scores["difference"].values, x[:40].mean(0) - x[40:].mean(0))
    with pytest.raises(InvalidDataError, match="not a value"):
        mean_difference(da, lab, "poetry")
    with pytest.raises(InvalidDataError, match="rank_by"):
        mean_difference(da, lab, "code", rank_by="z")


class _TinyAdapter:
    """A minimal two-layer network exposing the adapter interface grad_x_activation uses."""

    name = "tiny"
    modality = "image"

    def __init__(self):
        torch.manual_seed(0)
        self.module = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
        self.module.eval()

    def layer_module(self, name):
        return dict(self.module.named_modules())[name]

    def prepare(self, items):
        from types import SimpleNamespace

        return SimpleNamespace(inputs=torch.as_tensor(np.stack(items), dtype=torch.float32), context={})


def test_grad_x_activation_equals_exact_zeroing_effect_for_linear_readout():
    ad = _TinyAdapter()
    rng = np.random.default_rng(2)
    items = [rng.normal(size=5) for _ in range(10)]

    def target(out, batch):
        return out[:, 1]

    f = grad_x_activation(ad, items, ["1"], target, n_units=7, batch_size=4)
    # the readout is linear in the ReLU output, so a * dT/da is exactly T(a) - T(a with a_u = 0)
    x = torch.as_tensor(np.stack(items), dtype=torch.float32)
    with torch.no_grad():
        h = ad.module[1](ad.module[0](x))
        base = ad.module[2](h)[:, 1]
        exact = []
        for u in range(7):
            h0 = h.clone()
            h0[:, u] = 0
            exact.append(float((base - ad.module[2](h0)[:, 1]).mean()))
    got = f.scores["score"].values
    np.testing.assert_allclose(got, exact, rtol=1e-5, atol=1e-6)
    assert f.table["score"].is_monotonic_decreasing
    assert f.table["layer"].iloc[0] == "1"
    with pytest.raises(InvalidDataError, match="one value per stimulus"):
        grad_x_activation(ad, items, ["1"], lambda out, b: out.sum(), n_units=3)
    # hooks are removed even after an error
    assert not ad.module[1]._forward_hooks
