"""``brainalign datasets list|show``."""

from __future__ import annotations

import textwrap

import click

from ..data import DATASETS, data_root, dataset_info, load_dataset
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


def _disk(info, root: str | None) -> dict:
    """Which of the dataset's files are in the mirror, and their size on disk."""
    base = data_root(root)
    present, missing, size = 0, [], 0
    for f in info.files:
        p = base / f.path
        if p.is_file():
            present += 1
            size += p.stat().st_size
        else:
            missing.append(f.path)
    return {"root": str(base), "n_files": len(info.files), "present": present, "bytes": size,
            "missing": missing}


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@datasets.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--root", default=None, help="mirror root (default: $BRAINALIGN_DATA or ../shared/data)")
@click.option("--files", "list_files", is_flag=True, help="list every file with its SHA-256")
def show(name: str, as_json: bool, root: str | None, list_files: bool) -> None:
    """Describe NAME: citation, licence, files on disk, and the shapes of what it loads.

    The default options are loaded (checksums verified); if files are missing from the mirror,
    the description is printed with the list of missing files and nothing is loaded.
    """
    info = dataset_info(name)
    disk = _disk(info, root)
    loaded = load_dataset(name, root=root).summary() if not disk["missing"] else None
    out = {"name": info.name, "title": info.title, "modality": info.modality, "citation": info.citation,
           "licence": info.licence, "source": info.source, "description": info.description,
           "options": info.options, "files": [f.path for f in info.files], "disk": disk,
           "loaded": loaded}
    if as_json:
        echo_json(out)
        return
    for k in ("name", "title", "modality", "citation", "licence", "source"):
        click.echo(f"{k}: {out[k]}")
    click.echo("description:")
    click.echo(textwrap.fill(info.description, width=100, initial_indent="  ", subsequent_indent="  "))
    if info.options:
        click.echo("options (load_dataset(name, **options)):")
        for k, v in info.options.items():
            click.echo(f"  {k}: {v}")
    click.echo(f"files: {disk['present']} of {disk['n_files']} in {disk['root']}, "
               f"{_mb(disk['bytes'])} on disk")
    if list_files:
        for f in info.files:
            click.echo(f"  {f.sha256}  {f.path}")
    if disk["missing"]:
        shown = disk["missing"][:10]
        more = len(disk["missing"]) - len(shown)
        click.echo("missing: " + ", ".join(shown) + (f" ... and {more} more" if more > 0 else ""))
        click.echo(f"Get them from {info.source} (or point $BRAINALIGN_DATA / --root at a mirror).")
        return
    click.echo("loaded (default options):")
    assert loaded is not None
    if loaded["stimuli"]:
        click.echo(f"  stimuli: {loaded['stimuli']['n']} {loaded['stimuli']['kind']}s")
    for kind in ("responses", "rdms"):
        for k, sizes in loaded[kind].items():
            click.echo(f"  {kind}[{k!r}]: " + " x ".join(f"{d}={n}" for d, n in sizes.items()))
    if loaded["extra"]:
        click.echo("  extra: " + ", ".join(loaded["extra"]))
