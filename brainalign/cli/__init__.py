"""Command-line interface: ``brainalign --help``. Each module adds its commands to ``main``."""

from ._app import main
from . import datasets  # noqa: F401,E402  (each import registers commands)

__all__ = ["main"]
