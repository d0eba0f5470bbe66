"""The local mirror of public data sources, and checksum verification.

brainalign never downloads brain data behind the user's back. Each dataset lists the files it
needs (:class:`FileSpec`: relative path, SHA-256, where the public copy lives). The mirror root
is, in order:

1. the ``root=`` argument of a loader;
2. the environment variable ``BRAINALIGN_DATA``;
3. ``../shared/data`` relative to the current directory, then relative to the source checkout.

A missing file raises :class:`~brainalign.errors.DataMissingError` naming the file, the root
that was searched and the public source; a corrupted one raises
:class:`~brainalign.errors.ChecksumError` with the expected and actual checksums.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ChecksumError, DataMissingError
from ..provenance import hash_file

ENV_VAR = "BRAINALIGN_DATA"
_REL = Path("..") / "shared" / "data"


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset in the mirror.

    Attributes
    ----------
    path : path relative to the mirror root, e.g. ``"cowley2023_v4/readme.txt"``.
    sha256 : expected SHA-256 hex digest (``None`` skips verification).
    source : where the public copy lives (repository @ commit, path).
    """

    path: str
    sha256: str | None
    source: str = ""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the mirror root (see module docstring). Does not check that it exists."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    candidates = [Path.cwd() / _REL, Path(__file__).resolve().parents[2] / _REL]
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    return candidates[0]


_verified: dict[tuple[str, int, float], str] = {}


def verify(spec: FileSpec, root: str | os.PathLike | None = None, *, check: bool = True) -> Path:
    """Return the absolute path of ``spec`` in the mirror after checking it exists and matches.

    Checksums are computed once per file (cached by path, size and modification time).
    """
    base = data_root(root)
    path = base / spec.path
    if not path.is_file():
        raise DataMissingError(
            f"data file {spec.path!r} is missing from the mirror at {base}. "
            f"Get it from {spec.source or 'its public source'} and place it there, or point "
            f"{ENV_VAR} (or root=) at a folder that has it.")
    if check and spec.sha256:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime)
        digest = _verified.get(key) or hash_file(path)
        if digest != spec.sha256:
            raise ChecksumError(
                f"data file {path} is corrupted or a different version: sha256 {digest} but "
                f"expected {spec.sha256}. Re-download it from {spec.source or 'its public source'}.")
        _verified[key] = digest
    return path
