"""Any user ``torch.nn.Module`` as a recordable model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidDataError
from .base import Batch, ModelAdapter
from .image import ImageAdapter, imagenet_preprocessing
from .text import TextAdapter


class _CallableImageAdapter(ModelAdapter):
    """Image adapter whose preprocessing is a user function ``transform(PIL image) -> array``."""

    def __init__(self, *args: Any, transform: Callable[[Any], Any], **kw: Any):
        super().__init__(*args, **kw)
        self.transform = transform

    def prepare(self, items: Sequence[Any]) -> Batch:
        import torch

        arrs = [torch.as_tensor(np.asarray(self.transform(im), dtype=np.float32)) for im in items]
        return Batch(torch.stack(arrs).to(self.device), len(items))


def from_module(module: Any, *, modality: str = "image", name: str | None = None,
                default_layers: Sequence[str] | None = None,
                preprocessing: dict[str, Any] | None = None,
                transform: Callable[[Any], Any] | None = None, tokenizer: Any = None,
                max_length: int = 512, truncation: bool = False, device: str = "cpu") -> ModelAdapter:
    """Wrap any :class:`torch.nn.Module` so that :func:`record` and :func:`intervene` take it.

    Parameters
    ----------
    module : the network; it is put in eval mode on ``device``.
    modality : ``"image"`` (module takes a (batch, 3, h, w) tensor) or ``"text"`` (module takes
        the tokenizer's ``input_ids`` / ``attention_mask`` as keywords).
    name : name used in provenance and cache keys (default: the class name).
    default_layers : layers recorded when none are given (default: the top-level children).
    preprocessing : for images, a record as from
        :func:`~brainalign.models.image.imagenet_preprocessing` (the default); ignored when
        ``transform`` is given.
    transform : for images, ``transform(PIL.Image) -> array (3, h, w)``; its ``repr`` (or
        ``preprocessing`` if you pass one) goes into cache keys: make it descriptive.
    tokenizer : for text, a Hugging Face tokenizer.
    max_length, truncation : for text, see :class:`~brainalign.models.text.TextAdapter`.

    Canonical layer names are the module's ``named_modules()`` paths; the weights digest hashes
    its state dict.
    """
    import torch

    if not isinstance(module, torch.nn.Module):
        raise InvalidDataError(f"from_module needs a torch.nn.Module, got {type(module).__name__}")
    name = name or type(module).__name__
    if modality == "text":
        if tokenizer is None:
            raise InvalidDataError("a text model needs tokenizer= (a Hugging Face tokenizer)")
        return TextAdapter(name, module, tokenizer, max_length=max_length, truncation=truncation,
                           device=device, default_layers=default_layers, preprocessing=preprocessing)
    if modality != "image":
        raise InvalidDataError(f"modality must be 'image' or 'text', got {modality!r}")
    if transform is not None:
        pp = dict(preprocessing) if preprocessing else {"transform": repr(transform)}
        return _CallableImageAdapter(name, module, modality="image", device=device,
                                     default_layers=default_layers, preprocessing=pp, transform=transform)
    return ImageAdapter(name, module, modality="image", device=device, default_layers=default_layers,
                        preprocessing=preprocessing or imagenet_preprocessing())
