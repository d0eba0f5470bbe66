"""Code units in SmolLM2-135M: found on stdlib source vs Alice, ablated, vs random units (heavy)."""

from __future__ import annotations

import pytest

from brainalign.units.corpora import STDLIB_FILES, alice_text, code_and_prose_chunks, stdlib_code


def test_corpora_are_real_and_split_by_source():
    code = stdlib_code()
    assert set(code) == set(STDLIB_FILES) and all("def " in src for src in code.values())
    text = alice_text()
    assert text.startswith("Alice was beginning to get very tired") and len(text.split()) == 2127

    class WordTok:  # whitespace "tokenizer": enough to check the chunking and splitting logic
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": text.split()}

        def decode(self, ids):
            return " ".join(ids)

    ch = code_and_prose_chunks(WordTok(), code, text, n_chunks=30, chunk_tokens=20)
    assert len(ch.texts("code")) == 30 and len(ch.texts("prose")) == 30
    assert all(len(t.split()) == 20 for t in ch.texts())
    find, held = ch.split(0)
    assert not set(zip(find.corpus, find.group, strict=True)) & set(zip(held.corpus, held.group, strict=True))
    assert len(find) + len(held) == 60 and len(find.texts("prose")) > 5 and len(held.texts("code")) > 5
    f1, h1 = ch.split(1)
    assert set(f1.ids) == set(held.ids)
    assert ch.stimulus_set().metadata["corpus"].tolist().count("code") == 30


@pytest.mark.heavy
def test_smollm2_code_units_ablation(smollm2):
    from brainalign.units import code_prose_ablation

    net = smollm2
    found, res = code_prose_ablation(net, n_chunks=16, chunk_tokens=48, n_units=460, n_random=2,
                                     n_permutations=1000, batch_size=8)
    assert found.settings["concept"] == "code" and len(found) == 460
    assert all(la.startswith("layers.") and la.endswith(".mlp.act_fn") for la in found.by_layer())
    s = res.summary.set_index(["condition", "set"])["effect"]
    assert s[("found", "code")] > 2 * max(s[("found", "prose")], 0.01)
    assert s[("found", "code")] > 2 * max(s[("random", "code")], 0.01)
    assert res.contrast("selectivity: found - random")["estimate"] > 0
