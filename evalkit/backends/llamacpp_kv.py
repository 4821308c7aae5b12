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

import numpy as np

from evalkit.backends.llamacpp_batch import LOGITS_LAST, LOGITS_NONE, BatchDecoder, Run

STREAM_MIN_TOKENS = 128  # generations allowed this many tokens or more run on per-sequence streams
STREAMS_MAX = 16  # live sequences on streams (a pass with 32 was no faster than with 16, docs/speed.md)
STREAM_CELLS_MAX = 8192  # total cells of a streams context, unless n_ctx is larger (SmolLM2-135M: 189 MB in f16)
CELL_ROUND = 256  # llama.cpp pads the attended cells to this


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


def stream_shape(need: int, budget: int, live: int, n_ctx: int) -> tuple[int, int] | None:
    """(sequence ids, cells per stream) for generations needing up to *need* cells each, or None for unified.

    Streams pay off when sequences grow long (*budget*, the most tokens one may generate, at
    least STREAM_MIN_TOKENS) and more than one is live. Their cells are bounded by
    ``max(n_ctx, STREAM_CELLS_MAX)``: fewer live sequences if the prompts are long, and the
    unified cache when not even two fit beside the prefix's stream.
    """
    if live < 2 or budget < STREAM_MIN_TOKENS:
        return None
    per_seq = round_cells(need)
    seqs = min(live, STREAMS_MAX, max(n_ctx, STREAM_CELLS_MAX) // per_seq - 1) + 1
    return (seqs, per_seq) if seqs >= 3 else None


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
