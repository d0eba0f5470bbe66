"""CRAFT's VGG16-BN backbone: strict load, canonical VGG names, recording."""

from __future__ import annotations

import numpy as np
import pytest

from brainalign.models import load_model, record

torch = pytest.importorskip("torch")


@pytest.mark.slow
def test_craft_backbone_loads_and_records(kriegeskorte):
    net = load_model("craft_vgg16_bn")
    assert net.module_path("features.38") == "slice4.38" and net.module_path("fc7") == "slice5.2"
    assert "features.40" not in net.layers()  # conv5_3 is not part of CRAFT's backbone
    bn = net.layer_module("features.1")
    assert not torch.allclose(bn.running_mean, torch.zeros_like(bn.running_mean))  # trained stats
    st = kriegeskorte.stimuli.subset(kriegeskorte.stimuli.ids[:2])
    r = record(net, st, ["features.2", "features.38", "fc7"], progress=False)
    assert r.sizes["unit"] == 64 + 512 + 1024
    relu = r.sel(unit=r.layer == "features.2").values
    assert (relu >= 0).all() and (relu > 0).any()
    # fc7 recorded == the backbone's own output, spatially averaged
    x = net.prepare([st[0], st[1]]).inputs
    with torch.inference_mode():
        ref = net.module(x).mean(dim=(2, 3)).numpy()
    np.testing.assert_allclose(r.sel(unit=r.layer == "fc7").values, ref, rtol=1e-4, atol=1e-5)
