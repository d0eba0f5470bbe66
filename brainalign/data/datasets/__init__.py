"""Built-in datasets; importing this package registers them."""

from . import algonauts, brennan, cowley, kriegeskorte  # noqa: F401
