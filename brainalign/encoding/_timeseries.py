"""Time series encoding: FIR delays, HRF convolution, and blocked cross-validation with a gap."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from scipy import signal
from scipy.stats import gamma

from ..errors import InvalidDataError

__all__ = ["BlockedKFold", "fir_delays", "spm_hrf", "hrf_convolve", "block_permutation"]


class BlockedKFold:
    """K-fold over contiguous blocks of a time series, with a gap around each test block.

    The samples are cut into ``n_splits`` contiguous blocks (per run, if ``groups`` give run
    labels to :meth:`split`: then whole runs are the blocks when there are at least ``n_splits``
    runs). Training samples closer than ``gap`` samples to the test block (in the same run) are
    dropped, so no training sample overlaps the test block through FIR delays or the HRF.

    Parameters
    ----------
    n_splits : number of test blocks (>= 2).
    gap : samples removed on each side of a test block from the training set (e.g. the number
        of FIR delays, or ~ HRF length / TR).
    """

    def __init__(self, n_splits: int = 5, gap: int = 0):
        if int(n_splits) < 2:
            raise InvalidDataError(f"n_splits={n_splits}: need at least 2 blocks")
        if int(gap) < 0:
            raise InvalidDataError(f"gap={gap} must be >= 0")
        self.n_splits = int(n_splits)
        self.gap = int(gap)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train, test) index arrays; ``groups`` (n_samples,) are run labels (optional)."""
        n = len(X) if not hasattr(X, "shape") else X.shape[0]
        runs = np.zeros(n, dtype=np.int64) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
        if len(runs) != n:
            raise InvalidDataError(f"groups has {len(runs)} labels for {n} samples")
        n_runs = runs.max() + 1
        idx = np.arange(n)
        if n_runs >= self.n_splits:
            # whole runs as test blocks (runs assigned round-robin in order of appearance)
            first = np.array([np.flatnonzero(runs == r)[0] for r in range(n_runs)])
            order = np.argsort(first)
            fold_of_run = np.empty(n_runs, dtype=np.int64)
            fold_of_run[order] = np.arange(n_runs) % self.n_splits
            fold = fold_of_run[runs]
        else:
            if n < self.n_splits:
                raise InvalidDataError(f"{n} samples are fewer than n_splits={self.n_splits}")
            fold = np.empty(n, dtype=np.int64)
            edges = np.linspace(0, n, self.n_splits + 1).round().astype(int)
            for f in range(self.n_splits):
                fold[edges[f]:edges[f + 1]] = f
        for f in range(self.n_splits):
            test = idx[fold == f]
            if test.size == 0:
                continue
            near = np.zeros(n, dtype=bool)
            if self.gap:
                # samples within `gap` of any test sample in the same run
                tmask = fold == f
                for r in np.unique(runs[tmask]):
                    in_run = np.flatnonzero(runs == r)
                    tpos = np.flatnonzero(tmask[in_run])
                    lo = max(0, tpos.min() - self.gap)
                    hi = min(len(in_run), tpos.max() + self.gap + 1)
                    near[in_run[lo:hi]] = True
            train = idx[(fold != f) & ~near]
            if train.size < 2:
                raise InvalidDataError(f"block {f} leaves {train.size} training samples after a gap of "
                                       f"{self.gap}; use a smaller gap or fewer blocks")
            yield train, test

    def __repr__(self) -> str:
        return f"BlockedKFold(n_splits={self.n_splits}, gap={self.gap})"


def fir_delays(X: Any, delays: Sequence[int] = (1, 2, 3, 4), *, runs: Any = None) -> np.ndarray:
    """Finite-impulse-response design: delayed copies of the features, zero-padded.

    Parameters
    ----------
    X : (n_samples, n_features) features sampled at the response rate (e.g. per TR).
    delays : sample delays; ``d > 0`` uses the past (``out[t] = X[t - d]``), ``d < 0`` the
        future, ``0`` the present.
    runs : (n_samples,) run labels; delays never cross a run boundary (zeros instead).

    Returns
    -------
    (n_samples, n_features * n_delays), blocks of n_features columns in the order of ``delays``.
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    delays = [int(d) for d in delays]
    if not delays:
        raise InvalidDataError("delays must not be empty")
    out = np.zeros((n, p * len(delays)), dtype=X.dtype if X.dtype.kind == "f" else np.float64)
    run = np.zeros(n, dtype=np.int64) if runs is None else np.unique(np.asarray(runs), return_inverse=True)[1]
    if len(run) != n:
        raise InvalidDataError(f"runs has {len(run)} labels for {n} samples")
    for j, d in enumerate(delays):
        cols = slice(j * p, (j + 1) * p)
        if d >= 0:
            src, dst = np.arange(0, n - d), np.arange(d, n)
        else:
            src, dst = np.arange(-d, n), np.arange(0, n + d)
        ok = run[src] == run[dst]
        out[dst[ok], cols] = X[src[ok]]
    return out


def spm_hrf(dt: float, *, duration: float = 32.0, peak: float = 6.0, undershoot: float = 16.0,
            ratio: float = 1.0 / 6.0) -> np.ndarray:
    """SPM canonical haemodynamic response (double gamma) sampled every ``dt`` seconds.

    ``h(t) = g(t; peak) - ratio * g(t; undershoot)`` with ``g(t; a)`` the gamma density of shape
    ``a`` and unit scale, normalised to sum 1. Returns (ceil(duration / dt),).
    """
    if dt <= 0:
        raise InvalidDataError(f"dt={dt} must be > 0")
    t = np.arange(0, duration, dt)
    h = gamma.pdf(t, peak) - ratio * gamma.pdf(t, undershoot)
    return h / h.sum()


def hrf_convolve(values: Any, onsets: Any, frame_times: Any, *, durations: Any = None,
                 oversampling: int = 20, hrf: str | np.ndarray = "spm", runs: Any = None,
                 frame_runs: Any = None) -> np.ndarray:
    """Event features -> regressors at the scan times: impulses at onsets, HRF, resample.

    Parameters
    ----------
    values : (n_events, n_features) value of each feature at each event (e.g. a word's
        embedding; a column of ones gives word rate).
    onsets : (n_events,) event times in seconds.
    frame_times : (n_frames,) acquisition times in seconds (e.g. ``np.arange(n) * TR``).
    durations : (n_events,) seconds (default: impulses).
    oversampling : time grid resolution = min TR / oversampling.
    hrf : "spm" or an array sampled on that grid.
    runs, frame_runs : run labels of events and frames: each run is convolved separately.

    Returns
    -------
    (n_frames, n_features) float64 regressors.
    """
    V = np.asarray(values, dtype=np.float64)
    if V.ndim == 1:
        V = V[:, None]
    on = np.asarray(onsets, dtype=np.float64)
    ft = np.asarray(frame_times, dtype=np.float64)
    if len(on) != len(V):
        raise InvalidDataError(f"{len(on)} onsets for {len(V)} events")
    if runs is not None or frame_runs is not None:
        if runs is None or frame_runs is None:
            raise InvalidDataError("give both runs (per event) and frame_runs (per frame)")
        er, fr = np.asarray(runs), np.asarray(frame_runs)
        out = np.zeros((len(ft), V.shape[1]))
        for r in np.unique(fr):
            e, f = er == r, fr == r
            d = None if durations is None else np.asarray(durations)[e]
            out[f] = hrf_convolve(V[e], on[e], ft[f], durations=d, oversampling=oversampling, hrf=hrf)
        return out
    if len(ft) < 2:
        raise InvalidDataError("need at least 2 frame times")
    dt = float(np.min(np.diff(ft))) / oversampling
    t0 = min(ft[0], on.min() if len(on) else ft[0])
    n_grid = int(np.ceil((ft[-1] - t0) / dt)) + 2
    grid = np.zeros((n_grid, V.shape[1]))
    if len(on):
        start = np.clip(np.round((on - t0) / dt).astype(int), 0, n_grid - 1)
        if durations is None:
            np.add.at(grid, start, V)
        else:
            dur = np.maximum(1, np.round(np.asarray(durations, dtype=float) / dt).astype(int))
            for s, d, v in zip(start, dur, V, strict=True):
                grid[s:s + d] += v
    h = spm_hrf(dt) if isinstance(hrf, str) and hrf == "spm" else np.asarray(hrf, dtype=np.float64)
    conv = signal.fftconvolve(grid, h[:, None], mode="full", axes=0)[:n_grid]
    tg = t0 + np.arange(n_grid) * dt
    out = np.empty((len(ft), V.shape[1]))
    for j in range(V.shape[1]):
        out[:, j] = np.interp(ft, tg, conv[:, j])
    return out


def block_permutation(n: int, block_size: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation of ``range(n)`` that moves contiguous blocks of ``block_size`` samples
    (the last block may be shorter), keeping the order inside each block."""
    if block_size < 1:
        raise InvalidDataError(f"block_size={block_size} must be >= 1")
    starts = np.arange(0, n, block_size)
    order = rng.permutation(len(starts))
    return np.concatenate([np.arange(starts[i], min(n, starts[i] + block_size)) for i in order])
