"""Decompositions of a layer's (or a brain area's) responses into parts, each with its top stimuli.

All three factor the (stimulus, unit) matrix ``X`` as ``X ~ W H (+ offset)`` with non-negative
stimulus loadings ``W`` (stimulus, component) and component directions ``H`` (component, unit):

- :func:`nmf`: ``W >= 0, H >= 0`` (needs ``X >= 0``, e.g. post-ReLU activations or spike
  counts), minimising ``||X - WH||_F^2`` by HALS coordinate descent (Cichocki & Phan 2009) from an
  NNDSVDa start (Boutsidis & Gallopoulos 2008) - the objective of :class:`sklearn.decomposition.NMF`
  (checked in the tests), as used for concept discovery by CRAFT (Fel et al. 2023, CVPR).
- :func:`semi_nmf`: ``W >= 0``, ``H`` of any sign, for signed activations (transformer MLPs,
  z-scored responses): the model of Ding, Li & Jordan (2010), IEEE TPAMI 32:45.
- :func:`topk_sae`: a TopK sparse autoencoder (Gao et al. 2024, *Scaling and evaluating sparse
  autoencoders*, arXiv:2406.04093): ``W = TopK(W_enc (x - b) + b_enc)`` with exactly ``k``
  active latents per stimulus, ``H`` the unit-norm decoder rows, trained with Adam on the CPU.

The quality measure is ``fvu``: fraction of variance unexplained,
``||X - X_hat||_F^2 / ||X - mean(X)||_F^2`` (and ``relative_error = ||X - X_hat||_F / ||X||_F``
for NMF-type fits, sklearn's ``reconstruction_err_ / ||X||_F``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import dumps, hash_array, make_provenance
from ..responses import get_provenance
from ._common import response_matrix, unit_coords

__all__ = ["Decomposition", "nmf", "semi_nmf", "topk_sae"]


@dataclass
class Decomposition:
    """A factorisation ``X ~ weights @ components (+ offset)``.

    Attributes
    ----------
    method : ``"nmf"``, ``"semi_nmf"`` or ``"topk_sae"``.
    weights : DataArray (stimulus, component): non-negative loading of each stimulus on each part.
    components : DataArray (component, unit): each part's direction over the units.
    fvu : fraction of variance unexplained (see module docstring).
    relative_error : ``||X - X_hat||_F / ||X||_F``.
    settings : parameters of the fit; ``provenance`` the full record.
    extra : method-specific results (``n_iter``, ``dead_latents``, training ``loss`` curve...).
    """

    method: str
    weights: xr.DataArray
    components: xr.DataArray
    fvu: float
    relative_error: float
    settings: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def top_stimuli(self, k: int = 5) -> xr.DataArray:
        """The ``k`` stimuli loading most on each component.

        Returns
        -------
        DataArray (component, rank) of loadings, with coordinate ``stimulus_id`` (component, rank).
        """
        w = np.asarray(self.weights.values)
        k = int(min(max(k, 1), w.shape[0]))
        order = np.argsort(-w, axis=0, kind="stable")[:k].T
        sid = np.asarray([str(s) for s in self.weights["stimulus"].values], dtype=object)
        return xr.DataArray(np.take_along_axis(w.T, order, axis=1), dims=("component", "rank"),
                            coords={"component": self.weights["component"].values, "rank": np.arange(k),
                                    "stimulus_id": (("component", "rank"), sid[order])},
                            name="top_loadings")

    def top_units(self, k: int = 5) -> xr.DataArray:
        """The ``k`` units with the largest weight in each component (coordinate ``unit_id``)."""
        h = np.asarray(self.components.values)
        k = int(min(max(k, 1), h.shape[1]))
        order = np.argsort(-h, axis=1, kind="stable")[:, :k]
        uid = np.asarray([str(u) for u in self.components["unit"].values], dtype=object)
        return xr.DataArray(np.take_along_axis(h, order, axis=1), dims=("component", "rank"),
                            coords={"component": self.components["component"].values,
                                    "rank": np.arange(k), "unit_id": (("component", "rank"), uid[order])},
                            name="top_unit_weights")

    def reconstruct(self) -> np.ndarray:
        """``X_hat``, shape (n_stimuli, n_units)."""
        off = self.extra.get("offset")
        xh = np.asarray(self.weights.values) @ np.asarray(self.components.values)
        return xh + off if off is not None else xh


def _wrap(method: str, responses: xr.DataArray, x: np.ndarray, w: np.ndarray, h: np.ndarray,
          settings: dict[str, Any], extra: dict[str, Any], seed: int | None) -> Decomposition:
    comp = np.arange(w.shape[1])
    weights = xr.DataArray(w, dims=("stimulus", "component"),
                           coords={"stimulus": responses["stimulus"].values, "component": comp},
                           name=f"{method}_weights")
    components = xr.DataArray(h, dims=("component", "unit"),
                              coords={"component": comp, **unit_coords(responses)}, name=f"{method}_components")
    xh = w @ h + (extra["offset"] if extra.get("offset") is not None else 0.0)
    resid = float(((x - xh) ** 2).sum())
    fvu = resid / float(((x - x.mean(axis=0)) ** 2).sum())
    rel = float(np.sqrt(resid / float((x * x).sum())))
    parents = [get_provenance(responses)] if responses.attrs.get("provenance") else None
    prov = make_provenance(f"units.{method}", settings, seed=seed, inputs={"responses": hash_array(x)},
                           parents=parents)
    weights.attrs["provenance"] = components.attrs["provenance"] = dumps(prov)
    return Decomposition(method, weights, components, fvu, rel, settings, prov, extra)


def _check_k(k: int, x: np.ndarray) -> None:
    if not 1 <= k <= min(x.shape):
        raise InvalidDataError(f"n_components must be between 1 and min(n_stimuli, n_units) = "
                               f"{min(x.shape)}, got {k}")


def _nndsvda(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD initialisation with zeros filled by the mean (Boutsidis & Gallopoulos 2008)."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    w = np.zeros((x.shape[0], k))
    h = np.zeros((k, x.shape[1]))
    w[:, 0] = np.sqrt(s[0]) * np.abs(u[:, 0])
    h[0] = np.sqrt(s[0]) * np.abs(vt[0])
    for j in range(1, k):
        a, b = u[:, j], vt[j]
        ap, an = np.maximum(a, 0), np.maximum(-a, 0)
        bp, bn = np.maximum(b, 0), np.maximum(-b, 0)
        mp = np.linalg.norm(ap) * np.linalg.norm(bp)
        mn = np.linalg.norm(an) * np.linalg.norm(bn)
        if mp >= mn:
            uu, vv, sig = ap / (np.linalg.norm(ap) or 1), bp / (np.linalg.norm(bp) or 1), mp
        else:
            uu, vv, sig = an / (np.linalg.norm(an) or 1), bn / (np.linalg.norm(bn) or 1), mn
        w[:, j] = np.sqrt(s[j] * sig) * uu
        h[j] = np.sqrt(s[j] * sig) * vv
    avg = x.mean()
    w[w == 0] = avg
    h[h == 0] = avg
    return w, h


def nmf(responses: xr.DataArray, n_components: int, *, max_iter: int = 500, tol: float = 1e-5,
        seed: int | None = 0) -> Decomposition:
    """Non-negative matrix factorisation ``X ~ W H``, ``W, H >= 0``.

    Parameters
    ----------
    responses : (stimulus, unit), all values >= 0 (shift or use :func:`semi_nmf` otherwise).
    n_components : number of parts ``k``.
    max_iter, tol : HALS sweeps, and the stopping threshold on the relative decrease of the
        squared error between sweeps.
    seed : unused by the deterministic NNDSVDa start; recorded for provenance.

    Returns
    -------
    Decomposition with ``weights`` (stimulus, k) and ``components`` (k, unit).
    """
    x = response_matrix(responses)
    if (x < 0).any():
        raise InvalidDataError(
            f"nmf needs non-negative responses; {int((x < 0).sum())} values are negative (min "
            f"{x.min():.3g}). Use semi_nmf() for signed activations, or shift/rectify them first.")
    _check_k(n_components, x)
    if not (x > 0).any():
        raise InvalidDataError("every response is zero (units that never activate); nothing to factorise")
    w, h = _nndsvda(x, n_components)
    eps = 1e-12
    prev = np.inf
    norm2 = float((x * x).sum())
    it = 0
    for it in range(1, max_iter + 1):
        wtw, wtx = w.T @ w, w.T @ x
        for j in range(n_components):
            h[j] = np.maximum(h[j] + (wtx[j] - wtw[j] @ h) / max(wtw[j, j], eps), 0.0)
        hht, xht = h @ h.T, x @ h.T
        for j in range(n_components):
            w[:, j] = np.maximum(w[:, j] + (xht[:, j] - w @ hht[:, j]) / max(hht[j, j], eps), 0.0)
        err = norm2 - 2 * float((w * xht).sum()) + float((hht * (w.T @ w)).sum())
        if prev - err <= tol * max(prev, eps) and it > 1:
            break
        prev = err
    return _wrap("nmf", responses, x, w, h,
                 {"n_components": n_components, "max_iter": max_iter, "tol": tol, "solver": "hals",
                  "init": "nndsvda", "loss": "frobenius"}, {"n_iter": it}, seed)


def semi_nmf(responses: xr.DataArray, n_components: int, *, max_iter: int = 500, tol: float = 1e-5,
             seed: int | None = 0) -> Decomposition:
    """Semi-NMF ``X ~ W H`` with ``W >= 0`` and signed ``H`` (Ding, Li & Jordan 2010).

    Started from k-means (``W`` = cluster indicators + 0.2, as in the paper); then alternates
    the least-squares ``H = (W^T W)^+ W^T X`` with an exact coordinate-descent (HALS) sweep over
    the columns of ``W >= 0``. This minimises the same objective as the paper's multiplicative
    rule ``W <- W * sqrt(((X H^T)^+ + W (H H^T)^-) / ((X H^T)^- + W (H H^T)^+))``, which
    converges much more slowly (2.8 times the error after 500 iterations on the test data).

    Parameters
    ----------
    responses : (stimulus, unit), any sign.
    n_components : number of parts.
    seed : seed of the k-means start.
    """
    from sklearn.cluster import KMeans

    x = response_matrix(responses)
    _check_k(n_components, x)
    km = KMeans(n_clusters=n_components, n_init=4, random_state=seed).fit(x)
    w = np.full((x.shape[0], n_components), 0.2)
    w[np.arange(x.shape[0]), km.labels_] += 1.0
    eps = 1e-12
    prev = np.inf
    norm2 = float((x * x).sum())
    it = 0
    for it in range(1, max_iter + 1):
        h = np.linalg.pinv(w.T @ w) @ (w.T @ x)
        a = x @ h.T
        b = h @ h.T
        for j in range(n_components):  # exact block update of each column of W >= 0 (HALS)
            w[:, j] = np.maximum(w[:, j] + (a[:, j] - w @ b[:, j]) / max(b[j, j], eps), 0.0)
        err = norm2 - 2 * float((w * a).sum()) + float(((w.T @ w) * b).sum())
        if prev - err <= tol * max(prev, eps) and it > 1:
            break
        prev = err
    h = np.linalg.pinv(w.T @ w) @ (w.T @ x)
    return _wrap("semi_nmf", responses, x, w, h,
                 {"n_components": n_components, "max_iter": max_iter, "tol": tol, "init": "kmeans+0.2",
                  "solver": "alternating least squares (H) + HALS (W)"}, {"n_iter": it}, seed)


def topk_sae(responses: xr.DataArray, n_latents: int, k: int, *, n_epochs: int = 200,
             batch_size: int = 256, lr: float = 1e-3, seed: int | None = 0) -> Decomposition:
    """Train a TopK sparse autoencoder on the responses (CPU, float32).

    Architecture (Gao et al. 2024): inputs are centred by ``b_pre`` (initialised to the mean) and
    scaled by one scalar so that the mean squared norm is ``n_units``;
    ``z = TopK(W_enc (x - b_pre) + b_enc)`` keeps the ``k`` largest pre-activations (ReLU on the
    kept ones), ``x_hat = W_dec z + b_pre``; decoder rows have unit norm (renormalised after each
    step) and ``W_enc`` starts as ``W_dec^T``. Loss: mean squared error; optimiser: Adam.

    Parameters
    ----------
    responses : (stimulus, unit) activations.
    n_latents : dictionary size.
    k : active latents per stimulus.
    n_epochs, batch_size, lr : training schedule.
    seed : seeds a private :class:`torch.Generator` (initialisation and batch order).

    Returns
    -------
    Decomposition: ``weights`` are the latent activations (stimulus, latent) in input units,
    ``components`` the decoder rows (latent, unit), ``extra["offset"]`` is ``b_pre``;
    ``extra`` also has ``dead_latents`` (never active) and the per-epoch ``loss``.
    """
    import torch

    x = response_matrix(responses)
    n, d = x.shape
    if not 1 <= k <= n_latents:
        raise InvalidDataError(f"k must be between 1 and n_latents={n_latents}, got {k}")
    if np.ptp(x, axis=0).max() == 0:
        raise InvalidDataError("every unit's response is constant (never activates); nothing to learn")
    gen = torch.Generator().manual_seed(0 if seed is None else int(seed))
    mean = x.mean(axis=0)
    scale = float(np.sqrt(d / max(((x - mean) ** 2).sum(axis=1).mean(), 1e-12)))
    xt = torch.as_tensor((x - mean) * scale, dtype=torch.float32)
    w_dec = torch.randn(n_latents, d, generator=gen)
    w_dec = w_dec / w_dec.norm(dim=1, keepdim=True)
    w_dec = torch.nn.Parameter(w_dec)
    w_enc = torch.nn.Parameter(w_dec.detach().T.clone())
    b_enc = torch.nn.Parameter(torch.zeros(n_latents))
    b_pre = torch.nn.Parameter(torch.zeros(d))
    opt = torch.optim.Adam([w_dec, w_enc, b_enc, b_pre], lr=lr)

    def encode(v: torch.Tensor) -> torch.Tensor:
        pre = (v - b_pre) @ w_enc + b_enc
        top = torch.topk(pre, k, dim=1)
        z = torch.zeros_like(pre)
        return z.scatter(1, top.indices, torch.relu(top.values))

    losses: list[float] = []
    for _ in range(n_epochs):
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for s in range(0, n, batch_size):
            v = xt[perm[s:s + batch_size]]
            z = encode(v)
            loss = ((z @ w_dec + b_pre - v) ** 2).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                w_dec /= w_dec.norm(dim=1, keepdim=True).clamp_min(1e-8)
            tot += loss.item() * len(v)
        losses.append(tot / n)
    with torch.no_grad():
        z = encode(xt).numpy().astype(np.float64)
        dec = w_dec.detach().numpy().astype(np.float64)
        bp = b_pre.detach().numpy().astype(np.float64)
    # back to input units: x ~ mean + (z @ dec + bp) / scale
    weights = z / scale
    offset = mean + bp / scale
    dead = int((z.max(axis=0) <= 0).sum())
    return _wrap("topk_sae", responses, x, weights, dec,
                 {"n_latents": n_latents, "k": k, "n_epochs": n_epochs, "batch_size": batch_size, "lr": lr,
                  "input_scale": scale, "architecture": "TopK SAE (Gao et al. 2024)", "loss": "mse"},
                 {"offset": offset, "dead_latents": dead, "loss": losses}, seed)
