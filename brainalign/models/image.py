"""Image preprocessing (torchvision-equivalent, on PIL images) and the image adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidDataError
from .base import Batch, ModelAdapter

if TYPE_CHECKING:  # pragma: no cover
    import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_preprocessing(resize: int = 256, crop: int = 224) -> dict[str, Any]:
    """The standard ImageNet evaluation pipeline as a JSON-able record.

    Shorter side resized to ``resize`` (bilinear, PIL antialiasing), centre crop ``crop``,
    scaled to [0, 1], normalised with the ImageNet mean and std: the same numbers as
    ``torchvision.transforms.Compose([Resize(256), CenterCrop(224), ToTensor(),
    Normalize(mean, std)])`` applied to a PIL image.
    """
    return {"resize_shorter": resize, "interpolation": "bilinear", "center_crop": crop,
            "scale": "1/255", "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
            "colour": "RGB", "layout": "NCHW"}


def preprocess_image(img: Any, pp: dict[str, Any]) -> np.ndarray:
    """Apply a preprocessing record to one image.

    Parameters
    ----------
    img : PIL image (any mode; converted to RGB) or uint8 array (height, width, 3).
    pp : a record from :func:`imagenet_preprocessing` (keys ``resize_shorter``,
        ``center_crop``, ``mean``, ``std``; ``resize`` = (h, w) resizes without cropping).

    Returns
    -------
    float32 array, shape (3, crop, crop).
    """
    from PIL import Image

    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[-1] != 3:
            raise InvalidDataError(f"image arrays must have shape (h, w, 3); got {img.shape}")
        img = Image.fromarray(np.asarray(img, dtype=np.uint8))
    if not isinstance(img, Image.Image):
        raise InvalidDataError(f"expected a PIL image, got {type(img).__name__}")
    if img.mode != "RGB":
        img = img.convert("RGB")
    w, h = img.size
    if w < 1 or h < 1:
        raise InvalidDataError(f"image of size {img.size} is empty")
    if pp.get("resize_shorter"):
        s = int(pp["resize_shorter"])
        # torchvision: the shorter side becomes s, the longer int(s * long / short)
        if w <= h:
            nw, nh = s, int(s * h / w)
        else:
            nw, nh = int(s * w / h), s
        if (nw, nh) != (w, h):
            img = img.resize((nw, nh), Image.BILINEAR)
    elif pp.get("resize"):
        nh, nw = pp["resize"]
        img = img.resize((int(nw), int(nh)), Image.BILINEAR)
    if pp.get("center_crop"):
        c = int(pp["center_crop"])
        w, h = img.size
        top = int(round((h - c) / 2.0))
        left = int(round((w - c) / 2.0))
        img = img.crop((left, top, left + c, top + c))
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - np.asarray(pp["mean"], dtype=np.float32)) / np.asarray(pp["std"], dtype=np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1))


class ImageAdapter(ModelAdapter):
    """Adapter for image models taking a (batch, 3, height, width) float tensor.

    With ``channels_last=True`` the module and inputs use torch's channels-last memory format
    (about twice as fast for depthwise convolutions on CPU; same logical NCHW shapes, results
    equal to float32 rounding). The choice is part of ``preprocessing`` and so of cache keys.
    """

    def __init__(self, *args: Any, channels_last: bool = False, **kw: Any):
        super().__init__(*args, **kw)
        self.channels_last = bool(channels_last)
        if self.channels_last:
            import torch

            self.module = self.module.to(memory_format=torch.channels_last)
            self.preprocessing["memory_format"] = "channels_last"

    def prepare(self, items: Sequence[Any]) -> Batch:
        import torch

        arr = np.stack([preprocess_image(im, self.preprocessing) for im in items])
        x = torch.from_numpy(arr).to(self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return Batch(x, len(items))

    def predict(self, items: Sequence[Any]) -> torch.Tensor:
        """Outputs of the whole network (e.g. logits) for a list of images."""
        import torch

        with torch.inference_mode():
            return self.forward(self.prepare(items))
