"""``brainalign models list``, ``brainalign layers MODEL``, ``brainalign record MODEL STIMULI``."""

from __future__ import annotations

import click

from ._app import echo_json, main


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
