"""Selectivity of units (model or brain) over labelled stimuli.

For every unit and every class ``c`` of a labelling, the unit's responses to the stimuli of ``c``
("in") are compared with its responses to all other labelled stimuli ("out", one-vs-rest):

============  =======================================================================================
statistic     definition (``m`` mean, ``v`` variance with ``ddof=1``, ``n`` count)
============  =======================================================================================
``t``         Welch's t (default), ``(m_in - m_out) / sqrt(v_in/n_in + v_out/n_out)``; Student's
              pooled-variance t with ``equal_var=True``. Same as :func:`scipy.stats.ttest_ind`.
``dprime``    ``(m_in - m_out) / sqrt((v_in + v_out) / 2)`` (the d' of face-cell studies).
``si``        selectivity index ``(m_in - m_out) / (|m_in| + |m_out|)``; equals the classic
              ``(R_in - R_out) / (R_in + R_out)`` for non-negative responses, in [-1, 1].
``F``         one-way ANOVA F across all classes, as :func:`scipy.stats.f_oneway`.
============  =======================================================================================

p-values: ``p`` parametric (t or F distribution); ``p_perm`` from label permutations,
``(1 + #{|t_perm| >= |t_obs|}) / (1 + n_permutations)`` (Phipson & Smyth 2010; two-sided by
default, ``alternative="greater"`` asks for a preference for the class); ``q`` are
Benjamini-Hochberg FDR-adjusted ``p_perm`` (or ``p`` without permutations) across units, per class.

Units whose responses are constant over the labelled stimuli (for example ReLU units that never
activate) have no defined statistics: they get NaN statistics and p-values, are left out of the FDR
correction, and are flagged ``active == False``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats as sps

from ..errors import InvalidDataError
from ..provenance import dumps, hash_array, make_provenance
from ..responses import get_provenance
from ._common import (
    LabelsLike,
    encode_classes,
    fdr,
    resolve_labels,
    response_matrix,
    unit_coords,
)

__all__ = ["selectivity", "selective_units", "class_statistics"]

_ALTERNATIVES = ("two-sided", "greater", "less")


def class_statistics(x: np.ndarray, codes: np.ndarray, n_classes: int, *, equal_var: bool = False
                     ) -> dict[str, np.ndarray]:
    """One-vs-rest t, d', means and variances, and the ANOVA F, for one labelling.

    Parameters
    ----------
    x : array, shape (n_stimuli, n_units); should be column-centred for accuracy.
    codes : int array, shape (n_stimuli,) or (n_perm, n_stimuli): class of each stimulus.
    n_classes : number of classes ``C``.

    Returns
    -------
    dict with ``t``, ``dprime``, ``mean_in``, ``mean_out``, ``var_in``, ``var_out``, ``df`` of shape
    ([n_perm,] C, n_units) and ``F`` of shape ([n_perm,] n_units).
    """
    single = codes.ndim == 1
    codes2 = codes[None] if single else codes
    b, n = codes2.shape
    onehot = np.zeros((b, n_classes, n), dtype=x.dtype)
    np.put_along_axis(onehot, codes2[:, None, :], 1.0, axis=1)
    s = (onehot.reshape(b * n_classes, n) @ x).reshape(b, n_classes, -1)
    q = (onehot.reshape(b * n_classes, n) @ (x * x)).reshape(b, n_classes, -1)
    n_in = onehot.sum(axis=2)[:, :, None]  # (b, C, 1)
    s_tot = x.sum(axis=0)
    q_tot = (x * x).sum(axis=0)
    n_out = n - n_in
    with np.errstate(divide="ignore", invalid="ignore"):
        m_in = s / n_in
        m_out = (s_tot - s) / n_out
        v_in = np.maximum(q - s * m_in, 0.0) / (n_in - 1)
        v_out = np.maximum((q_tot - q) - (s_tot - s) * m_out, 0.0) / (n_out - 1)
        diff = m_in - m_out
        if equal_var:
            pooled = ((n_in - 1) * v_in + (n_out - 1) * v_out) / (n - 2)
            t = diff / np.sqrt(pooled * (1 / n_in + 1 / n_out))
            df = np.broadcast_to(np.asarray(n - 2.0), t.shape)
        else:
            a, c = v_in / n_in, v_out / n_out
            t = diff / np.sqrt(a + c)
            df = (a + c) ** 2 / (a * a / (n_in - 1) + c * c / (n_out - 1))
        dprime = diff / np.sqrt((v_in + v_out) / 2)
        between = (s * s / n_in).sum(axis=1) - s_tot * s_tot / n
        within = q_tot - (s * s / n_in).sum(axis=1)
        f = (between / (n_classes - 1)) / (np.maximum(within, 0.0) / (n - n_classes))
    out = {"t": t, "dprime": dprime, "mean_in": m_in, "mean_out": m_out, "var_in": v_in,
           "var_out": v_out, "df": df, "F": f}
    if single:
        out = {k: v[0] for k, v in out.items()}
    return out


def _exceed(perm: np.ndarray, obs: np.ndarray, alternative: str) -> np.ndarray:
    """Counts of permutation statistics at least as extreme as the observed, summed over axis 0."""
    tol = 1e-12 * np.maximum(np.abs(obs), 1.0)  # float ties count as exceedances (as in scipy)
    with np.errstate(invalid="ignore"):
        if alternative == "two-sided":
            hit = np.abs(perm) >= np.abs(obs) - tol
        elif alternative == "greater":
            hit = perm >= obs - tol
        else:
            hit = perm <= obs + tol
    return hit.sum(axis=0)


def selectivity(
    responses: xr.DataArray,
    labels: LabelsLike,
    *,
    classes: Sequence[str] | None = None,
    n_permutations: int = 1000,
    alternative: str = "two-sided",
    equal_var: bool = False,
    fdr_method: str = "bh",
    min_per_class: int = 2,
    seed: int | None = 0,
    stimuli_metadata: pd.DataFrame | None = None,
    max_batch_bytes: int = 256 << 20,
) -> xr.Dataset:
    """Selectivity statistics of every unit for every class of a labelling.

    Parameters
    ----------
    responses : responses array, dims (stimulus, unit) (reduce ``time``/``repeat`` first).
    labels : a stimulus coordinate name (or a column of ``stimuli_metadata``), one label per
        stimulus, or a Series / mapping from stimulus id to label. Stimuli with a missing label
        (``None``, NaN, ``""``) are left out (their number is in the provenance).
    classes : keep only these classes (in this order); default all, sorted.
    n_permutations : label permutations for ``p_perm`` (0 to skip).
    alternative : ``"two-sided"``, ``"greater"`` (the unit prefers the class) or ``"less"``; for
        the t-based p-values. The F test is always one-sided.
    equal_var : Student's pooled t instead of Welch's.
    fdr_method : ``"bh"`` or ``"by"``; correction across units, per class.
    min_per_class : fewer labelled stimuli in any class is an error.
    seed : seed of the permutations (recorded in the provenance).
    stimuli_metadata : metadata table (e.g. ``StimulusSet.metadata``) to look ``labels`` up in.
    max_batch_bytes : memory budget of one batch of permutations.

    Returns
    -------
    xarray.Dataset with dims ``unit`` and ``label`` (the classes):

    - ``t``, ``dprime``, ``si``, ``mean_in``, ``mean_out``, ``p``, ``p_perm``, ``q``: (unit, label);
    - ``F``, ``p_F``, ``p_F_perm``, ``q_F``, ``active``: (unit,);
    - coordinate ``n_stimuli`` on ``label``; the unit coordinates of ``responses``;
    - ``attrs["provenance"]`` (JSON: settings, seed, input hashes, parent provenance).

    Raises
    ------
    InvalidDataError
        For a single class, too few stimuli in a class, NaN responses, extra dimensions, or when
        every unit is constant.
    """
    if alternative not in _ALTERNATIVES:
        raise InvalidDataError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")
    if n_permutations < 0:
        raise InvalidDataError(f"n_permutations must be >= 0, got {n_permutations}")
    x_all = response_matrix(responses)
    lab, lab_name = resolve_labels(responses, labels, stimuli_metadata=stimuli_metadata)
    keep, cls, codes = encode_classes(lab, min_per_class=max(min_per_class, 2), name=lab_name,
                                      classes=classes)
    x = x_all[keep]
    col_mean = x.mean(axis=0)
    xc = x - col_mean
    n, n_units = xc.shape
    n_cls = len(cls)
    active = np.ptp(x, axis=0) > 0
    if not active.any():
        raise InvalidDataError(
            "every unit's response is constant over the labelled stimuli (units that never activate?);"
            " nothing to test. Check the layer or the stimuli.")
    if not active.all():
        warnings.warn(f"{int((~active).sum())} of {n_units} units have constant responses (never "
                      "activate); their statistics are NaN and they are left out of the FDR correction.",
                      stacklevel=2)
    obs = class_statistics(xc, codes, n_cls, equal_var=equal_var)
    t, f = obs["t"], obs["F"]
    t[:, ~active] = np.nan
    f[~active] = np.nan
    p = _t_pvalue(t, obs["df"], alternative)
    p_f = sps.f.sf(f, n_cls - 1, n - n_cls)

    p_perm = np.full_like(t, np.nan)
    p_f_perm = np.full_like(f, np.nan)
    if n_permutations:
        rng = np.random.default_rng(seed)
        per_perm = n_cls * n_units * 8 * 10 + n * n_cls * 8
        batch = int(max(1, min(n_permutations, max_batch_bytes // max(per_perm, 1))))
        cnt_t = np.zeros_like(t)
        cnt_f = np.zeros_like(f)
        done = 0
        while done < n_permutations:
            b = min(batch, n_permutations - done)
            perm_codes = np.stack([rng.permutation(codes) for _ in range(b)])
            ps = class_statistics(xc, perm_codes, n_cls, equal_var=equal_var)
            cnt_t += _exceed(ps["t"], t, alternative)
            cnt_f += _exceed(ps["F"], f, "greater")
            done += b
        p_perm = (1.0 + cnt_t) / (1.0 + n_permutations)
        p_f_perm = (1.0 + cnt_f) / (1.0 + n_permutations)
        p_perm[:, ~active] = np.nan
        p_f_perm[~active] = np.nan
    q = fdr(p_perm if n_permutations else p, method=fdr_method, axis=1)
    q_f = fdr(p_f_perm if n_permutations else p_f, method=fdr_method)

    m_in = obs["mean_in"] + col_mean
    m_out = obs["mean_out"] + col_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        si = (m_in - m_out) / (np.abs(m_in) + np.abs(m_out))
    dprime = obs["dprime"]
    dprime[:, ~active] = np.nan
    si[:, ~active] = np.nan

    counts = np.bincount(codes, minlength=n_cls)
    coords = unit_coords(responses)
    coords["label"] = np.asarray(cls, dtype=object)
    coords["n_stimuli"] = ("label", counts)
    ul = ("unit", "label")
    ds = xr.Dataset(
        {
            "t": (ul, t.T), "dprime": (ul, dprime.T), "si": (ul, si.T),
            "mean_in": (ul, m_in.T), "mean_out": (ul, m_out.T),
            "p": (ul, p.T), "p_perm": (ul, p_perm.T), "q": (ul, q.T),
            "F": ("unit", f), "p_F": ("unit", p_f), "p_F_perm": ("unit", p_f_perm),
            "q_F": ("unit", q_f), "active": ("unit", active),
        },
        coords=coords,
    )
    params: dict[str, Any] = {
        "labels": lab_name, "classes": cls, "n_per_class": counts.tolist(),
        "n_unlabelled_dropped": int((~keep).sum()), "n_permutations": n_permutations,
        "alternative": alternative, "t": "student" if equal_var else "welch",
        "comparison": "one-vs-rest", "fdr": fdr_method, "fdr_input": "p_perm" if n_permutations else "p",
        "min_per_class": min_per_class, "n_constant_units": int((~active).sum()),
        "conventions": {
            "dprime": "(m_in - m_out) / sqrt((v_in + v_out)/2), ddof=1",
            "si": "(m_in - m_out) / (|m_in| + |m_out|)",
            "p_perm": "(1 + #{perm >= obs}) / (1 + n_permutations), Phipson & Smyth 2010",
        },
    }
    prov = make_provenance("units.selectivity", params, seed=seed,
                           inputs={"responses": hash_array(x_all), "labels": hash_array(lab.astype(str))},
                           parents=[get_provenance(responses)] if responses.attrs.get("provenance") else None)
    ds.attrs["provenance"] = dumps(prov)
    return ds


def _t_pvalue(t: np.ndarray, df: np.ndarray, alternative: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if alternative == "two-sided":
            return 2 * sps.t.sf(np.abs(t), df)
        if alternative == "greater":
            return sps.t.sf(t, df)
        return sps.t.cdf(t, df)


def selective_units(result: xr.Dataset, label: str | None = None, *, n: int | None = 10,
                    by: str = "t", q_max: float | None = None, positive: bool = True) -> pd.DataFrame:
    """A table of the most selective units, per class.

    Parameters
    ----------
    result : output of :func:`selectivity`.
    label : one class; default every class.
    n : rows per class (``None`` for all).
    by : rank by ``"t"``, ``"dprime"`` or ``"si"`` (largest first if ``positive``, else smallest).
    q_max : keep units with ``q <= q_max`` only.
    positive : units preferring the class (largest statistic) or avoiding it.

    Returns
    -------
    DataFrame with columns ``label, rank, unit``, the unit coordinates, and ``t, dprime, si,
    mean_in, mean_out, p, p_perm, q``.
    """
    if by not in ("t", "dprime", "si"):
        raise InvalidDataError(f"by must be 't', 'dprime' or 'si', got {by!r}")
    labels = [str(v) for v in result["label"].values]
    if label is not None:
        if str(label) not in labels:
            raise InvalidDataError(f"class {label!r} is not in the result; classes: {labels}")
        labels = [str(label)]
    ucols = [str(c) for c in result.coords if c != "unit" and result[c].dims == ("unit",)]
    rows = []
    for lab in labels:
        r = result.sel(label=lab)
        score = np.asarray(r[by].values, dtype=float)
        ok = np.isfinite(score)
        if q_max is not None:
            ok &= np.asarray(r["q"].values <= q_max)
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(-score[idx] if positive else score[idx], kind="stable")]
        if n is not None:
            idx = idx[:n]
        for rank, i in enumerate(idx):
            row: dict[str, Any] = {"label": lab, "rank": rank, "unit": str(result["unit"].values[i])}
            for c in ucols:
                row[c] = result[c].values[i]
            for v in ("t", "dprime", "si", "mean_in", "mean_out", "p", "p_perm", "q"):
                row[v] = float(r[v].values[i])
            rows.append(row)
    cols = ["label", "rank", "unit", *ucols, "t", "dprime", "si", "mean_in", "mean_out", "p", "p_perm", "q"]
    return pd.DataFrame(rows, columns=cols)
