"""Concept and control corpora for language-model unit finding: code vs prose.

- :func:`stdlib_code`: Python source files of the running interpreter's standard library
  (always present, fixed by the Python version, which is recorded);
- :func:`alice_text`: chapter 1 of *Alice's Adventures in Wonderland* as heard in the Brennan et
  al. (2016) fMRI study (the 2127 TextGrid words of ``load_dataset("brennan2016")``);
- :func:`code_and_prose_chunks`: both cut into windows of a fixed number of tokens, grouped by
  source (file, or run of consecutive passages) so that finding and held-out chunks never share a
  file or a passage.
"""

from __future__ import annotations

import os
import platform
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.stimuli import StimulusSet
from ..errors import InvalidDataError

__all__ = ["STDLIB_FILES", "stdlib_code", "alice_text", "Chunks", "code_and_prose_chunks"]

#: Pure-Python standard-library modules used as the code corpus (sorted, fixed).
STDLIB_FILES = (
    "base64.py", "bisect.py", "calendar.py", "colorsys.py", "contextlib.py", "copy.py", "csv.py",
    "dataclasses.py", "difflib.py", "fnmatch.py", "fractions.py", "functools.py", "glob.py",
    "graphlib.py", "heapq.py", "json/decoder.py", "json/encoder.py", "operator.py", "pprint.py",
    "queue.py", "random.py", "sched.py", "shlex.py", "statistics.py", "string.py", "textwrap.py",
)


def stdlib_code(files: Sequence[str] = STDLIB_FILES) -> dict[str, str]:
    """``{relative path: source}`` of standard-library files (Python version in ``platform``)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    out = {}
    for f in files:
        p = root / f
        if not p.exists():
            raise InvalidDataError(f"standard-library file {f} not found under {root} (Python "
                                   f"{platform.python_version()}); pass other files")
        out[f] = p.read_text(encoding="utf-8")
    return out


def alice_text(root: str | os.PathLike | None = None) -> str:
    """The Alice chapter as one string (TextGrid words joined by spaces)."""
    from ..data import load_dataset
    from ..data.datasets.brennan import SUBJECTS

    d = load_dataset("brennan2016", root=root, subjects=[SUBJECTS[0]])  # the words are shared
    words = d.extra["words"]["word"].tolist()
    return " ".join(str(w) for w in words)


@dataclass
class Chunks:
    """Token windows from several corpora.

    Attributes
    ----------
    texts_ : the chunk texts; ``corpus``: the corpus of each; ``group``: its source group (a file
        or a run of passages); ``ids``: unique ids ``"<corpus>/<group>/<k>"``.
    """

    texts_: list[str]
    corpus: list[str]
    group: list[str]
    ids: list[str]

    def __len__(self) -> int:
        return len(self.texts_)

    def texts(self, corpus: str | None = None) -> list[str]:
        return [t for t, c in zip(self.texts_, self.corpus, strict=True) if corpus is None or c == corpus]

    def _take(self, keep: Sequence[bool]) -> Chunks:
        sel = [i for i, k in enumerate(keep) if k]
        return Chunks([self.texts_[i] for i in sel], [self.corpus[i] for i in sel],
                      [self.group[i] for i in sel], [self.ids[i] for i in sel])

    def split(self, fold: int = 0) -> tuple[Chunks, Chunks]:
        """(finding, held-out): whole groups alternate between the two, per corpus."""
        pos: dict[str, int] = {}
        for c, g in dict.fromkeys(zip(self.corpus, self.group, strict=True)):
            pos[f"{c}\x1f{g}"] = sum(1 for k in pos if k.startswith(c + "\x1f"))
        first = [(pos[f"{c}\x1f{g}"] + fold) % 2 == 0 for c, g in zip(self.corpus, self.group, strict=True)]
        return self._take(first), self._take([not f for f in first])

    def stimulus_set(self, name: str = "chunks") -> StimulusSet:
        import pandas as pd

        meta = pd.DataFrame({"corpus": self.corpus, "group": self.group}, index=self.ids)
        return StimulusSet.from_texts(self.texts_, self.ids, name=name, metadata=meta)


def code_and_prose_chunks(tokenizer: Any, code: Mapping[str, str], prose: str, *, n_chunks: int = 40,
                          chunk_tokens: int = 64, passages_per_group: int = 4) -> Chunks:
    """Cut code files and a prose text into windows of ``chunk_tokens`` tokens.

    Code: consecutive windows from each file in turn (round robin over files) until ``n_chunks``;
    group = file. Prose: the first ``n_chunks`` windows of the text; group = runs of
    ``passages_per_group`` consecutive windows. Windows are decoded back to text, so a re-encoded
    chunk may differ by a token at its edges.
    """
    def windows(text: str) -> list[str]:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        return [tokenizer.decode(ids[i:i + chunk_tokens]) for i in range(0, len(ids) - chunk_tokens + 1,
                                                                            chunk_tokens)]

    per_file = {f: windows(src) for f, src in code.items()}
    texts, corpus, group, ids = [], [], [], []
    k = 0
    while len(texts) < n_chunks and any(len(v) > k for v in per_file.values()):
        for f, w in per_file.items():
            if k < len(w) and len(texts) < n_chunks:
                texts.append(w[k])
                corpus.append("code")
                group.append(f)
                ids.append(f"code/{f}/{k}")
        k += 1
    pw = windows(prose)[:n_chunks]
    if len(pw) < 4 or len(texts) < 4:
        raise InvalidDataError(f"too little text: {len(texts)} code and {len(pw)} prose chunks of "
                               f"{chunk_tokens} tokens")
    for i, w in enumerate(pw):
        texts.append(w)
        corpus.append("prose")
        group.append(f"passage{i // passages_per_group}")
        ids.append(f"prose/{i}")
    return Chunks(texts, corpus, group, ids)
