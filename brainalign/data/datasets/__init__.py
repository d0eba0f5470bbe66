"""Built-in datasets; importing this package registers them."""

from . import algonauts, brennan, cowley, flavell, kriegeskorte  # noqa: F401
