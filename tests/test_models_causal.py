"""SmolLM2 (GGUF): known completion, per-word surprisal on the Alice text, context windows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from brainalign.data import StimulusSet
from brainalign.errors import InvalidDataError
from brainalign.models import record, record_words, surprisal

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.slow, pytest.mark.heavy]


@pytest.fixture(scope="module")
def smol(smollm2):
    return smollm2


@pytest.fixture(scope="module")
def alice():
    from brainalign.data import load_dataset

    st = load_dataset("brennan2016").stimuli
    return st.subset(st.ids[:40])


def test_known_completion(smol):
    assert smol.generate("The capital of France is", 3).startswith(" Paris")
    assert smol.default_layers[:2] == ["embed_tokens", "layers.0"] and len(smol.default_layers) == 31


def test_surprisal_on_alice_matches_word_by_word_scoring(smol, alice):
    words = [alice[i] for i in range(len(alice))]
    s = surprisal(smol, alice, progress=False)
    assert s.dims == ("stimulus", "unit") and list(s.unit.values) == ["surprisal"]
    assert "onset" in s.coords and list(s.word.values) == words
    got = s.values[:, 0]
    # independent: log p(word | prefix) from two tokenisations, one forward pass per word
    tok, bos = smol.tokenizer, smol.boundary_token_id
    for i in range(8):
        prefix = [bos] + tok(" ".join(words[:i]), add_special_tokens=False)["input_ids"] if i else [bos]
        full = [bos] + tok(" ".join(words[: i + 1]), add_special_tokens=False)["input_ids"]
        assert full[: len(prefix)] == prefix
        with torch.inference_mode():
            logp = torch.log_softmax(smol.module(input_ids=torch.as_tensor([full])).logits[0].double(), -1)
        ref = -sum(float(logp[p - 1, full[p]]) for p in range(len(prefix), len(full))) / np.log(2)
        assert got[i] == pytest.approx(ref, abs=2e-3)
    # golden values (bits) of "Alice was beginning to get"
    np.testing.assert_allclose(got[:5], [17.44, 6.90, 13.53, 0.27, 5.44], atol=0.05)
    prov = json.loads(s.attrs["provenance"])["params"]
    assert prov["context"] == 512 and "first non-space" in prov["alignment"]
    # a short context window changes later words only
    short = surprisal(smol, alice, context=8, stride=4, progress=False).values[:, 0]
    np.testing.assert_allclose(short[:5], got[:5], atol=1e-3)
    assert not np.allclose(short[10:], got[10:], atol=1e-2)


def test_word_activations_and_sentences(smol, alice):
    r = record_words(smol, alice, ["layers.5"], word_reduction="mean", progress=False)
    assert r.sizes["unit"] == 576 + 1 and r.unit.values[0] == "layers.5/c0"
    st = StimulusSet.from_texts(["The cat sat on the mat.", "Paris is nice."])
    last = record(smol, st, "layers.5", reduction="last", progress=False)
    assert last.shape == (2, 576)
    with pytest.raises(InvalidDataError, match="context"):
        record_words(smol, alice, ["layers.5"], context=100000, progress=False)
    with pytest.raises(InvalidDataError, match="empty"):
        record_words(smol, ["Alice", " ", "was"], [], progress=False)
