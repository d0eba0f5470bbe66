"""Layer selection by canonical name, glob or regular expression."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Sequence

from ..errors import UnknownNameError

_GLOB_CHARS = set("*?[")


def select_layers(available: Sequence[str], spec: str | Sequence[str] | None,
                  default: Sequence[str] | None = None) -> list[str]:
    """Resolve a layer specification to canonical layer names.

    Parameters
    ----------
    available : all canonical layer names of a model, in model order.
    spec : ``None`` (the ``default`` layers), ``"default"``, ``"all"``, one name or pattern, or
        a list of them. Each item is
        - an exact canonical name, e.g. ``"features.3"``;
        - a glob if it contains ``*``, ``?`` or ``[``, e.g. ``"features.*"`` (``*`` also
          crosses dots: ``"features.*"`` matches ``features.3.conv.0``; use
          ``"re:features\\.\\d+"`` for blocks only);
        - a regular expression with the prefix ``"re:"``, matched against the whole name.
    default : the layers returned for ``None`` / ``"default"``.

    Returns
    -------
    Unique names: exact names in the order given, pattern matches in model order.

    Raises
    ------
    UnknownNameError : a name is unknown or a pattern matches nothing; the message lists close
        matches.
    """
    avail = list(available)
    if spec is None or (isinstance(spec, str) and spec == "default"):
        return list(default if default is not None else avail)
    if isinstance(spec, str):
        spec = [s.strip() for s in spec.split(",")] if "," in spec and not spec.startswith("re:") else [spec]
    out: list[str] = []
    seen: set[str] = set()
    aset = set(avail)
    for item in spec:
        item = str(item)
        if item == "all":
            matches = avail
        elif item == "default":
            matches = list(default or [])
        elif item.startswith("re:"):
            try:
                rx = re.compile(item[3:])
            except re.error as exc:
                raise UnknownNameError("layer", item, avail) from exc
            matches = [a for a in avail if rx.fullmatch(a)]
        elif _GLOB_CHARS & set(item):
            matches = [a for a in avail if fnmatch.fnmatchcase(a, item)]
        elif item in aset:
            matches = [item]
        else:
            raise UnknownNameError("layer", item, avail)
        if not matches:
            err = UnknownNameError("layer", item, avail)
            stem = re.sub(r"[*?\[\]^$\\]|re:", "", item)
            close = difflib.get_close_matches(stem, avail, n=3, cutoff=0.4)
            hint = f" Close names: {', '.join(close)}." if close else ""
            err.args = (f"layer pattern {item!r} matches no layer of this model.{hint} "
                        f"Run `brainalign layers MODEL` to list them.",)
            raise err
        for m in matches:
            if m not in seen:
                seen.add(m)
                out.append(m)
    return out
