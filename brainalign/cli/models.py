"""``brainalign models list``, ``brainalign layers MODEL``, ``brainalign record MODEL STIMULI``."""

from __future__ import annotations

import click

from ._app import echo_json, main, parse_options


@main.group("models")
def models_group() -> None:
    """Registered models (loaded offline from packaged weights)."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_list(as_json: bool) -> None:
    """List registered models with modality and weights source."""
    from ..models import MODELS

    rows = [{"name": n, **MODELS.meta(n)} for n in MODELS.names()]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<16} {r.get('modality', ''):<6} {r.get('description', '')}  "
                   f"[{r.get('source', '')}]")


@main.command("layers")
@click.argument("model")
@click.option("--all", "show_all", is_flag=True, help="List every module, not only the default layers.")
@click.option("--match", default=None, help="Only layers matching this name, glob or 're:' regex.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def layers_cmd(model: str, show_all: bool, match: str | None, as_json: bool) -> None:
    """List the canonical layer names of MODEL (default layers marked with *)."""
    from ..models import load_model, select_layers

    m = load_model(model)
    names = m.layers() if (show_all or match) else list(m.default_layers)
    if match:
        names = select_layers(names, match)
    if as_json:
        echo_json({"model": m.name, "default_layers": m.default_layers, "layers": names})
        return
    dflt = set(m.default_layers)
    for n in names:
        click.echo(("* " if n in dflt else "  ") + n)
    if not (show_all or match):
        click.echo(f"({len(names)} default layers of {len(m.layers())}; --all lists every module)")


def _load_stimuli(spec: str, options: tuple[str, ...]):  # noqa: ANN202 - StimulusSet
    """A dataset name, a folder of images, or a text file with one stimulus per line."""
    from pathlib import Path

    from ..data import DATASETS, StimulusSet, load_dataset
    from ..errors import InvalidDataError

    opts = parse_options(options)
    if spec in DATASETS:
        st = load_dataset(spec, **opts).stimuli
        if st is None:
            raise InvalidDataError(f"dataset {spec!r} has no stimuli to record")
        return st
    p = Path(spec)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in {".png", ".jpg", ".jpeg", ".bmp",
                                                                       ".tif", ".tiff", ".webp"})
        if not files:
            raise InvalidDataError(f"folder {p} holds no images (.png, .jpg, ...)")
        return StimulusSet.from_files(files, name=p.name)
    if p.is_file():
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if not lines:
            raise InvalidDataError(f"{p} holds no text lines")
        return StimulusSet.from_texts(lines, [f"line{i + 1:05d}" for i in range(len(lines))], name=p.stem)
    raise InvalidDataError(f"STIMULI {spec!r} is neither a dataset ({', '.join(DATASETS.names())}), "
                           "a folder of images, nor a text file")


@main.command("record")
@click.argument("model")
@click.argument("stimuli")
@click.option("--layers", "-l", multiple=True, help="Layer names, globs or re:regexes (repeat or comma-separate); "
              "default: the model's default layers.")
@click.option("--reduction", "-r", default="mean", show_default=True,
              help="mean, max, none, poolK, first, last, ...>srp:D, ...>pca:K")
@click.option("--out", "-o", required=True, type=click.Path(), help="Zarr store to write (resumes if interrupted).")
@click.option("--batch-size", "-b", default=32, show_default=True)
@click.option("--memory-budget", default="512MB", show_default=True, help="Memory for one output chunk.")
@click.option("--on-error", type=click.Choice(["raise", "nan"]), default="raise", show_default=True,
              help="Unreadable stimulus: fail, or record NaN (listed in provenance).")
@click.option("--option", "options", multiple=True, help="KEY=VALUE passed to the dataset loader.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace a store that holds a different recording.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def record_cmd(model: str, stimuli: str, layers: tuple[str, ...], reduction: str, out: str, batch_size: int,
               memory_budget: str, on_error: str, options: tuple[str, ...], device: str, overwrite: bool,
               no_progress: bool) -> None:
    """Record MODEL's layers on STIMULI (a dataset name, an image folder or a text file) into a
    Zarr store; read it with brainalign.load(OUT)."""
    import time

    from ..models import load_model, record

    st = _load_stimuli(stimuli, options)
    m = load_model(model, device=device)
    names = [s for item in layers for s in item.split(",") if s] or None
    t0 = time.perf_counter()
    resp = record(m, st, names, reduction=reduction, batch_size=batch_size, progress=not no_progress,
                  out=out, memory_budget=memory_budget, on_error=on_error, overwrite=overwrite)
    dt = time.perf_counter() - t0
    n_layers = len(set(resp["layer"].values.tolist()))
    click.echo(f"recorded {resp.sizes['stimulus']} stimuli x {resp.sizes['unit']} units "
               f"({n_layers} layers, reduction {reduction}) from {m.name} into {out} in {dt:.1f} s")
