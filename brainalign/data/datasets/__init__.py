"""Built-in datasets; importing this package registers them."""

from . import cowley, kriegeskorte  # noqa: F401
