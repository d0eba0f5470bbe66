"""``brainalign units find|describe|ablate``: what single units encode, and what silencing them does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import InvalidDataError
from ..responses import save_result
from ._app import echo_json, main, parse_options


@main.group()
def units() -> None:
    """Unit selectivity, descriptions in words, and causal ablations (see docs/units.md)."""


def _source(store: str | None, dataset: str | None, key: str | None, options: tuple[str, ...],
            model: str | None, layers: str | None, root: str | None) -> tuple[Any, Any]:
    """(responses, stimuli or None) from a Zarr store, a dataset's responses, or a model recording."""
    from ..responses import load

    if store:
        if dataset or model:
            raise InvalidDataError("give either a STORE or --dataset/--model, not both")
        return load(store), None
    if not dataset:
        raise InvalidDataError("give a responses STORE, or --dataset NAME (brain units), or --model NAME "
                               "--dataset NAME (model units recorded on the dataset's stimuli)")
    from ..data import load_dataset

    data = load_dataset(dataset, root=root, **parse_options(options))
    if model:
        from ..models import record

        if data.stimuli is None:
            raise InvalidDataError(f"dataset {dataset!r} has no stimuli to show the model")
        resp = record(model, data.stimuli, layers.split(",") if layers else None, reduction="mean",
                      progress=True)
        return resp, data.stimuli
    if not data.responses:
        raise InvalidDataError(f"dataset {dataset!r} has no responses arrays (only {data.summary()})")
    k = key or next(iter(data.responses))
    if k not in data.responses:
        raise InvalidDataError(f"dataset {dataset!r} has no responses {k!r}; keys: {sorted(data.responses)}")
    return data.responses[k], data.stimuli


def _labels(resp: Any, stimuli: Any, labels: str, bins: int) -> Any:
    """A coordinate / metadata column, or an image property binned into quantiles."""
    from .. import units as U

    if labels in U.PROPERTIES:
        if stimuli is None or stimuli.kind != "image":
            raise InvalidDataError(f"--labels {labels} is an image property; it needs image stimuli "
                                   "(use --dataset)")
        props = U.image_properties(stimuli.subset([str(s) for s in resp["stimulus"].values]))
        return U.quantile_labels(props[labels], bins)
    if labels in resp.coords:
        return labels
    if stimuli is not None and labels in stimuli.metadata.columns:
        return stimuli.metadata[labels]
    return labels  # selectivity() raises naming the available ones


@units.command("find")
@click.argument("store", required=False)
@click.option("--dataset", help="dataset name: its responses (brain units) or, with --model, its stimuli")
@click.option("--key", help="which responses array of the dataset (default the first)")
@click.option("--option", "options", multiple=True, help="dataset loader option KEY=VALUE (repeatable)")
@click.option("--model", help="record this model on the dataset's stimuli (model units)")
@click.option("--layers", help="comma-separated layers to record (with --model)")
@click.option("--labels", "labels", required=True,
              help="stimulus coordinate / metadata column, or an image property (luminance, contrast, "
                   "saturation, edge_density) binned into --bins quantiles")
@click.option("--bins", default=2, show_default=True, help="quantile bins for an image property")
@click.option("--n-permutations", default=1000, show_default=True)
@click.option("--alternative", default="two-sided", show_default=True,
              type=click.Choice(["two-sided", "greater", "less"]))
@click.option("--top", default=10, show_default=True, help="units listed per class")
@click.option("--q-max", type=float, default=None, help="list only units with q <= this")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(), help="folder for selectivity.zarr and selective_units.csv")
@click.option("--report", type=click.Path(), help="write an HTML report page here")
@click.option("--root", help="data mirror root")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def find(store: str | None, dataset: str | None, key: str | None, options: tuple[str, ...], model: str | None,
         layers: str | None, labels: str, bins: int, n_permutations: int, alternative: str, top: int,
         q_max: float | None, seed: int, out: str | None, report: str | None, root: str | None,
         as_json: bool) -> None:
    """Selectivity of every unit over labelled stimuli (t, d', SI, F, permutation p, FDR)."""
    import warnings

    from .. import units as U

    resp, stimuli = _source(store, dataset, key, options, model, layers, root)
    lab = _labels(resp, stimuli, labels, bins)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = U.selectivity(resp, lab, n_permutations=n_permutations, alternative=alternative, seed=seed,
                            stimuli_metadata=None if stimuli is None else stimuli.metadata)
    notes = [str(w.message) for w in caught]
    table = U.selective_units(res, n=top, q_max=q_max)
    n_sig = {str(c): int((res["q"].sel(label=c) <= 0.05).sum()) for c in res["label"].values}
    if out:
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        save_result(res, o / "selectivity.zarr")
        U.selective_units(res, n=None).to_csv(o / "selective_units.csv", index=False)
    if report:
        rep = U.units_report(f"Unit selectivity: {labels}", responses=resp, labels=lab, result=res,
                             stimuli=stimuli, n=min(top, 6), notes=notes)
        rep.write(report)
    if as_json:
        echo_json({"n_units": int(res.sizes["unit"]), "classes": [str(c) for c in res["label"].values],
                   "n_per_class": res["n_stimuli"].values.tolist(), "significant_q05": n_sig,
                   "notes": notes, "top": table.to_dict(orient="records")})
        return
    for n in notes:
        click.echo(f"note: {n}", err=True)
    click.echo(f"{res.sizes['unit']} units, classes {dict(zip(map(str, res['label'].values), res['n_stimuli'].values.tolist(), strict=True))}; "
               f"units with q<=0.05 per class: {n_sig}")
    cols = [c for c in ("label", "rank", "unit", "layer", "channel", "t", "dprime", "si", "p_perm", "q")
            if c in table.columns]
    click.echo(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))


@units.command("describe")
@click.argument("store", required=False)
@click.option("--dataset", help="dataset name (brain units, or stimuli with --model)")
@click.option("--key", help="which responses array of the dataset")
@click.option("--option", "options", multiple=True, help="dataset loader option KEY=VALUE")
@click.option("--model", help="record this model on the dataset's stimuli")
@click.option("--layers", help="comma-separated layers (with --model)")
@click.option("--texts", required=True, help="stimulus coordinate / metadata column holding one text per stimulus")
@click.option("--vocab", help="comma-separated terms, or @FILE with one term per line (default: the texts)")
@click.option("--units", "unit_ids", help="comma-separated unit ids to describe (default: all)")
@click.option("--method", default="weighted", show_default=True,
              type=click.Choice(["weighted", "correlation", "topk"]))
@click.option("--n-permutations", default=200, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--report", type=click.Path(), help="write an HTML report page here")
@click.option("--root", help="data mirror root")
@click.option("--json", "as_json", is_flag=True)
def describe(store: str | None, dataset: str | None, key: str | None, options: tuple[str, ...],
             model: str | None, layers: str | None, texts: str, vocab: str | None, unit_ids: str | None,
             method: str, n_permutations: int, seed: int, report: str | None, root: str | None,
             as_json: bool) -> None:
    """Describe units in words: rank terms by MiniLM similarity to each unit's preferred stimuli."""
    from .. import units as U

    resp, stimuli = _source(store, dataset, key, options, model, layers, root)
    terms = None
    if vocab:
        if vocab.startswith("@"):
            terms = [t.strip() for t in Path(vocab[1:]).read_text(encoding="utf-8").splitlines() if t.strip()]
        else:
            terms = [t.strip() for t in vocab.split(",") if t.strip()]
    txt: Any = texts
    if texts not in resp.coords and stimuli is not None and texts in stimuli.metadata.columns:
        txt = stimuli.metadata[texts]
    d = U.describe_units(resp, txt, terms, units=unit_ids.split(",") if unit_ids else None, method=method,
                         n_permutations=n_permutations, seed=seed)
    if report:
        rep = U.Report("Unit descriptions")
        rep.add_text(f"{len(d.table)} units described with {d.settings['embedding']} ({method}); "
                     f"{d.settings['n_terms']} terms.")
        rep.add_table(d.table)
        rep.add_json(d.settings)
        rep.write(report)
    if as_json:
        echo_json(d.table.to_dict(orient="records"))
        return
    click.echo(d.table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


@units.command("ablate")
@click.option("--model", required=True, help="model name (brainalign models list)")
@click.option("--dataset", help="image dataset whose stimuli metadata hold --labels (vision models)")
@click.option("--labels", help="metadata column (vision), e.g. face or animate")
@click.option("--concept", default="True", show_default=True, help="value of --labels to find units for")
@click.option("--control", default=None, help="value of --labels used as control (default: all others)")
@click.option("--corpora", type=click.Choice(["code-prose"]), help="language models: Python stdlib source "
              "vs the Alice chapter")
@click.option("--layers", help="layers to search and ablate (vision default features.18; language "
              r"default re:layers\.\d+\.mlp\.act_fn)")
@click.option("--n-units", type=int, default=None, help="units to ablate (vision default 64; language "
              "default 1%% of the neurons)")
@click.option("--n-random", default=5, show_default=True, help="random unit sets (seeds)")
@click.option("--value", default="zero", show_default=True, type=click.Choice(["zero", "mean"]))
@click.option("--fold", default=0, show_default=True, type=click.IntRange(0, 1),
              help="which half finds the units (the other is held out)")
@click.option("--n-chunks", default=40, show_default=True, help="language: chunks per corpus")
@click.option("--seed", default=0, show_default=True)
@click.option("--report", type=click.Path(), help="write an HTML report page here")
@click.option("--root", help="data mirror root")
@click.option("--json", "as_json", is_flag=True)
def ablate(model: str, dataset: str | None, labels: str | None, concept: str, control: str | None,
           corpora: str | None, layers: str | None, n_units: int | None, n_random: int, value: str, fold: int,
           n_chunks: int, seed: int, report: str | None, root: str | None, as_json: bool) -> None:
    """Find concept units on half the data, silence them, and compare with random units."""
    from .. import units as U
    from ..models import load_model

    net = load_model(model)
    if net.modality == "image":
        if not dataset or not labels:
            raise InvalidDataError("an image model needs --dataset and --labels (e.g. --dataset "
                                   "kriegeskorte2008 --labels face)")
        from ..data import load_dataset

        data = load_dataset(dataset, root=root)
        if data.stimuli is None or data.stimuli.kind != "image":
            raise InvalidDataError(f"dataset {dataset!r} has no image stimuli")
        found, res = U.vision_ablation(net, data.stimuli, labels, concept, control,
                                       layers=(layers.split(",") if layers else "features.18"),
                                       n_units=n_units or 64, n_random=n_random, value=value, fold=fold,
                                       seed=seed)
    else:
        if corpora != "code-prose":
            raise InvalidDataError("a language model needs --corpora code-prose")
        kw: dict[str, Any] = {"layers": layers} if layers else {}
        found, res = U.code_prose_ablation(net, n_units=n_units, n_random=n_random, value=value, fold=fold,
                                           n_chunks=n_chunks, seed=seed, **kw)
    if report:
        rep = U.units_report(f"Ablation of {res.settings['concept']} units in {model}", ablation=res,
                             found=found)
        rep.write(report)
    if as_json:
        echo_json({"summary": res.summary.to_dict(orient="records"),
                   "contrasts": res.contrasts.to_dict(orient="records"),
                   "found": found.table.head(20).to_dict(orient="records"),
                   "settings": {k: v for k, v in res.settings.items() if k not in ("random_units", "units")}})
        return
    click.echo(f"{res.settings['n_units']} units ablated ({value}); {n_random} random sets; "
               f"metric: {res.settings['metric']}")
    click.echo(res.summary.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    click.echo(res.contrasts.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

