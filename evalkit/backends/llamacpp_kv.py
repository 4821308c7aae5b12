"""The KV caches a :class:`~evalkit.backends.llamacpp.LlamaCppBackend` decodes into.

*Unified* (the context llama-cpp-python creates at load): one pool of ``n_ctx`` cells for
every sequence. Forking a sequence tags the shared prefix's cells with one more sequence id
(nothing is copied), but every token of a pass attends over every used cell, masked to its
own sequence. That is cheap while the live sequences are short, and it is what multiple
choice and short generations use.

*Streams* (a second context on the same weights, ``kv_unified=False``): each sequence has a
stream of its own ``per_seq`` cells and attends only over them; forking copies the prefix's
stream. Long generations use it: with 16 live SmolLM2-135M sequences of 494 cells each, a
pass over the unified cache ran at 86.3 tokens/s, no faster than one sequence, and over
streams at 174.4 tokens/s (benchmarks/bench_passes.py; docs/speed.md, "Per-sequence KV
streams in the product").
"""

from __future__ import annotations

import ctypes

import numpy as np

from evalkit.backends.llamacpp_batch import LOGITS_LAST, LOGITS_NONE, BatchDecoder, Run

STREAM_MIN_TOKENS = 128  # generations allowed this many tokens or more run on per-sequence streams
STREAMS_MAX = 32  # live sequences on streams (a pass still gains from 16 to 25 and 32 live, docs/speed.md)
STREAM_KV_BYTES = 512 << 20  # KV memory of a streams context, unless the unified cache's is larger
CELL_ROUND = 256  # llama.cpp rounds each stream's cells up to this (and pads the attended cells to it)
_TYPE_BYTES = {0: 4.0, 1: 2.0, 8: 34 / 32, 30: 2.0}  # ggml types a KV cache may hold: f32, f16, q8_0, bf16


class KVCache:
    """One llama.cpp context's KV cache: sequence 0 holds the latest shared prefix, forks read from it.

    ``per_seq`` is None for the unified cache (``n_ctx`` cells shared by all sequences) and
    the cells of each stream otherwise; ``seqs`` is how many sequence ids the context has.
    """

    def __init__(self, C, ctx, *, n_ctx: int, n_batch: int, n_vocab: int, seqs: int, per_seq: int | None = None, owner=None):
        self._C, self.ctx, self.n_ctx, self.seqs, self.per_seq = C, ctx, n_ctx, seqs, per_seq
        self._owner = owner  # the llama_cpp._internals.LlamaContext this cache created, if any
        self.mem = C.llama_get_memory(ctx)
        self.decoder = BatchDecoder(C, ctx, n_batch, n_vocab)
        self.cached: list[int] = []  # tokens whose KV is in sequence 0

    @property
    def streams(self) -> bool:
        return self.per_seq is not None

    def fits(self, n_shared: int, reserved: int, cells: int) -> bool:
        """Can one more sequence of *cells* own cells join, beside *reserved* cells of the live ones?"""
        if self.per_seq is not None:
            return n_shared + cells <= self.per_seq
        return n_shared + reserved + cells <= self.n_ctx

    def hold_prefix(self, tokens: list[int], want_logits: bool = False) -> np.ndarray | None:
        """Make sequence 0 hold exactly *tokens*, reusing the longest common prefix already there.

        With *want_logits* at least the last token is decoded and its logits returned.
        """
        room = self.per_seq or self.n_ctx
        if len(tokens) > room:
            raise ValueError(f"prompt of {len(tokens)} tokens exceeds the context of {room}")
        limit = min(len(self.cached), len(tokens) - (1 if want_logits else 0))
        n = 0
        while n < limit and self.cached[n] == tokens[n]:
            n += 1
        self._C.llama_memory_seq_rm(self.mem, 0, n, -1)
        self.cached = self.cached[:n]
        new = tokens[n:]
        rows = self.decoder.decode([Run(0, new, n, LOGITS_LAST if want_logits else LOGITS_NONE)]) if new else {}
        self.cached = list(tokens)
        return rows[0][-1] if want_logits else None

    def fork(self, seq: int, src: int = 0) -> None:
        """Let *seq* see every cell of *src*: tagged in the unified cache, copied between streams."""
        self._C.llama_memory_seq_cp(self.mem, src, seq, -1, -1)

    def drop(self, seq: int) -> None:
        self._C.llama_memory_seq_rm(self.mem, seq, -1, -1)

    def reset(self) -> None:
        self._C.llama_memory_clear(self.mem, True)
        self.cached = []

    def close(self) -> None:
        if self.decoder is not None:
            self.decoder.close()
            self.decoder = None
        if self._owner is not None:
            self._owner.close()
            self._owner = None


def round_cells(n: int) -> int:
    return -(-n // CELL_ROUND) * CELL_ROUND


def cell_bytes(llm) -> int:
    """Bytes one KV cell takes in every layer of *llm*'s model (K and V), from its GGUF metadata."""
    from llama_cpp import llama_cpp as C

    model = llm._model.model
    buf = ctypes.create_string_buffer(128)

    def meta(key: str) -> str | None:
        n = C.llama_model_meta_val_str(model, key.encode(), buf, len(buf))
        return buf.value.decode() if n > 0 else None

    arch = meta("general.architecture") or ""
    head = C.llama_model_n_embd(model) // max(1, C.llama_model_n_head(model))
    k_len = int(meta(f"{arch}.attention.key_length") or head)
    v_len = int(meta(f"{arch}.attention.value_length") or head)
    params = llm.context_params
    per_layer = C.llama_model_n_head_kv(model) * (k_len * _TYPE_BYTES.get(params.type_k, 2.0) + v_len * _TYPE_BYTES.get(params.type_v, 2.0))
    return max(1, int(C.llama_model_n_layer(model) * per_layer))


def stream_shape(need: int, budget: int, requests: int, limit: int, cells_max: int) -> tuple[int, int] | None:
    """(sequence ids, cells per stream) for *requests* generations needing up to *need* cells each, or None.

    Streams pay off when sequences grow long (*budget*, the most tokens one may generate, at
    least STREAM_MIN_TOKENS) and more than one is live (at most *limit*, the backend's
    ``n_parallel``, and STREAMS_MAX). All streams, the prefix's included, fit in *cells_max*
    cells: fewer live sequences if the prompts are long, and None (the unified cache) when not
    even two fit. The requests are spread evenly over the fewest waves the cap allows: 100
    requests that all run to their token limit take 4 waves of 25, not 3 of 32 and a last of 4
    whose passes carry 4 tokens each.
    """
    if requests < 2 or limit < 2 or budget < STREAM_MIN_TOKENS:
        return None
    per_seq = round_cells(need)
    cap = min(limit, STREAMS_MAX, cells_max // per_seq - 1)
    if cap < 2:
        return None
    waves = -(-requests // cap)
    return -(-requests // waves) + 1, per_seq


def open_streams(llm, C, *, seqs: int, per_seq: int, n_batch: int, n_vocab: int) -> KVCache:
    """A streams cache: a new context on *llm*'s weights with the main context's settings but ``seqs`` streams."""
    from llama_cpp._internals import LlamaContext

    base = llm.context_params
    params = type(base).from_buffer_copy(base)
    params.n_ctx, params.n_seq_max, params.kv_unified = seqs * per_seq, seqs, False
    try:
        owner = LlamaContext(model=llm._model, params=params, verbose=False)
    except ValueError as exc:
        raise RuntimeError(f"llama.cpp could not create {seqs} KV streams of {per_seq} cells ({exc})") from None
    return KVCache(C, owner.ctx, n_ctx=seqs * per_seq, n_batch=n_batch, n_vocab=n_vocab, seqs=seqs, per_seq=per_seq, owner=owner)
