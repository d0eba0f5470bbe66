"""Command-line interface: ``brainalign --help``. Each module adds its commands to ``main``."""

from . import datasets, encode, models, score, similarity, units  # noqa: F401,E402  (each import registers commands)
from ._app import main

__all__ = ["main"]
