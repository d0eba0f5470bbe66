"""Acceptance experiments of the units issue, with numbers for docs/units.md.

1. MobileNetV2 on the 92 images (Kriegeskorte 2008): face and animate units of ``features.18``
   found on one half of the images (mean difference, Welch t, permutation p, FDR), zero-ablated;
   the network's confidence (NLL of its unablated top-1 class) on the *other* half, faces vs
   others, compared with random units of the same number (several seeds). Both halves in turn.
2. SmolLM2-135M: code units (Python standard-library source files vs the Alice chapter, from
   ``brennan2016``) among the MLP neurons (``layers.N.mlp.act_fn``) found on some files/passages,
   zero-ablated; per-token loss on held-out code and held-out prose, vs random units.

Run: ``.venv/bin/python benchmarks/bench_units_ablation.py [vision|lm|all]`` (minutes on 2 cores).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def vision(n_units: int = 64, n_random: int = 10) -> None:
    import torch

    from brainalign.data import load_dataset
    from brainalign.models import load_model, record
    from brainalign.units import ablation_test, classifier_nll, mean_difference

    k = load_dataset("kriegeskorte2008")
    stim = k.stimuli
    net = load_model("mobilenet_v2")
    imgs = [stim[i] for i in range(len(stim))]
    with torch.inference_mode():
        top = net.predict(imgs).argmax(1).tolist()
    for col in ("face", "animate"):
        y = stim.metadata[col].to_numpy()
        for fold in (0, 1):
            t0 = time.perf_counter()
            train = np.arange(92) % 2 == fold
            resp = record(net, stim.subset([s for s, t in zip(stim.ids, train, strict=True) if t]),
                          "features.18", progress=False)
            found = mean_difference(resp, col, "True", "False", n_units=n_units, n_permutations=5000)
            te = np.flatnonzero(~train)
            a = [i for i in te if y[i]]
            b = [i for i in te if not y[i]]

            def evaluate(a=a, b=b, col=col):
                return {col: classifier_nll(net, [imgs[i] for i in a], [top[i] for i in a]),
                        "other": classifier_nll(net, [imgs[i] for i in b], [top[i] for i in b])}

            res = ablation_test(net, found, evaluate, concept=col, control="other", n_random=n_random)
            print(f"\n== MobileNetV2 {col} units, found on half {fold}, tested on the other "
                  f"({len(a)} {col} / {len(b)} other images); {n_units} units of features.18, "
                  f"{int((found.table['q'] < 0.05).sum())} with q<0.05; {time.perf_counter() - t0:.0f} s")
            print(res.summary.round(3).to_string(index=False))
            print(res.contrasts.round(3).to_string(index=False))


def lm(n_chunks: int = 40, chunk_tokens: int = 64, fraction: float = 0.01, n_random: int = 5) -> None:
    from brainalign.models import load_model, record
    from brainalign.units import ablation_test, lm_token_loss, mean_difference
    from brainalign.units.corpora import alice_text, code_and_prose_chunks, stdlib_code

    t0 = time.perf_counter()
    net = load_model("smollm2")
    print(f"SmolLM2 loaded in {time.perf_counter() - t0:.0f} s")
    chunks = code_and_prose_chunks(net.tokenizer, stdlib_code(), alice_text(), n_chunks=n_chunks,
                                   chunk_tokens=chunk_tokens)
    for split in (0, 1):
        t0 = time.perf_counter()
        find, held = chunks.split(split)
        resp = record(net, find.stimulus_set(f"find{split}"), r"re:layers\.\d+\.mlp\.act_fn",
                      reduction="mean", batch_size=8, progress=False)
        n_units = int(round(fraction * resp.sizes["unit"]))
        found = mean_difference(resp, "corpus", "code", "prose", n_units=n_units, n_permutations=2000)
        t1 = time.perf_counter()

        def evaluate(held=held):
            return {"code": lm_token_loss(net, held.texts("code")), "prose": lm_token_loss(net, held.texts("prose"))}

        res = ablation_test(net, found, evaluate, concept="code", control="prose", n_random=n_random)
        layers = sorted(found.by_layer(), key=lambda la: -len(found.by_layer()[la]))[:5]
        print(f"\n== SmolLM2 code units, split {split}: {n_units} of {resp.sizes['unit']} MLP neurons "
              f"({fraction:.1%}; {int((found.table['q'] < 0.05).sum())} with q<0.05; most in "
              f"{', '.join(f'{la} ({len(found.by_layer()[la])})' for la in layers)}); found on {len(find)} "
              f"chunks, tested on {len(held)} held-out chunks of {chunk_tokens} tokens (other files and "
              f"passages); finding {t1 - t0:.0f} s, ablations {time.perf_counter() - t1:.0f} s")
        print(res.summary.round(3).to_string(index=False))
        print(res.contrasts.round(3).to_string(index=False))


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("vision", "all"):
        vision()
    if what in ("lm", "all"):
        lm()
