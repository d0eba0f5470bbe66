"""Reductions: what a hook keeps of a layer's output for each stimulus.

Conventions on the layer output ``x`` (batch first):

- 4-D ``(batch, channel, height, width)``: a convolutional map. ``mean`` / ``max`` pool over
  space, ``poolK`` is adaptive average pooling to ``K x K``, ``flatten`` keeps every
  channel x position (channel-major, as ``x.flatten(1)``).
- 3-D ``(batch, token, feature)``: a token sequence. ``mean`` / ``max`` pool over the real
  tokens (padding excluded with the attention mask), ``first`` / ``last`` take the first token
  and the last real token, ``flatten`` keeps every token x feature, padded with NaN to the
  longest text of the stimulus set.
- 2-D ``(batch, feature)``: already one vector per stimulus; every pooling is the identity.
- other: ``mean`` / ``max`` pool over all axes after the second.

Projections chain after a base reduction with ``>``: ``"srp:512"`` (flatten, then a sparse
random projection to 512 dimensions, as :class:`sklearn.random_projection.SparseRandomProjection`
with ``random_state=0``), ``"mean>srp:256"``, ``"pca:100"`` (streamed PCA of the flattened
layer; two passes over the stimuli, see :func:`brainalign.models.record`).

Unit ids are ``"<layer>/c<channel>"`` plus ``"/<position>"`` when a position is kept (``y3x4``
for maps, ``t5`` for tokens); projected units are ``"<layer>/rp<k>"`` or ``"<layer>/pc<k>"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidDataError

if TYPE_CHECKING:  # pragma: no cover
    import torch

BASE_REDUCTIONS = ("mean", "max", "flatten", "none", "first", "last")
_POOL = re.compile(r"pool(\d+)$|pool:(\d+)$")


@dataclass
class UnitInfo:
    """Per-unit metadata of one recorded layer (length n_units each)."""

    channel: np.ndarray
    position: np.ndarray
    prefix: np.ndarray  # "c" for channels, "rp" / "pc" for projections

    def ids(self, layer: str) -> list[str]:
        out = []
        for c, p, pre in zip(self.channel.tolist(), self.position.tolist(), self.prefix.tolist(), strict=True):
            out.append(f"{layer}/{pre}{c}" + (f"/{p}" if p else ""))
        return out


@dataclass
class Reducer:
    """A parsed reduction for one layer.

    Attributes
    ----------
    spec : the canonical text, e.g. ``"mean"``, ``"pool2"``, ``"flatten>srp:512"``.
    base : one of :data:`BASE_REDUCTIONS` or ``"poolK"``.
    projection : ``None``, ``("srp", d)`` or ``("pca", k)``.
    seed : random state of the sparse random projection.
    """

    spec: str
    base: str
    projection: tuple[str, int] | None = None
    seed: int = 0
    _proj: Any = field(default=None, repr=False)
    _proj_in: int = -1

    # ---------------------------------------------------------------- base reduction
    def reduce(self, x: torch.Tensor, context: dict[str, Any]) -> torch.Tensor:
        """Reduce a layer output to shape (batch, n_features) float32 (before projection)."""
        import torch

        x = x.detach()
        if not x.is_floating_point():
            x = x.float()
        b = self.base
        nd = x.ndim
        if nd < 2:
            raise InvalidDataError(
                f"layer output of shape {tuple(x.shape)} has no batch and feature axes; record a "
                "layer that returns (batch, ...) tensors")
        if nd == 2:
            if b in ("first", "last"):
                raise InvalidDataError(f"reduction {b!r} needs a token axis; this layer returns "
                                       f"(batch, feature) {tuple(x.shape)}: use 'mean' or 'none'")
            return x.float().clone()
        if nd == 3:
            return self._tokens(x, context).float()
        if b in ("first", "last"):
            raise InvalidDataError(f"reduction {b!r} applies to token sequences (batch, token, "
                                   f"feature); this layer returns {tuple(x.shape)}")
        if b == "mean":
            return x.float().mean(dim=tuple(range(2, nd)))
        if b == "max":
            return x.float().amax(dim=tuple(range(2, nd)))
        if b in ("flatten", "none"):
            return x.float().flatten(1).clone()
        k = self.pool_size
        if nd != 4:
            raise InvalidDataError(f"{b!r} pools 2-D maps (batch, channel, h, w); got {tuple(x.shape)}")
        return torch.nn.functional.adaptive_avg_pool2d(x.float(), k).flatten(1)

    @property
    def pool_size(self) -> int:
        m = _POOL.match(self.base)
        return int(m.group(1) or m.group(2)) if m else 0

    def _tokens(self, x: torch.Tensor, context: dict[str, Any]) -> torch.Tensor:
        import torch

        b = self.base
        mask = context.get("attention_mask")
        if mask is not None and (mask.ndim != 2 or mask.shape[:2] != x.shape[:2]):
            mask = None  # a layer whose token axis differs from the input's
        if b == "first":
            return x[:, 0, :].clone()
        if b == "last":
            if mask is None:
                return x[:, -1, :].clone()
            idx = _last_index(mask)
            return x[torch.arange(x.shape[0]), idx, :].clone()
        if b == "mean":
            if mask is None:
                return x.mean(dim=1)
            m = mask.to(x.dtype).unsqueeze(-1)
            return (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)
        if b == "max":
            if mask is None:
                return x.amax(dim=1)
            return x.masked_fill(~mask.bool().unsqueeze(-1), float("-inf")).amax(dim=1)
        if b in ("flatten", "none"):
            n_tok = int(context.get("max_tokens", x.shape[1]))
            out = torch.full((x.shape[0], n_tok, x.shape[2]), float("nan"), dtype=x.dtype)
            t = min(n_tok, x.shape[1])
            xs = x[:, :t, :].clone()
            if mask is not None:
                xs = xs.masked_fill(~mask[:, :t].bool().unsqueeze(-1), float("nan"))
            out[:, :t, :] = xs
            return out.flatten(1)
        raise InvalidDataError(f"reduction {b!r} does not apply to token sequences; use mean, max, "
                               "first, last or flatten")

    # ---------------------------------------------------------------- units
    def base_units(self, shape: tuple[int, ...], context: dict[str, Any]) -> UnitInfo:
        """Unit metadata of the base reduction for a layer output of ``shape`` (batch first)."""
        shape = tuple(shape[1:])
        b = self.base
        flat = b in ("flatten", "none")
        if len(shape) == 1:  # (feature,)
            return _units(np.arange(shape[0]), np.full(shape[0], "", dtype=object))
        if len(shape) == 2:  # (token, feature)
            if not flat:
                return _units(np.arange(shape[1]), np.full(shape[1], "", dtype=object))
            n_tok = int(context.get("max_tokens", shape[0]))
            t, c = np.meshgrid(np.arange(n_tok), np.arange(shape[1]), indexing="ij")
            return _units(c.ravel(), np.asarray([f"t{i}" for i in t.ravel()], dtype=object))
        # (channel, *spatial)
        if b in ("mean", "max"):
            return _units(np.arange(shape[0]), np.full(shape[0], "", dtype=object))
        spatial = shape[1:] if flat else (self.pool_size, self.pool_size)
        grids = np.meshgrid(*[np.arange(s) for s in spatial], indexing="ij")
        if len(spatial) == 2:
            pos = _positions(grids)
        else:
            pos = np.asarray([",".join(map(str, t)) for t in zip(*(g.ravel() for g in grids), strict=True)],
                             dtype=object)
        n_pos = int(np.prod(spatial))
        return _units(np.repeat(np.arange(shape[0]), n_pos), np.tile(pos, shape[0]))

    # ---------------------------------------------------------------- projections
    def needs_fit(self) -> bool:
        return self.projection is not None and self.projection[0] == "pca" and self._proj is None

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """Apply the projection (if any) to base-reduced features (batch, n_features)."""
        import torch

        if self.projection is None:
            return z
        kind, d = self.projection
        if kind == "srp":
            if self._proj is None or self._proj_in != z.shape[1]:
                self._proj = _srp_matrix(z.shape[1], d, self.seed)
                self._proj_in = z.shape[1]
            z = torch.nan_to_num(z, nan=0.0)
            return torch.sparse.mm(self._proj, z.T.contiguous()).T.contiguous()
        if self._proj is None:
            raise InvalidDataError("streamed PCA must be fitted before recording (internal error)")
        mean, comps = self._proj
        return (z.double() - mean) @ comps.T

    def set_pca(self, mean: np.ndarray, components: np.ndarray) -> None:
        import torch

        self._proj = (torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(components, dtype=torch.float64))

    def units(self, shape: tuple[int, ...], context: dict[str, Any]) -> UnitInfo:
        if self.projection is None:
            return self.base_units(shape, context)
        kind, d = self.projection
        return UnitInfo(np.arange(d), np.full(d, "", dtype=object),
                        np.full(d, "rp" if kind == "srp" else "pc", dtype=object))

    def __call__(self, x: torch.Tensor, context: dict[str, Any]) -> torch.Tensor:
        return self.project(self.reduce(x, context)).float()


def _units(channel: np.ndarray, position: np.ndarray) -> UnitInfo:
    return UnitInfo(np.asarray(channel, dtype=np.int64), np.asarray(position, dtype=object),
                    np.full(len(channel), "c", dtype=object))


def _positions(grids: list[np.ndarray]) -> np.ndarray:
    return np.asarray([f"y{i}x{j}" for i, j in zip(grids[0].ravel(), grids[1].ravel(), strict=True)],
                      dtype=object)


def _last_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of the last non-zero entry of each row of a (batch, token) mask."""
    import torch

    n = mask.shape[1]
    pos = torch.arange(n, device=mask.device).expand_as(mask)
    return torch.where(mask.bool(), pos, torch.full_like(pos, -1)).amax(dim=1).clamp(min=0)


def _srp_matrix(n_features: int, n_components: int, seed: int) -> torch.Tensor:
    """The matrix of ``SparseRandomProjection(n_components, random_state=seed)`` (sparse COO)."""
    import torch
    from sklearn.random_projection import _sparse_random_matrix

    m = _sparse_random_matrix(n_components, n_features, density="auto", random_state=seed).tocoo()
    idx = torch.as_tensor(np.vstack([m.row, m.col]).astype(np.int64))
    return torch.sparse_coo_tensor(idx, torch.as_tensor(m.data, dtype=torch.float32), size=m.shape,
                                   check_invariants=True).coalesce()


def parse_reduction(spec: str | Reducer) -> Reducer:
    """Parse ``"mean"``, ``"max"``, ``"none"``/``"flatten"``, ``"poolK"``, ``"first"``,
    ``"last"``, optionally followed by ``">srp:D"`` or ``">pca:K"`` (``"srp:D"`` and
    ``"pca:K"`` alone project the flattened layer)."""
    if isinstance(spec, Reducer):
        return spec
    text = str(spec).strip().lower()
    parts = [p.strip() for p in text.split(">")]
    if len(parts) == 1 and re.match(r"(srp|pca):", parts[0]):
        parts = ["flatten", parts[0]]
    if len(parts) > 2:
        raise InvalidDataError(f"reduction {spec!r}: at most one projection after the base reduction")
    base = parts[0]
    if base == "none":
        base = "flatten"
    if base not in BASE_REDUCTIONS and not _POOL.match(base):
        raise InvalidDataError(
            f"unknown reduction {spec!r}; use one of mean, max, none/flatten, poolK (e.g. pool2), "
            "first, last, optionally followed by '>srp:D' or '>pca:K'")
    if _POOL.match(base):
        k = int(_POOL.match(base).group(1) or _POOL.match(base).group(2))  # type: ignore[union-attr]
        if k < 1:
            raise InvalidDataError(f"pool size must be >= 1 in {spec!r}")
        base = f"pool{k}"
    proj = None
    if len(parts) == 2:
        m = re.fullmatch(r"(srp|pca):(\d+)", parts[1])
        if not m or int(m.group(2)) < 1:
            raise InvalidDataError(f"projection in {spec!r} must be 'srp:D' or 'pca:K' with a positive size")
        proj = (m.group(1), int(m.group(2)))
    canon = base + (f">{proj[0]}:{proj[1]}" if proj else "")
    return Reducer(canon, base, proj)
