"""Built-in datasets; importing this package registers them."""

from . import algonauts, cowley, kriegeskorte  # noqa: F401
