"""Stimulus sets: ordered, uniquely identified images or texts with metadata.

A :class:`StimulusSet` holds ids, a kind (``"image"`` or ``"text"``), per-stimulus metadata (a
:class:`pandas.DataFrame` indexed by id) and a loader for each item, so images are read lazily
(from files, a zip archive, or arrays in memory).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidDataError, StimulusMismatchError
from ..provenance import hash_strings


@dataclass
class StimulusSet:
    """An ordered set of stimuli.

    Attributes
    ----------
    ids : unique stimulus ids (str), in order.
    kind : ``"image"`` or ``"text"``.
    loader : ``loader(i) -> PIL.Image.Image | str`` returns item ``i``.
    metadata : one row per stimulus, indexed by id.
    name : a short name used in provenance and cache keys.
    content_key : identifies the content (e.g. the archive's checksum); part of cache keys.
    """

    ids: list[str]
    kind: str
    loader: Callable[[int], Any]
    metadata: pd.DataFrame = field(default_factory=pd.DataFrame)
    name: str = "stimuli"
    content_key: str = ""

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        if not self.ids:
            raise InvalidDataError(f"stimulus set {self.name!r} is empty")
        if len(set(self.ids)) != len(self.ids):
            seen: set[str] = set()
            dup = [i for i in self.ids if i in seen or seen.add(i)]
            raise StimulusMismatchError(f"stimulus set {self.name!r} has duplicated ids: {dup[:8]}")
        if self.kind not in ("image", "text"):
            raise InvalidDataError(f"kind must be 'image' or 'text', got {self.kind!r}")
        if self.metadata.empty:
            self.metadata = pd.DataFrame(index=pd.Index(self.ids, name="stimulus"))
        else:
            self.metadata = self.metadata.copy()
            self.metadata.index = pd.Index([str(i) for i in self.metadata.index], name="stimulus")
            if list(self.metadata.index) != self.ids:
                raise StimulusMismatchError("metadata index must equal ids, in order")

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Any:
        return self.loader(i)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self.loader(i)

    @cached_property
    def key(self) -> str:
        """Hash of name, kind, content key and ids: identifies the set in caches."""
        return hash_strings([self.name, self.kind, self.content_key, *self.ids])

    def subset(self, ids: Sequence[str]) -> StimulusSet:
        """The stimuli with ``ids``, in that order."""
        pos = {s: i for i, s in enumerate(self.ids)}
        missing = [s for s in ids if s not in pos]
        if missing:
            raise StimulusMismatchError(f"ids not in stimulus set {self.name!r}: {missing[:8]}")
        idx = [pos[str(s)] for s in ids]
        parent = self.loader
        return StimulusSet([self.ids[i] for i in idx], self.kind, lambda j: parent(idx[j]),
                           self.metadata.iloc[idx], self.name, self.content_key + ":" + hash_strings(ids))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_texts(cls, texts: Sequence[str], ids: Sequence[str] | None = None, *, name: str = "texts",
                   metadata: pd.DataFrame | None = None) -> StimulusSet:
        texts = [str(t) for t in texts]
        ids = list(ids) if ids is not None else [f"t{i}" for i in range(len(texts))]
        return cls(ids, "text", texts.__getitem__, metadata if metadata is not None else pd.DataFrame(),
                   name, hash_strings(texts))

    @classmethod
    def from_arrays(cls, images: np.ndarray, ids: Sequence[str] | None = None, *, name: str = "images",
                    metadata: pd.DataFrame | None = None) -> StimulusSet:
        """Images from a uint8 array of shape (n, height, width, 3)."""
        from PIL import Image

        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise InvalidDataError(f"images must have shape (n, height, width, 3); got {images.shape}")
        if images.dtype != np.uint8:
            raise InvalidDataError(f"images must be uint8, got {images.dtype}")
        ids = list(ids) if ids is not None else [f"img{i:04d}" for i in range(len(images))]
        from ..provenance import hash_array

        return cls(ids, "image", lambda i: Image.fromarray(images[i]),
                   metadata if metadata is not None else pd.DataFrame(), name, hash_array(images))

    @classmethod
    def from_files(cls, paths: Sequence[str | os.PathLike], ids: Sequence[str] | None = None, *,
                   name: str = "images", metadata: pd.DataFrame | None = None,
                   content_key: str = "") -> StimulusSet:
        paths = [Path(p) for p in paths]
        ids = list(ids) if ids is not None else [p.stem for p in paths]
        return cls(ids, "image", lambda i: _open_image(paths[i], str(paths[i])),
                   metadata if metadata is not None else pd.DataFrame(), name,
                   content_key or hash_strings(map(str, paths)))

    @classmethod
    def from_zip(cls, zip_path: str | os.PathLike, members: Sequence[str], ids: Sequence[str] | None = None,
                 *, name: str = "images", metadata: pd.DataFrame | None = None,
                 content_key: str = "") -> StimulusSet:
        """Images read from a zip archive without unpacking it."""
        zip_path = Path(zip_path)
        members = list(members)
        ids = list(ids) if ids is not None else [Path(m).stem for m in members]
        handle: dict[str, zipfile.ZipFile] = {}

        def load(i: int) -> Any:
            zf = handle.get("zf")
            if zf is None:
                zf = handle["zf"] = zipfile.ZipFile(zip_path)
            return _open_image(io.BytesIO(zf.read(members[i])), f"{zip_path}:{members[i]}")

        return cls(ids, "image", load, metadata if metadata is not None else pd.DataFrame(), name,
                   content_key or hash_strings([str(zip_path), *members]))


def _open_image(src: Any, label: str) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(src)
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidDataError(f"cannot read image {label}: {exc}. Replace or remove the file.") from exc
    return img.convert("RGB")
