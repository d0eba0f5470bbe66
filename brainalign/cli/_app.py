"""The ``brainalign`` command group; subcommands live in sibling modules."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..errors import BrainAlignError


class _Group(click.Group):
    """Turns brainalign errors into one clear line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrainAlignError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="brainalign")
def main() -> None:
    """brainalign: compare brains and networks (encoding, RSA, units, benchmarks)."""


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


def parse_options(options: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``("session=201025", "k=v")`` -> ``{"session": "201025", "k": "v"}`` (``--option`` flags)."""
    out: dict[str, str] = {}
    for o in options:
        if "=" not in o:
            raise BrainAlignError(f"--option takes KEY=VALUE, got {o!r}")
        k, v = o.split("=", 1)
        out[k] = v
    return out
