"""Streaming into Zarr: equality with in-memory recording, cache, resume after SIGKILL, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from brainalign import load
from brainalign.data import StimulusSet
from brainalign.errors import InvalidDataError
from brainalign.models import from_module, record
from brainalign.models.store import read_progress

torch = pytest.importorskip("torch")

PP = {"resize": [16, 16], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3))
    return from_module(net, name="tiny", preprocessing=PP)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return StimulusSet.from_arrays(rng.integers(0, 256, (50, 16, 16, 3), dtype=np.uint8), name="rand50")


def _count_forwards(adapter):
    calls = {"n": 0}

    def hook(*_):
        calls["n"] += 1

    return calls, adapter.module.register_forward_pre_hook(hook)


def test_store_equals_in_memory_and_reads_back(tiny, images, tmp_path):
    red = {"0": "pool2", "default": "mean"}
    mem = record(tiny, images, ["0", "4"], reduction=red, batch_size=8, progress=False)
    st = record(tiny, images, ["0", "4"], reduction=red, batch_size=8, progress=False,
                out=tmp_path / "r.zarr", memory_budget=16 * 19 * 4)
    assert st.chunks is not None and st.chunks[0][0] == 16  # chunk = 2 batches from the budget
    np.testing.assert_array_equal(st.values, mem.values)
    for c in ("unit", "stimulus", "layer", "channel", "position"):
        assert list(st[c].values) == list(mem[c].values)
    again = load(tmp_path / "r.zarr")
    assert json.loads(again.attrs["provenance"])["params"] == json.loads(mem.attrs["provenance"])["params"]
    assert read_progress(tmp_path / "r.zarr")["complete"] is True


def test_cache_hit_and_invalidation(tiny, images, tmp_path):
    calls, h = _count_forwards(tiny)
    try:
        a = record(tiny, images, "4", batch_size=10, progress=False, cache=tmp_path)
        n1 = calls["n"]
        b = record(tiny, images, "4", batch_size=10, progress=False, cache=tmp_path)
        assert calls["n"] == n1 == 5  # second call: no forward pass at all
        np.testing.assert_array_equal(a.values, b.values)
        record(tiny, images.subset(images.ids[:20]), "4", progress=False, cache=tmp_path)  # other stimuli
        record(tiny, images, "4", reduction="max", progress=False, cache=tmp_path)  # other reduction
        assert calls["n"] > n1
    finally:
        h.remove()
    assert len(list(tmp_path.glob("tiny-*.zarr"))) == 3
    with pytest.raises(InvalidDataError, match="different recording"):
        record(tiny, images, "0", progress=False, out=next(tmp_path.glob("tiny-*.zarr")))


def test_streamed_pca_and_random_projection_match_sklearn(tiny, images):
    from sklearn.random_projection import SparseRandomProjection

    flat = record(tiny, images, "0", reduction="none", progress=False).values
    srp = record(tiny, images, "0", reduction="srp:32", progress=False)
    ref = SparseRandomProjection(32, random_state=0).fit(flat).transform(flat)
    np.testing.assert_allclose(srp.values, ref, rtol=1e-4, atol=1e-4)
    assert srp.unit.values[0] == "0/rp0"
    pca = record(tiny, images, "0", reduction="pca:5", batch_size=50, progress=False)  # one batch
    from sklearn.decomposition import PCA

    ref = PCA(5, svd_solver="full").fit_transform(flat.astype(np.float64))
    # components are defined up to sign
    sign = np.sign((pca.values * ref).sum(0))
    np.testing.assert_allclose(pca.values * sign, ref, rtol=1e-3, atol=1e-3)


def test_bad_images_raise_or_become_nan(tiny, tmp_path):
    from PIL import Image

    paths = []
    for i in range(3):
        p = tmp_path / f"im{i}.png"
        Image.new("RGB", (20, 20), (i * 50, 0, 0)).save(p)
        paths.append(p)
    (tmp_path / "im1.png").write_bytes(b"not an image")
    st = StimulusSet.from_files(paths)
    with pytest.raises(InvalidDataError, match="'im1'"):
        record(tiny, st, "4", progress=False)
    r = record(tiny, st, "4", progress=False, on_error="nan")
    assert np.isnan(r.sel(stimulus="im1").values).all() and not np.isnan(r.sel(stimulus="im0").values).any()
    assert json.loads(r.attrs["provenance"])["params"]["failed_stimuli"] == ["im1"]
    with pytest.raises(InvalidDataError, match="empty"):
        StimulusSet.from_texts([])


RESUME_SCRIPT = textwrap.dedent("""
    import sys
    from brainalign.data import load_dataset
    from brainalign.models import record
    st = load_dataset("kriegeskorte2008").stimuli
    st = st.subset(st.ids[:24])
    record("mobilenet_v2", st, ["features.4", "features.12", "classifier"], batch_size=2,
           memory_budget=1, out=sys.argv[1], progress=False)
""")


@pytest.mark.slow
def test_kill_and_resume_gives_identical_store(kriegeskorte, tmp_path):
    script = tmp_path / "rec.py"
    script.write_text(RESUME_SCRIPT)
    store = tmp_path / "killed.zarr"
    proc = subprocess.Popen([sys.executable, str(script), str(store)], env=dict(os.environ))
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            prog = read_progress(store) if store.exists() else None
            if prog and len(prog["done"]) >= 3:
                break
            if proc.poll() is not None:
                pytest.fail(f"recording subprocess ended early (exit {proc.returncode})")
            time.sleep(0.05)
        else:
            pytest.fail("recording did not progress in time")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    prog = read_progress(store)
    assert not prog["complete"] and 3 <= len(prog["done"]) < 12
    st = kriegeskorte.stimuli.subset(kriegeskorte.stimuli.ids[:24])
    layers = ["features.4", "features.12", "classifier"]
    resumed = record("mobilenet_v2", st, layers, batch_size=8, memory_budget=1,  # batch size ignored
                     out=store, progress=False)
    assert read_progress(store)["complete"]
    full = record("mobilenet_v2", st, layers, batch_size=2, memory_budget=1, out=tmp_path / "full.zarr",
                  progress=False)
    np.testing.assert_array_equal(resumed.values, full.values)
    for c in ("unit", "stimulus", "layer", "channel", "position"):
        assert list(resumed[c].values) == list(full[c].values)
    pa, pb = (json.loads(x.attrs["provenance"]) for x in (resumed, full))
    assert pa["params"] == pb["params"] and pa["params"]["batch_size"] == 2
