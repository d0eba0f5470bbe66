"""Exceptions raised by brainalign.

Every error names the problem and how to fix it. All derive from :class:`BrainAlignError`
so callers can catch the library's errors without catching programming errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BrainAlignError(Exception):
    """Base class of all brainalign errors."""


class UnknownNameError(BrainAlignError, KeyError):
    """A name (dataset, model, layer, benchmark, metric) is not registered."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]):
        valid = sorted(valid)
        close = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.5)
        msg = f"unknown {kind} {name!r}."
        if close:
            msg += f" Did you mean {', '.join(repr(c) for c in close)}?"
        shown = valid if len(valid) <= 40 else valid[:40] + ["..."]
        msg += f" Valid {kind}s: {', '.join(shown)}."
        super().__init__(msg)
        self.kind, self.name, self.valid = kind, name, valid

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class DataMissingError(BrainAlignError, FileNotFoundError):
    """A data file is not in the local mirror."""


class ChecksumError(BrainAlignError):
    """A data file exists but its content differs from the registered checksum."""


class StimulusMismatchError(BrainAlignError, ValueError):
    """Stimulus ids of two arrays do not match (missing, duplicated or reordered)."""


class InvalidDataError(BrainAlignError, ValueError):
    """Input data has the wrong shape, NaNs, constant columns, or similar."""
