"""Benchmark of brainalign.models.record (issue 3).

Measures, in one process per part, on the same inputs:

1. overhead: recording all 19 blocks + classifier of MobileNetV2 (spatial mean) on the Cowley
   V4 images vs plain batched forward passes of the same model (same preprocessing, same
   batches, no hooks); agreement of the recorded logits with the plain outputs;
2. the common tools' way: one image per forward pass and one .npy file per image (as
   Net2Brain's extract() does), as a time ratio;
3. memory: peak RSS of a streamed recording (out= Zarr) of N and 10 N stimuli, each in a fresh
   subprocess (MobileNetV2 at 64 px input to keep the run short: the recorder's memory does
   not depend on the image size);
4. throughput: images/s (MobileNetV2, CRAFT VGG16-BN) and tokens/s (MiniLM, SmolLM2).

Run:  .venv/bin/python benchmarks/bench_record.py [--n 1200] [--mem-n 1000] [--skip-smollm2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _cowley(n: int):
    from brainalign.data import load_dataset

    st = load_dataset("cowley2023", session="201025").stimuli
    return st.subset(st.ids[: min(n, len(st))])


def overhead(n: int, batch: int) -> dict:
    import torch

    from brainalign.models import load_model, record

    net = load_model("mobilenet_v2")
    st = _cowley(n)
    items = [st[i] for i in range(len(st))]  # decode once, outside both timings
    from brainalign.data import StimulusSet

    mem = StimulusSet(st.ids, "image", items.__getitem__, name="bench", content_key="bench")
    record(net, mem.subset(mem.ids[:batch]), progress=False)  # warm-up
    # plain batched forward passes: same preprocessing and batches, no hooks
    t0 = time.perf_counter()
    outs = []
    with torch.inference_mode():
        for lo in range(0, len(items), batch):
            outs.append(net.forward(net.prepare(items[lo:lo + batch])))
    t_plain = time.perf_counter() - t0
    logits = torch.cat(outs).numpy()
    t0 = time.perf_counter()
    resp = record(net, mem, batch_size=batch, progress=False)
    t_rec = time.perf_counter() - t0
    rec_logits = resp.sel(unit=resp.layer == "classifier").values
    # one image per forward pass, one file per image
    k = min(len(items), 100)
    with tempfile.TemporaryDirectory() as d:
        feats: dict[str, np.ndarray] = {}
        hooks = [net.layer_module(la).register_forward_hook(
            lambda m, i, o, la=la: feats.__setitem__(la, o.detach().float().mean(dim=(2, 3)).numpy()
                                                     if o.ndim == 4 else o.detach().numpy()))
            for la in net.default_layers]
        t0 = time.perf_counter()
        with torch.inference_mode():
            for i in range(k):
                net.forward(net.prepare([items[i]]))
                np.savez(Path(d) / (st.ids[i].replace("/", "_") + ".npz"), **feats)
        t_one = (time.perf_counter() - t0) / k * len(items)
        for h in hooks:
            h.remove()
    return {"n_images": len(items), "batch_size": batch, "units": int(resp.sizes["unit"]),
            "plain_forward_s": round(t_plain, 2), "record_s": round(t_rec, 2),
            "overhead_pct": round(100 * (t_rec / t_plain - 1), 1),
            "record_images_per_s": round(len(items) / t_rec, 1),
            "one_per_pass_one_file_s_extrapolated": round(t_one, 2),
            "ratio_one_per_pass_vs_record": round(t_one / t_rec, 2),
            "max_abs_diff_logits": float(np.abs(rec_logits - logits).max())}


MEM_CHILD = """
import sys, resource, tempfile, numpy as np
from brainalign.data import load_dataset, StimulusSet
from brainalign.models import load_model, record
n = int(sys.argv[1])
st = load_dataset("cowley2023", session="201025").stimuli
base = [np.asarray(st[i].convert("RGB").resize((64, 64))) for i in range(64)]
imgs = StimulusSet(ids=[f"s{i:06d}" for i in range(n)], kind="image",
                   loader=lambda i: __import__("PIL.Image").Image.fromarray(base[i % 64]),
                   name="mem", content_key=str(n))
net = load_model("mobilenet_v2", resize=64, crop=64)
with tempfile.TemporaryDirectory() as d:
    r = record(net, imgs, batch_size=32, out=d + "/r.zarr", memory_budget="8MB", progress=False)
    assert r.shape[0] == n
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def memory(n: int) -> dict:
    out = {}
    for m in (n, 10 * n):
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", MEM_CHILD, str(m)], capture_output=True, text=True, check=True)
        out[m] = {"peak_rss_mb": round(int(res.stdout.strip().splitlines()[-1]) / 1024, 1),
                  "seconds": round(time.perf_counter() - t0, 1)}
    a, b = out[n]["peak_rss_mb"], out[10 * n]["peak_rss_mb"]
    return {"runs": out, "peak_ratio_10n_vs_n": round(b / a, 3)}


def throughput(skip_smollm2: bool) -> dict:
    from brainalign.data import StimulusSet, load_dataset
    from brainalign.models import load_model, record, record_words

    res = {}
    imgs = _cowley(64)
    for name in ("mobilenet_v2", "craft_vgg16_bn"):
        net = load_model(name)
        record(net, imgs.subset(imgs.ids[:8]), batch_size=8, progress=False)
        t0 = time.perf_counter()
        record(net, imgs, batch_size=32, progress=False)
        res[name] = {"images_per_s": round(len(imgs) / (time.perf_counter() - t0), 1)}
    alice = load_dataset("brennan2016").stimuli
    words = [alice[i] for i in range(len(alice))]
    sents = [" ".join(words[i:i + 12]) for i in range(0, 12 * 64, 12)]
    st = StimulusSet.from_texts(sents)
    net = load_model("minilm")
    n_tok = sum(net.token_counts(sents))
    t0 = time.perf_counter()
    record(net, st, batch_size=32, progress=False)
    res["minilm"] = {"tokens_per_s": round(n_tok / (time.perf_counter() - t0), 1)}
    if not skip_smollm2:
        net = load_model("smollm2")
        w = alice.subset(alice.ids[:500])
        n_tok = len(net.tokenizer(" ".join(words[:500]))["input_ids"])
        t0 = time.perf_counter()
        record_words(net, w, context=256, progress=False)
        res["smollm2_running_text"] = {"tokens_per_s": round(n_tok / (time.perf_counter() - t0), 1),
                                       "context": 256, "stride": 128}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1200, help="Cowley images for the overhead part")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--mem-n", type=int, default=1000)
    ap.add_argument("--skip-smollm2", action="store_true")
    ap.add_argument("--parts", default="overhead,memory,throughput")
    a = ap.parse_args()
    report = {}
    parts = a.parts.split(",")
    if "overhead" in parts:
        report["overhead"] = overhead(a.n, a.batch)
        print(json.dumps({"overhead": report["overhead"]}), flush=True)
    if "memory" in parts:
        report["memory"] = memory(a.mem_n)
        print(json.dumps({"memory": report["memory"]}), flush=True)
    if "throughput" in parts:
        report["throughput"] = throughput(a.skip_smollm2)
        print(json.dumps({"throughput": report["throughput"]}), flush=True)
    report["peak_rss_mb_this_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
