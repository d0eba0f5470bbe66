"""Interventions: ablate / scale / clamp / patch units, hooks always removed."""

from __future__ import annotations

import numpy as np
import pytest

from brainalign.data import StimulusSet
from brainalign.errors import InvalidDataError, UnknownNameError
from brainalign.models import (
    Ablate,
    Clamp,
    Patch,
    Scale,
    from_module,
    intervene,
    load_model,
    record,
)
from brainalign.models.interventions import apply_spec

torch = pytest.importorskip("torch")


def _tiny_net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3))


@pytest.fixture(scope="module")
def tiny():
    pp = {"resize": [16, 16], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    return from_module(_tiny_net(), name="tiny", preprocessing=pp)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return StimulusSet.from_arrays(rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8))


def test_scale_zero_clamp_patch_on_a_conv_layer(tiny, images):
    base = record(tiny, images, "0", reduction="none", progress=False).values.reshape(6, 4, 16, 16)
    with intervene(tiny, {"0": Scale([1], 2.0)}) as h:
        sc = record(tiny, images, "0", reduction="none", progress=False).values.reshape(6, 4, 16, 16)
    assert h.calls["0"] == 1
    np.testing.assert_allclose(sc[:, 1], 2 * base[:, 1], rtol=1e-6)
    np.testing.assert_array_equal(sc[:, [0, 2, 3]], base[:, [0, 2, 3]])
    with intervene(tiny, {"0": Ablate(["0/c2", "0/c3"])}):
        z = record(tiny, images, "0", reduction="none", progress=False).values.reshape(6, 4, 16, 16)
    assert (z[:, 2:] == 0).all() and np.array_equal(z[:, :2], base[:, :2])
    with intervene(tiny, {"0": Clamp(None, min=-0.1, max=0.1)}):
        c = record(tiny, images, "0", reduction="none", progress=False).values.reshape(6, 4, 16, 16)
    np.testing.assert_allclose(c, np.clip(base, -0.1, 0.1), rtol=1e-6)
    with intervene(tiny, {"0": Patch([0], values=torch.as_tensor(base[::-1, :1].copy()))}):
        p = record(tiny, images, "0", reduction="none", progress=False).values.reshape(6, 4, 16, 16)
    np.testing.assert_array_equal(p[:, 0], base[::-1, 0])


def test_intervention_propagates_downstream_and_hooks_are_removed(tiny, images):
    net = tiny.module
    before = record(tiny, images, "4", progress=False).values
    with intervene(tiny, {"1": {"op": "zero"}}):  # every ReLU output -> 0: logits = bias
        logits = record(tiny, images, "4", progress=False).values
    np.testing.assert_allclose(logits, np.tile(net[4].bias.detach().numpy(), (6, 1)), rtol=1e-6)
    assert all(len(m._forward_hooks) == 0 for m in net.modules())
    with pytest.raises(RuntimeError, match="boom"), intervene(net, {"1": "zero"}):  # nn.Module path
        raise RuntimeError("boom")
    assert all(len(m._forward_hooks) == 0 for m in net.modules())
    np.testing.assert_array_equal(record(tiny, images, "4", progress=False).values, before)
    with pytest.raises(UnknownNameError, match="Valid layers: 0, 1, 2, 3, 4"):
        with intervene(tiny, {"5": "zero"}):
            pass
    with pytest.raises(InvalidDataError, match="out of range"), intervene(tiny, {"0": Ablate([7])}):
        record(tiny, images, "0", progress=False)


def test_apply_spec_token_axis_and_mean_against_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 6)).astype(np.float32)  # (batch, token, feature): units on last axis
    t = torch.as_tensor(x)
    out = apply_spec(Ablate([1, 4], "mean"), t, "L").numpy()
    exp = x.copy()
    exp[..., [1, 4]] = x[..., [1, 4]].mean(axis=(0, 1))
    np.testing.assert_allclose(out, exp, rtol=1e-6)
    out = apply_spec(Ablate([2], "mean", mean=[3.0]), t, "L").numpy()
    assert (out[..., 2] == 3.0).all() and np.array_equal(out[..., :2], x[..., :2])
    out = apply_spec(Scale([0, 5], [2.0, -1.0]), t, "L").numpy()
    np.testing.assert_allclose(out[..., 0], 2 * x[..., 0])
    np.testing.assert_allclose(out[..., 5], -x[..., 5])
    np.testing.assert_array_equal(x, t.numpy())  # input untouched


@pytest.mark.slow
def test_mean_ablation_of_mobilenet_units_with_recorded_means(kriegeskorte):
    net = load_model("mobilenet_v2")
    st = kriegeskorte.stimuli.subset(kriegeskorte.stimuli.ids[:8])
    ref = record(net, st, ["features.10", "classifier"], batch_size=8, progress=False)
    ids = ["features.10/c3", "features.10/c40"]
    means = ref.sel(unit=ids).mean("stimulus").values
    with intervene(net, {"features.10": Ablate(ids, "mean", mean=means)}):
        ab = record(net, st, ["features.10", "classifier"], batch_size=8, progress=False)
    np.testing.assert_allclose(ab.sel(unit=ids).values, np.tile(means, (8, 1)), rtol=1e-5)
    other = [u for u in ref.unit.values if u.startswith("features.10/") and u not in ids]
    np.testing.assert_array_equal(ab.sel(unit=other).values, ref.sel(unit=other).values)
    assert not np.allclose(ab.sel(unit=ab.layer == "classifier").values,
                           ref.sel(unit=ref.layer == "classifier").values)
