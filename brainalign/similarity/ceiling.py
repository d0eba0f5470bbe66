"""Leave-one-subject-out noise ceilings, in the two conventions met in published work.

For subject RDMs ``D_1 .. D_S`` and a comparison ``sim`` (e.g. Spearman):

- **upper bound**: mean over subjects of ``f(sim(pool(D_1..D_S), D_s))`` -- the pooled RDM of all
  subjects, including ``s``, against each subject (over-fits ``s``, so it bounds the best model
  from above);
- **lower bound**: mean over subjects of ``f(sim(pool(all but s), D_s))`` -- leave one subject out.

``pool`` is the RDM that maximises the average similarity under ``sim``: for rank methods the mean
of the ranks, for Pearson the mean of z-scored vectors, for cosine the mean of RMS-normalised
vectors (rsatoolbox's ``pool_rdm``), or the plain mean with ``pool="mean"``.

``convention`` says what ``f`` is and must be stated with every number:

- ``"mean_r"``: correlations averaged as they are (``f(r) = r``) -- rsatoolbox
  (``boot_noise_ceiling``) and most RSA papers. A model's score is the mean ``r`` over subjects.
- ``"mean_r2"``: correlations squared before averaging (``f(r) = r**2``) -- Net2Brain's RSA
  ("R2"), where a model's score is the mean ``r**2`` and percentages of the ceiling use the
  squared ceilings.

Tool presets (``convention=`` accepts them): ``"rsatoolbox"`` = ``"mean_r"`` with the optimal
pool (``boot_noise_ceiling``); ``"net2brain"`` = ``"mean_r2"`` with the plain mean of the subject
RDMs as pool (``NoiseCeiling.get_lowernoiseceiling``). On Algonauts 78 (IT, ResNet18
layer3.1.conv2, Net2Brain's RDMs) the same model is 76 % of the lower bound under "net2brain"
and 619 % under "rsatoolbox".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import InvalidDataError
from ..provenance import make_provenance
from ._util import as_rdm_stack, condensed_vectors, input_hash, rank_rows
from .compare import CompareMethod, resolve_method, second_moments

CONVENTIONS = ("mean_r", "mean_r2")
#: named recipes of other tools: convention -> (convention, pool)
PRESETS = {"rsatoolbox": ("mean_r", "optimal"), "net2brain": ("mean_r2", "mean")}


def resolve_convention(convention: str, pool: str | None) -> tuple[str, str]:
    """Map a convention (or a tool preset) and an optional pool to (convention, pool)."""
    if convention in PRESETS:
        conv, default_pool = PRESETS[convention]
    elif convention in CONVENTIONS:
        conv, default_pool = convention, "optimal"
    else:
        raise InvalidDataError(
            f"unknown convention {convention!r}; choose one of {CONVENTIONS} or a tool preset "
            f"{tuple(PRESETS)}")
    pool = default_pool if pool is None else pool
    if pool not in ("optimal", "mean"):
        raise InvalidDataError(f"pool must be 'optimal' or 'mean'; got {pool!r}")
    return conv, pool


@dataclass(frozen=True)
class NoiseCeiling:
    """A noise ceiling; unpacks as ``lower, upper = noise_ceiling(...)``.

    Attributes
    ----------
    lower, upper : the bounds (in the units of ``convention``).
    method : the RDM comparison.
    convention : "mean_r" (r averaged) or "mean_r2" (r squared, then averaged).
    pool : how subject RDMs were pooled ("optimal" for the method, or "mean").
    lower_per_subject, upper_per_subject : array, shape (n_subjects,), before averaging (and
        after squaring under "mean_r2").
    subjects : names of the subject RDMs.
    provenance : record of the computation.
    """

    lower: float
    upper: float
    method: str
    convention: str
    pool: str
    lower_per_subject: np.ndarray = field(repr=False)
    upper_per_subject: np.ndarray = field(repr=False)
    subjects: tuple[str, ...] = field(repr=False, default=())
    provenance: dict[str, Any] = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator[float]:
        return iter((self.lower, self.upper))

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, "method": self.method,
                "convention": self.convention, "pool": self.pool,
                "n_subjects": len(self.lower_per_subject)}


def pool_vectors(v: np.ndarray, method: str | CompareMethod, pool: str = "optimal") -> np.ndarray:
    """Pooled RDM vector of a stack (n_rdm, m) -> (m,); see the module docstring."""
    m = method if isinstance(method, CompareMethod) else resolve_method(method)
    return pooling_transform(v, m, pool).mean(axis=0)


def pooling_transform(v: np.ndarray, m: CompareMethod, pool: str) -> np.ndarray:
    """Per-RDM transform whose mean is the pooled RDM."""
    if pool == "mean":
        return v
    if pool != "optimal":
        raise InvalidDataError(f"pool must be 'optimal' or 'mean'; got {pool!r}")
    if m.name in ("spearman", "rho_a", "kendall_a", "kendall_b"):
        return rank_rows(v)
    if m.name == "pearson":
        c = v - v.mean(axis=1, keepdims=True)
        return c / c.std(axis=1, keepdims=True)
    if m.name == "cosine":
        return v / np.sqrt((v**2).mean(axis=1, keepdims=True))
    if m.name in ("whitened_cosine", "whitened_pearson"):
        c = v - v.mean(axis=1, keepdims=True) if m.name == "whitened_pearson" else v
        n = int(round((1 + np.sqrt(1 + 8 * v.shape[1])) / 2))
        norm = np.sqrt((second_moments(c, n) ** 2).sum(axis=(1, 2)))
        return c / norm[:, None]
    raise InvalidDataError(f"no pooling rule for method {m.name!r}; pass pool='mean'")


def rowwise_similarity(pred: np.ndarray, target: np.ndarray, m: CompareMethod, n_stim: int) -> np.ndarray:
    """sim(pred[i], target[i]) for every row i."""
    pp, pt = m.prepare(pred, n_stim), m.prepare(target, n_stim)
    if m.pairwise is not None:
        return np.array([m.pairwise(pp[i:i + 1], pt[i:i + 1])[0, 0] for i in range(len(pp))])
    return np.einsum("ij,ij->i", pp, pt)


def ceiling_from_vectors(v: np.ndarray, method: str | CompareMethod = "spearman",
                         convention: str = "mean_r", pool: str | None = None,
                         n_stim: int | None = None) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Core of :func:`noise_ceiling` on condensed vectors (n_subjects, m).

    Returns lower, upper and the per-subject values (after ``f``).
    """
    m = method if isinstance(method, CompareMethod) else resolve_method(method)
    convention, pool = resolve_convention(convention, pool)
    s = len(v)
    if n_stim is None:
        n_stim = int(round((1 + np.sqrt(1 + 8 * v.shape[1])) / 2))
    t = pooling_transform(v, m, pool)
    total = t.sum(axis=0)
    lower_pred = (total[None, :] - t) / (s - 1)
    if m.pairwise is None:  # inner-product methods: transform the targets and the pooled RDM once
        pt = m.prepare(v, n_stim)
        up = pt @ m.prepare((total / s)[None, :], n_stim)[0]
        lo = np.einsum("ij,ij->i", m.prepare(lower_pred, n_stim), pt)
    else:
        upper_pred = np.broadcast_to(total / s, v.shape)
        up = rowwise_similarity(np.ascontiguousarray(upper_pred), v, m, n_stim)
        lo = rowwise_similarity(lower_pred, v, m, n_stim)
    if convention == "mean_r2":
        up, lo = up**2, lo**2
    return float(lo.mean()), float(up.mean()), lo, up


def noise_ceiling(subject_rdms: xr.DataArray, method: str = "spearman", convention: str = "mean_r", *,
                  pool: str | None = None, min_subjects: int = 3) -> NoiseCeiling:
    """Leave-one-subject-out noise ceiling of a stack of subject RDMs.

    Parameters
    ----------
    subject_rdms : RDM stack, one RDM per subject (dims "rdm", "stimulus", "stimulus2").
    method : RDM comparison (see :func:`compare_rdms`).
    convention : "mean_r" (correlations averaged as they are; rsatoolbox) or "mean_r2"
        (squared before averaging; Net2Brain), or a tool preset "rsatoolbox" / "net2brain" (which
        also sets ``pool``). Recorded in the result.
    pool : "optimal" (the pooled RDM that suits ``method``, as rsatoolbox) or "mean"; default
        "optimal" (or the preset's).
    min_subjects : fewer subjects raise :class:`InvalidDataError` (at least 2 are always needed).

    Returns
    -------
    NoiseCeiling, which unpacks as ``(lower, upper)`` and carries the convention, the
    per-subject values and provenance.
    """
    rdms = as_rdm_stack(subject_rdms, "subject_rdms")
    s = rdms.sizes["rdm"]
    if s < max(2, min_subjects):
        raise InvalidDataError(
            f"a leave-one-subject-out noise ceiling needs at least {max(2, min_subjects)} subject RDMs; "
            f"got {s}. With fewer subjects the lower bound rests on a single other subject; pass "
            "min_subjects=2 to accept that, or report the model scores without a ceiling")
    m = resolve_method(method)
    preset = convention if convention in PRESETS else None
    convention, pool = resolve_convention(convention, pool)
    v = condensed_vectors(rdms)
    lo, up, lo_s, up_s = ceiling_from_vectors(v, m, convention, pool, rdms.sizes["stimulus"])
    prov = make_provenance("similarity.noise_ceiling",
                           {"method": m.name, "convention": convention, "pool": pool,
                            "scheme": "leave-one-subject-out", "preset": preset},
                           inputs={"subject_rdms": input_hash(rdms)})
    return NoiseCeiling(lo, up, m.name, convention, pool, lo_s, up_s,
                        tuple(str(x) for x in rdms["rdm"].values), prov)
