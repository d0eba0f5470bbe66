"""``brainalign datasets list|show``."""

from __future__ import annotations

import click

from ..data import DATASETS, dataset_info, load_dataset
from ._app import echo_json, main


@main.group()
def datasets() -> None:
    """Registered brain datasets (read from the local mirror)."""


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def list_(as_json: bool) -> None:
    """Name, modality and title of every dataset."""
    rows = [dataset_info(n) for n in DATASETS.names()]
    if as_json:
        echo_json([{"name": i.name, "title": i.title, "modality": i.modality} for i in rows])
        return
    for i in rows:
        click.echo(f"{i.name:18s} {i.title}")


@datasets.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--root", default=None, help="mirror root (default: $BRAINALIGN_DATA or ../shared/data)")
def show(name: str, as_json: bool, root: str | None) -> None:
    """Describe NAME: citation, licence, files, and the shapes of what it loads."""
    info = dataset_info(name)
    data = load_dataset(name, root=root)
    out = {"name": info.name, "title": info.title, "modality": info.modality, "citation": info.citation,
           "licence": info.licence, "source": info.source, "description": info.description,
           "options": info.options, "files": [f.path for f in info.files], "loaded": data.summary()}
    if as_json:
        echo_json(out)
        return
    for k, v in out.items():
        click.echo(f"{k}: {v}")
