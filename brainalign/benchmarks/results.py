"""Benchmark results and the results database (SQLite, one row per model x benchmark run)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_ENV = "BRAINALIGN_RESULTS"
DEFAULT_RESULTS_DIR = Path("brainalign-results")


@dataclass
class ScoreResult:
    """The outcome of scoring one model on one benchmark.

    Attributes
    ----------
    model, benchmark : names as registered.
    benchmark_version : the benchmark's version; a changed formula is a new version.
    metric : what ``score`` and ``layers`` hold, e.g. ``"median pearson r over neurons"``.
    score : the best layer's score.
    best_layer : the layer with the highest score (ties: the earliest layer).
    layers : layer -> score, in the model's layer order.
    targets : layer -> target name -> score (e.g. ``{"mIT": 0.2, "hIT": 0.1}``), if several.
    ceiling : the noise ceiling(s) used and their convention, if any.
    details : anything else (per-fold spread, confidence intervals, numbers of units...).
    provenance : method, parameters, versions, seed, input hashes.
    """

    model: str
    benchmark: str
    benchmark_version: int
    metric: str
    score: float
    best_layer: str
    layers: dict[str, float]
    targets: dict[str, dict[str, float]] = field(default_factory=dict)
    ceiling: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def target_names(self) -> list[str]:
        """Names of the brain targets scored per layer (empty when there is one target)."""
        return list(next(iter(self.targets.values()))) if self.targets else []

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScoreResult:
        return cls(**d)


def results_dir(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$BRAINALIGN_RESULTS``, else ``./brainalign-results``."""
    if path is not None:
        return Path(path)
    env = os.environ.get(RESULTS_ENV)
    return Path(env) if env else DEFAULT_RESULTS_DIR


class ResultsDB:
    """Append-only store of :class:`ScoreResult` in ``<dir>/results.sqlite``.

    Every run is kept (with its time and provenance); :meth:`latest` gives the newest run per
    (model, benchmark, version), which the leaderboard and report use.
    """

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = results_dir(directory)
        self.path = self.directory / "results.sqlite"

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path)
        con.execute(
            "CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "model TEXT NOT NULL, benchmark TEXT NOT NULL, version INTEGER NOT NULL, "
            "score REAL, best_layer TEXT, created TEXT DEFAULT CURRENT_TIMESTAMP, "
            "json TEXT NOT NULL)")
        return con

    def add(self, result: ScoreResult) -> int:
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO results (model, benchmark, version, score, best_layer, json) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (result.model, result.benchmark, result.benchmark_version, result.score,
                 result.best_layer, json.dumps(result.to_dict(), default=str)))
            return int(cur.lastrowid)

    def all(self) -> Iterator[ScoreResult]:
        if not self.path.exists():
            return
        with self._connect() as con:
            for (js,) in con.execute("SELECT json FROM results ORDER BY id"):
                yield ScoreResult.from_dict(json.loads(js))

    def latest(self) -> list[ScoreResult]:
        newest: dict[tuple[str, str, int], ScoreResult] = {}
        for r in self.all():
            newest[(r.model, r.benchmark, r.benchmark_version)] = r
        return list(newest.values())
