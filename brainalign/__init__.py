"""brainalign: put the neurons of brains and artificial networks side by side.

The central type is a *responses* array (:mod:`brainalign.responses`): an
:class:`xarray.DataArray` of units' responses to stimuli with labelled coordinates.
"""

from importlib.metadata import PackageNotFoundError, version

from .responses import align, load, make_rdms, make_responses, save

try:
    __version__ = version("brainalign")
except PackageNotFoundError:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["align", "load", "make_rdms", "make_responses", "save", "__version__"]
