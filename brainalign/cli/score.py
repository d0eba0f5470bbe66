"""``brainalign score``, ``benchmarks``, ``leaderboard``, ``report`` and ``demo``."""

from __future__ import annotations

import click

from ..benchmarks import BENCHMARKS, ResultsDB, ScoreResult, get_benchmark, results_dir, score_model
from ._app import echo_json, main

DEMO_MODEL = "mobilenet_v2"
DEMO_BENCHMARKS = ("cowley2023.v4.ridge", "kriegeskorte2008.it.rsa")


def _print_result(r: ScoreResult) -> None:
    click.echo(f"\n{r.model} on {r.benchmark} (v{r.benchmark_version})")
    click.echo(f"  metric: {r.metric}")
    tnames = r.target_names
    head = "".join(f"{t:>9s}" for t in tnames)
    click.echo(f"  {'layer':<16s}{'score':>9s}{head}")
    for name, s in r.layers.items():
        mark = "  <- best" if name == r.best_layer else ""
        cells = "".join(f"{r.targets[name][t]:9.3f}" for t in tnames)
        click.echo(f"  {name:<16s}{s:9.3f}{cells}{mark}")
    for tname, c in r.ceiling.items():
        if isinstance(c, dict) and "lower" in c:
            click.echo(f"  {tname} noise ceiling: lower {c['lower']:.3f}, upper {c['upper']:.3f}")
    click.echo(f"  best layer: {r.best_layer}  score: {r.score:.3f}  ({r.elapsed_s:.0f} s)")


def _json(r: ScoreResult) -> dict:
    d = r.to_dict()
    d["version"] = r.benchmark_version
    return d


@main.command()
@click.argument("model")
@click.argument("benchmark")
@click.option("--layers", default=None, help="comma-separated layer names or globs (default: the model's default layers)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda:0")
@click.option("--batch-size", default=32, show_default=True, type=int)
@click.option("--results", "results", default=None, help="results directory (default $BRAINALIGN_RESULTS or ./brainalign-results)")
@click.option("--store/--no-store", default=True, show_default=True, help="append the result to the results database")
@click.option("--cache", default=None, help="folder of a content-hashed recording cache (repeat runs skip the forward passes)")
@click.option("--quiet", is_flag=True, help="no progress bars")
def score(model: str, benchmark: str, layers: str | None, as_json: bool, seed: int, device: str,
          batch_size: int, results: str | None, store: bool, cache: str | None, quiet: bool) -> None:
    """Record MODEL on BENCHMARK's stimuli and score every layer.

    \b
    Example:
      brainalign score mobilenet_v2 cowley2023.v4.ridge --json
    """
    get_benchmark(benchmark)  # fail fast on an unknown name, before loading a model
    layer_list = [s.strip() for s in layers.split(",")] if layers else None
    r = score_model(model, benchmark, layers=layer_list, device=device, batch_size=batch_size,
                    seed=seed, progress=not quiet, cache=cache,
                    store=(str(results_dir(results)) if store else False),
                    log=None if (as_json or quiet) else lambda m: click.echo(m, err=True))
    if as_json:
        echo_json(_json(r))
    else:
        _print_result(r)


@main.group()
def benchmarks() -> None:
    """Registered benchmarks (versioned data + metric + ceiling + split)."""


@benchmarks.command("list")
@click.option("--json", "as_json", is_flag=True)
def benchmarks_list(as_json: bool) -> None:
    """Name, version, kind and dataset of every benchmark."""
    rows = [get_benchmark(n).describe() for n in BENCHMARKS.names()]
    if as_json:
        echo_json(rows)
        return
    for d in rows:
        click.echo(f"{d['name']:28s} v{d['version']}  {d['kind']:9s} {d['region']:4s} {d['dataset']}")


@benchmarks.command("show")
@click.argument("name")
def benchmarks_show(name: str) -> None:
    """Everything about benchmark NAME: metric, ceiling, split, citation."""
    for k, v in get_benchmark(name).describe().items():
        click.echo(f"{k}: {v}")


@main.command()
@click.option("--results", default=None, help="results directory")
@click.option("--json", "as_json", is_flag=True)
def leaderboard(results: str | None, as_json: bool) -> None:
    """Models ranked per benchmark (newest run of each model)."""
    rows = ResultsDB(results).latest()
    if not rows:
        raise click.ClickException(f"no results in {results_dir(results)}; run `brainalign score` first")
    rows.sort(key=lambda r: (r.benchmark, -r.score))
    if as_json:
        echo_json([{"benchmark": r.benchmark, "version": r.benchmark_version, "model": r.model,
                    "score": r.score, "best_layer": r.best_layer} for r in rows])
        return
    bench = None
    for r in rows:
        if r.benchmark != bench:
            bench = r.benchmark
            click.echo(f"\n{bench} (v{r.benchmark_version})")
        click.echo(f"  {r.model:24s} {r.score:7.3f}  {r.best_layer}")


@main.command()
@click.option("--results", default=None, help="results directory")
@click.option("--out", default=None, help="HTML file or directory (default: <results>/report.html)")
def report(results: str | None, out: str | None) -> None:
    """Write an HTML report of the newest results (layer profiles, tables, provenance)."""
    from ..report import write_report

    rows = ResultsDB(results).latest()
    if not rows:
        raise click.ClickException(f"no results in {results_dir(results)}; run `brainalign score` first")
    path = write_report(rows, out or results_dir(results))
    click.echo(f"report written to {path}")


@main.command()
@click.option("--model", default=DEMO_MODEL, show_default=True)
@click.option("--results", default=None, help="results directory (default ./brainalign-results)")
@click.option("--quiet", is_flag=True, help="no progress bars")
def demo(model: str, results: str | None, quiet: bool) -> None:
    """The main job: score MODEL on the V4 (encoding) and IT (RSA) benchmarks, write the report."""
    from ..report import write_report

    out = results_dir(results)
    done = []
    for bench in DEMO_BENCHMARKS:
        click.echo(f"== {model} on {bench}", err=True)
        r = score_model(model, bench, progress=not quiet, store=str(out),
                        log=lambda m: click.echo(m, err=True))
        _print_result(r)
        done.append(r)
    path = write_report(done, out, title=f"brainalign: {model}")
    click.echo(f"\nreport written to {path}")


@main.command()
@click.option("--models", required=True, help="comma-separated model names")
@click.option("--benchmarks", "benches", required=True, help="comma-separated benchmark names")
@click.option("--layers", default=None, help="comma-separated layers for every model (default: each model's defaults)")
@click.option("--results", default=None, help="results directory")
@click.option("--scheduler", default=None, help="address of a running Dask distributed scheduler (tcp://host:port)")
@click.option("--workers", default=1, show_default=True, type=int, help="local Dask worker processes (1: run in this process)")
@click.option("--resume/--no-resume", default=True, show_default=True, help="skip results already stored")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="cpu", show_default=True)
def sweep(models: str, benches: str, layers: str | None, results: str | None, scheduler: str | None,
          workers: int, resume: bool, seed: int, device: str) -> None:
    """Score every model on every benchmark (Dask), storing each result as it completes.

    \b
    Example:
      brainalign sweep --models mobilenet_v2,craft_vgg16_bn --benchmarks kriegeskorte2008.it.rsa --workers 2
      brainalign sweep --models mobilenet_v2 --benchmarks cowley2023.v4.ridge --scheduler tcp://scheduler-host:8786
    A killed sweep started again runs only what is missing (--no-resume to redo everything).
    """
    from ..benchmarks.sweep import sweep as run_sweep

    split = lambda s: [x.strip() for x in s.split(",") if x.strip()]  # noqa: E731
    done = run_sweep(split(models), split(benches), layers=split(layers) if layers else None,
                     results=results, scheduler=scheduler, workers=workers, resume=resume,
                     seed=seed, device=device, log=lambda m: click.echo(m, err=True))
    for r in done:
        click.echo(f"{r.model:24s} {r.benchmark:28s} {r.score:7.3f}  {r.best_layer}")
    click.echo(f"{len(done)} run, results in {results_dir(results)}")
