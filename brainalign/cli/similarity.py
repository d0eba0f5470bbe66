"""``brainalign rsa`` and ``brainalign compare``: the similarity suite on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import InvalidDataError
from ..responses import save_result
from ._app import echo_json, main


def _load_responses(path: str | None, dataset: str | None, key: str | None, root: str | None) -> Any:
    from ..responses import load

    if path is not None:
        return load(path)
    if dataset is None or key is None:
        raise InvalidDataError("give a responses store (--responses PATH) or --dataset NAME with --responses-key KEY")
    from ..data import load_dataset

    data = load_dataset(dataset, root=root)
    if key not in data.responses:
        raise InvalidDataError(f"dataset {dataset!r} has no responses {key!r}; it has {sorted(data.responses)}")
    return data.responses[key]


def _write(obj: Any, out: str) -> None:
    p = save_result(obj, out)
    click.echo(f"wrote {p}", err=True)


@main.command("rsa")
@click.option("--responses", "responses_path", default=None, help="Zarr store of model responses (brainalign.save / record --out).")
@click.option("--dataset", default=None, help="Brain dataset with subject RDMs, e.g. kriegeskorte2008, algonauts2019.")
@click.option("--rdms", "rdms_key", default=None, help="Which RDM stack of the dataset (e.g. hit_subjects, it, evc).")
@click.option("--responses-key", default=None, help="Use the dataset's own responses of this name instead of --responses.")
@click.option("--by", default="layer", show_default=True, help="Unit coordinate giving one RDM per value ('' for one RDM).")
@click.option("--metric", default="correlation", show_default=True, help="RDM measure (compute_rdms).")
@click.option("--standardize", is_flag=True, help="z-score units over stimuli first (Net2Brain's RDMs).")
@click.option("--method", default="spearman", show_default=True, help="RDM comparison.")
@click.option("--convention", default="mean_r", show_default=True,
              help="mean_r | mean_r2 | rsatoolbox | net2brain (how correlations are averaged, see docs/similarity.md).")
@click.option("--bootstrap", "over", type=click.Choice(["stimuli", "subjects", "both", "none"]), default="stimuli",
              show_default=True)
@click.option("--n-boot", default=1000, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", default=None, help="Write the full result (.zarr directory or .nc).")
@click.option("--root", default=None, help="Data mirror root.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rsa_cmd(responses_path: str | None, dataset: str | None, rdms_key: str | None, responses_key: str | None,
            by: str, metric: str, standardize: bool, method: str, convention: str, over: str, n_boot: int,
            seed: int, out: str | None, root: str | None, as_json: bool) -> None:
    """Score every layer of a recording against a dataset's subject RDMs, with noise ceiling and
    bootstrap confidence intervals."""
    from ..data import load_dataset
    from ..similarity import compute_rdms
    from ..similarity.stats import confidence_interval, evaluate

    if dataset is None or rdms_key is None:
        raise InvalidDataError("rsa needs --dataset NAME and --rdms KEY (the subject RDMs to score against)")
    data = load_dataset(dataset, root=root)
    if rdms_key not in data.rdms:
        raise InvalidDataError(f"dataset {dataset!r} has no RDMs {rdms_key!r}; it has {sorted(data.rdms)}")
    resp = _load_responses(responses_path, dataset if responses_key else None, responses_key, root)
    model = compute_rdms(resp, metric, by=by or None, standardize=standardize)
    res = evaluate(model, data.rdms[rdms_key], method, convention=convention,
                   over=None if over == "none" else over, n_boot=n_boot, seed=seed)
    ci = confidence_interval(res) if res.sizes["boot"] > 1 else None
    rows = []
    for m in res["model"].values:
        r = {"model": str(m), "score": float(res["score"].sel(model=m)),
             "percent_of_lower": float(res["percent_of_lower"].sel(model=m))}
        if ci is not None:
            r["ci95"] = [float(x) for x in ci.sel(model=m).values]
        rows.append(r)
    summary = {"dataset": dataset, "rdms": rdms_key, "method": res.attrs["method"],
               "convention": res.attrs["convention"], "pool": res.attrs["pool"], "preset": res.attrs["preset"],
               "bootstrap": over, "n_boot": int(res.attrs["n_boot"]), "seed": seed,
               "ceiling": [float(res["ceiling_lower"]), float(res["ceiling_upper"])], "models": rows}
    if out:
        _write(res, out)
    if as_json:
        echo_json(summary)
        return
    click.echo(f"{dataset}/{rdms_key}: {res.attrs['method']}, convention {res.attrs['convention']} "
               f"(pool {res.attrs['pool']}), noise ceiling [{summary['ceiling'][0]:.4f}, {summary['ceiling'][1]:.4f}]")
    for r in rows:
        ci_s = f"  95% CI [{r['ci95'][0]:.4f}, {r['ci95'][1]:.4f}]" if "ci95" in r else ""
        click.echo(f"{r['model']:<28} {r['score']:.4f}{ci_s}  {r['percent_of_lower']:7.1f} % of lower bound")


@main.command("compare")
@click.argument("stores", nargs=-1, required=True)
@click.option("--metric", default="cka", show_default=True,
              help="cka | procrustes | angular | cca | svcca | pwcca | mutual_knn, or rdm:<method> for RSA.")
@click.option("--by", default="layer", show_default=True, help="Unit coordinate splitting each store ('' for none).")
@click.option("--kernel", default="linear", show_default=True, help="CKA kernel (linear | rbf).")
@click.option("--unbiased", is_flag=True, help="Unbiased HSIC for CKA.")
@click.option("--out", default=None, help="Write the matrix (.zarr or .nc).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def compare_cmd(stores: tuple[str, ...], metric: str, by: str, kernel: str, unbiased: bool, out: str | None,
                as_json: bool) -> None:
    """All pairs of representations in one or more response STORES (e.g. every layer of two models)."""
    from ..responses import load
    from ..similarity import compare_rdms, compare_representations, compute_rdms

    reps: dict[str, Any] = {}
    for i, s in enumerate(stores):
        name = Path(s).name.removesuffix(".zarr")
        reps[name if name not in reps else f"{name}_{i}"] = load(s)
    if metric.startswith("rdm:"):
        rdms = compute_rdms(reps, by=by or None)
        mat = compare_rdms(rdms, rdms, metric.split(":", 1)[1]).rename(rdm_a="rep_a", rdm_b="rep_b")
    else:
        opts: dict[str, Any] = {"kernel": kernel, "unbiased": unbiased} if metric == "cka" else {}
        mat = compare_representations(reps if len(reps) > 1 else next(iter(reps.values())), metric,
                                      by=by or None, **opts)
    if out:
        _write(mat, out)
    names = [str(x) for x in mat["rep_a"].values]
    if as_json:
        echo_json({"metric": metric, "names": names, "matrix": np.round(mat.values, 6).tolist()})
        return
    w = max(len(n) for n in names)
    click.echo(" " * (w + 1) + " ".join(f"{i:>7d}" for i in range(len(names))))
    for i, n in enumerate(names):
        click.echo(f"{n:<{w}} " + " ".join(f"{v:7.3f}" for v in mat.values[i]))
