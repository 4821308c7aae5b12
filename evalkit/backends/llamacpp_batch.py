"""Multi-sequence decoding on one llama.cpp context.

A *run* is a stretch of tokens of one sequence at consecutive positions. Runs of
several sequences are packed into ``llama_batch`` calls of up to ``n_batch``
tokens (each token tagged with its own sequence id), so a few dozen question
suffixes, or one new token of each of 16 generations, cost one forward pass.
In the unified KV cache ``llama_memory_seq_cp`` only tags the shared prefix's
cells with more sequence ids, it copies nothing; between per-sequence streams it
copies the stream (``llamacpp_kv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LOGITS_NONE, LOGITS_LAST, LOGITS_ALL = "none", "last", "all"


@dataclass
class Run:
    """Tokens of sequence *seq* at positions pos, pos+1, ...; which of them need logits."""

    seq: int
    tokens: Sequence[int]
    pos: int
    logits: str = LOGITS_LAST

    def wants(self, offset: int) -> bool:
        return self.logits == LOGITS_ALL or (self.logits == LOGITS_LAST and offset == len(self.tokens) - 1)


class DecodeError(RuntimeError):
    pass


class BatchDecoder:
    """Owns one ``llama_batch``; counts every token it evaluates in ``tokens_decoded``."""

    def __init__(self, C, ctx, n_batch: int, n_vocab: int):
        self._C, self._ctx, self.n_batch, self.n_vocab = C, ctx, n_batch, n_vocab
        self._batch = C.llama_batch_init(n_batch, 0, 1)
        b = self._batch
        self._tok = np.ctypeslib.as_array(b.token, shape=(n_batch,))
        self._pos = np.ctypeslib.as_array(b.pos, shape=(n_batch,))
        self._nseq = np.ctypeslib.as_array(b.n_seq_id, shape=(n_batch,))
        self._out = np.ctypeslib.as_array(b.logits, shape=(n_batch,))
        self._seq = [np.ctypeslib.as_array(b.seq_id[i], shape=(1,)) for i in range(n_batch)]
        self.tokens_decoded = 0
        self.calls = 0

    def decode(self, runs: Sequence[Run]) -> dict[int, list[np.ndarray]]:
        """Evaluate all *runs* (in as few calls as fit); return copied logit rows per run index, in order."""
        out: dict[int, list[np.ndarray]] = {}
        pending: list[tuple[int, Run, int, int]] = []  # (run index, run, lo, hi) slices of runs for one call
        room = self.n_batch
        for r_idx, run in enumerate(runs):
            lo = 0
            while lo < len(run.tokens):
                take = min(room, len(run.tokens) - lo)
                pending.append((r_idx, run, lo, lo + take))
                lo += take
                room -= take
                if room == 0:
                    self._flush(pending, out)
                    pending, room = [], self.n_batch
        if pending:
            self._flush(pending, out)
        return out

    def step(self, runs: Sequence[Run]) -> dict[int, int]:
        """One call for runs totalling at most n_batch tokens; return the batch row of each run's last logits.

        The rows stay valid until the next decode: use them with ``llama_sampler_sample``.
        """
        n, rows = self._fill([(i, run, 0, len(run.tokens)) for i, run in enumerate(runs)])
        self._call(n)
        return dict(rows)

    # -- internals ---------------------------------------------------------------------------
    def _fill(self, slices) -> tuple[int, list[tuple[int, int]]]:
        """Write the slices into the batch; return its size and (run index, batch row) of each wanted logit."""
        n = 0
        rows: list[tuple[int, int]] = []
        for r_idx, run, lo, hi in slices:
            k = hi - lo
            if n + k > self.n_batch:
                raise DecodeError(f"batch of {n + k} tokens exceeds n_batch {self.n_batch}")
            self._tok[n : n + k] = run.tokens[lo:hi]
            self._pos[n : n + k] = np.arange(run.pos + lo, run.pos + hi)
            self._nseq[n : n + k] = 1
            for j in range(k):
                self._seq[n + j][0] = run.seq
                want = run.wants(lo + j)
                self._out[n + j] = want
                if want:
                    rows.append((r_idx, n + j))
            n += k
        return n, rows

    def _call(self, n: int) -> None:
        self._batch.n_tokens = n
        rc = self._C.llama_decode(self._ctx, self._batch)
        self.calls += 1
        if rc != 0:
            raise DecodeError(f"llama_decode failed with code {rc} (no room left in the KV cache?)")
        self.tokens_decoded += n

    def _flush(self, slices, out: dict[int, list[np.ndarray]]) -> None:
        n, rows = self._fill(slices)
        self._call(n)
        for r_idx, row in rows:
            ptr = self._C.llama_get_logits_ith(self._ctx, row)
            out.setdefault(r_idx, []).append(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy())

    def close(self) -> None:
        if self._batch is not None:
            self._C.llama_batch_free(self._batch)
            self._batch = None
