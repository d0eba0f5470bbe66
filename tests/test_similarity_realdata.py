"""Acceptance on real data: Algonauts 78 (Net2Brain vs rsatoolbox conventions) and Kriegeskorte 92."""

from __future__ import annotations

import numpy as np
import pytest

from brainalign.similarity import compare_rdms, compute_rdms, noise_ceiling
from brainalign.similarity.stats import confidence_interval, evaluate, paired_test

# Net2Brain's own golden file (net2brain/tests/test_cases/case1/rsa/results.csv), same data:
# ROI, layer -> (R2, %R2, LNC, UNC); and the first four per-subject r^2 of IT / layer3.1.conv2.
NET2BRAIN = {
    ("it", "layer3.1.conv2"): (0.002116532020238181, 75.99958894213192, 0.002784925615650058, 0.0647332511659806),
    ("it", "layer4.1.bn2"): (0.0018402013413235168, 66.07721696344039, 0.002784925615650058, 0.0647332511659806),
    ("evc", "layer3.1.conv2"): (0.0008296788172746916, 12.169552448656326, 0.006817660885847111, 0.06397469419484077),
    ("evc", "layer4.1.bn2"): (0.0006886062445416333, 10.10032995291863, 0.006817660885847111, 0.06397469419484077),
}
NET2BRAIN_IT_L3_R2 = [0.009308998995273269, 0.002225157839523893, 0.0005477945450203373, 0.001857837992353424]


@pytest.fixture(scope="module")
def algonauts():
    from brainalign.data import load_dataset

    return load_dataset("algonauts2019")


@pytest.fixture(scope="module")
def algonauts_model_rdms(algonauts):
    # Net2Brain z-scores every unit over the images, then takes 1 - Pearson r
    return compute_rdms(algonauts.responses["resnet18"], "correlation", by="layer", standardize=True)


@pytest.mark.slow
def test_algonauts_reproduces_net2brain(algonauts, algonauts_model_rdms):
    for roi in ("it", "evc"):
        res = evaluate(algonauts_model_rdms, algonauts.rdms[roi], "spearman", convention="net2brain", over=None)
        for layer in ("layer3.1.conv2", "layer4.1.bn2"):
            r2, pct, lnc, unc = NET2BRAIN[(roi, layer)]
            np.testing.assert_allclose(res["score"].sel(model=layer), r2, rtol=1e-9)
            np.testing.assert_allclose(res["percent_of_lower"].sel(model=layer), pct, rtol=1e-9)
            np.testing.assert_allclose([res["ceiling_lower"], res["ceiling_upper"]], [lnc, unc], rtol=1e-9)
    r = compare_rdms(algonauts_model_rdms, algonauts.rdms["it"], "spearman").sel(rdm_a="layer3.1.conv2")
    np.testing.assert_allclose((r**2).values[:4], NET2BRAIN_IT_L3_R2, rtol=1e-8)


@pytest.mark.slow
def test_algonauts_rsatoolbox_convention(algonauts, algonauts_model_rdms):
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs, compare

    from brainalign.responses import condensed

    it = algonauts.rdms["it"]
    res = evaluate(algonauts_model_rdms, it, "spearman", convention="rsatoolbox", over=None)
    lo, up = boot_noise_ceiling(RDMs(condensed(it)), method="spearman")
    score = compare(RDMs(condensed(algonauts_model_rdms)), RDMs(condensed(it)), "spearman").mean(axis=1)
    np.testing.assert_allclose([res["ceiling_lower"], res["ceiling_upper"]], [lo, up], rtol=1e-10)
    np.testing.assert_allclose(res["score"].values, score, rtol=1e-10)
    # the same model that Net2Brain puts at 76 % of the lower bound is ~620 % here
    assert res["percent_of_lower"].sel(model="layer3.1.conv2") == pytest.approx(619.1, abs=0.1)
    # per subject and averaged, both conventions recorded
    nc = noise_ceiling(it, "spearman", "net2brain")
    assert (nc.convention, nc.pool) == ("mean_r2", "mean") and len(nc.lower_per_subject) == 15


@pytest.mark.slow
def test_kriegeskorte_ceiling_and_it(kriegeskorte):
    hit = kriegeskorte.rdms["hit_subjects"]
    nc = noise_ceiling(hit, "spearman")
    assert 0.2 < nc.lower < nc.upper < 0.7
    it = kriegeskorte.rdms["it"]
    r = compare_rdms(it.sel(rdm=["mIT"]), it.sel(rdm=["hIT"]), "spearman").item()
    assert 0.3 < r < 0.6  # Kriegeskorte et al. 2008 report a clear monkey-human IT match


@pytest.mark.slow
def test_kriegeskorte_mobilenet_layers(kriegeskorte):
    from brainalign.models import load_model, record

    resp = record(load_model("mobilenet_v2"), kriegeskorte.stimuli, None, reduction="pool2", progress=False)
    layers = compute_rdms(resp, "correlation", by="layer")
    assert layers.sizes["rdm"] >= 10
    vs_it = compare_rdms(layers, kriegeskorte.rdms["it"], "spearman")
    assert vs_it.dims == ("rdm_a", "rdm_b") and np.all(np.isfinite(vs_it.values))
    # deeper layers match IT better than the first ones (monkey and human)
    assert vs_it.isel(rdm_a=slice(-8, None)).max("rdm_a").min() > vs_it.isel(rdm_a=slice(0, 3)).max("rdm_a").max()
    res = evaluate(layers, kriegeskorte.rdms["hit_subjects"], "spearman", over="stimuli", n_boot=100, seed=0)
    ci = confidence_interval(res)
    assert (ci.sel(bound="lower") <= res["score"]).all() and (res["score"] <= ci.sel(bound="upper")).all()
    best, worst = str(res["score"].idxmax().values), str(res["score"].idxmin().values)
    test = paired_test(res, best, worst)
    assert test["difference"] > 0 and test["p"] < 0.05
    assert (res["score"] < res["ceiling_upper"]).all()
