"""Multiple-choice scoring on a :class:`~evalkit.backends.llamacpp.LlamaCppBackend`.

Default path, one question at a time: sequence 0 keeps the tokens of the
previous prompt, so the few-shot prefix shared by a subject's questions is
decoded once and each question costs one forward pass over its own tokens; the
choices are read from that pass's last logit row. Continuations of more than one
token (classification labels) are decoded together, each on a sequence forked
from the question's, in as few forward passes as fit.

Question batching (``batch_questions=True``): a *wave* of up to ``n_parallel``
questions runs as sequences 1..W that borrow the prefix's cells, all question
suffixes packed into ``n_batch``-token forward passes. On this project's 2-core
CPU it was not faster (a 64-token pass after a 600-token prefix already runs at
~94% of the 512-token rate), and it changes the floating-point result slightly
(llama.cpp's attention sums depend on where in the cache a sequence's cells lie),
so it is opt-in; see docs/speed.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from evalkit.backends.llamacpp_batch import LOGITS_ALL, Run
from evalkit.types import ChoiceRequest, ChoiceResult


def log_softmax_at(logits: np.ndarray, tokens: Sequence[int]) -> list[float]:
    """log p(token) under *logits* for each token (float64 log-sum-exp)."""
    row = logits.astype(np.float64)
    top = float(row.max())
    lse = top + float(np.log(np.exp(row - top).sum()))
    return [float(row[t]) - lse for t in tokens]


@dataclass
class _Prepared:
    index: int
    ctx: list[int]
    conts: list[list[int]]
    scores: list[float] = field(default_factory=list)

    @property
    def extra_cells(self) -> int:
        return sum(len(c) - 1 for c in self.conts)


def _prepare(backend, req: ChoiceRequest, index: int) -> _Prepared:
    context = req.prefix + req.body
    ctx = backend.tokenize(context)
    conts = [backend.continuation_tokens(context, ctx, c) for c in req.continuations]
    return _Prepared(index, ctx, conts)


# -- one question at a time (default) -------------------------------------------------------
def score_sequential(backend, req: ChoiceRequest) -> ChoiceResult:
    """One forward pass for the question, after what sequence 0 already holds (the prefix, and any tokens
    shared with the previous question); then the later tokens of multi-token continuations."""
    t0 = time.perf_counter()
    before = backend.tokens_decoded
    try:
        p = _prepare(backend, req, 0)
        need = len(p.ctx) + max([len(c) - 1 for c in p.conts] + [0])  # the longest continuation must fit too
        if need > backend.n_ctx:
            raise ValueError(f"prompt of {need} tokens exceeds the context of {backend.n_ctx}")
        first = backend.hold_prefix(p.ctx, want_logits=True)
        p.scores = log_softmax_at(first, [c[0] for c in p.conts])
        _continue_multi_token(backend, [p], [0], used=len(p.ctx))
    except (ValueError, RuntimeError) as exc:
        backend.reset()
        return ChoiceResult([], 0, 0, (time.perf_counter() - t0) * 1000, error=str(exc))
    return ChoiceResult(p.scores, len(p.ctx), backend.tokens_decoded - before, (time.perf_counter() - t0) * 1000)


# -- parallel path -------------------------------------------------------------------------------
def score_parallel(backend, requests: Sequence[ChoiceRequest]) -> list[ChoiceResult]:
    results: list[ChoiceResult | None] = [None] * len(requests)
    for group in _runs_of_same_prefix(requests):
        _score_group(backend, requests, group, results)
    return results  # type: ignore[return-value]


def _runs_of_same_prefix(requests: Sequence[ChoiceRequest]) -> list[list[int]]:
    groups: list[list[int]] = []
    for i, req in enumerate(requests):
        if groups and requests[groups[-1][0]].prefix == req.prefix:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def shared_length(prefix_tokens: list[int], contexts: Sequence[list[int]]) -> int:
    """Tokens of the prefix that every context starts with, leaving each context at least one token."""
    n = min([len(prefix_tokens)] + [len(c) - 1 for c in contexts])
    for ctx in contexts:
        k = 0
        while k < n and ctx[k] == prefix_tokens[k]:
            k += 1
        n = k
    return max(n, 0)


def _score_group(backend, requests, group: list[int], results: list) -> None:
    ok: list[_Prepared] = []
    for i in group:
        p = _prepare(backend, requests[i], i)
        need = len(p.ctx) + p.extra_cells
        if need > backend.n_ctx:
            results[i] = ChoiceResult([], 0, 0, 0.0, error=f"prompt of {need} tokens exceeds the context of {backend.n_ctx}")
        else:
            ok.append(p)
    if not ok:
        return
    shared = shared_length(backend.tokenize(requests[group[0]].prefix), [p.ctx for p in ok])
    waves = _waves(ok, shared, backend.n_ctx, backend.n_parallel)
    for wave in waves:
        w0, before = time.perf_counter(), backend.tokens_decoded
        try:
            backend.hold_prefix(ok[0].ctx[:shared])
            prefix_new = backend.tokens_decoded - before
            _score_wave(backend, wave, shared)
        except (ValueError, RuntimeError) as exc:
            backend.reset()
            for p in wave:
                results[p.index] = ChoiceResult([], 0, 0, 0.0, error=str(exc))
            continue
        share = (time.perf_counter() - w0) * 1000 / len(wave)  # latency: the item's share of its wave
        for k, p in enumerate(wave):  # new tokens: its own suffix and continuations; the first also the prefix
            new = len(p.ctx) - shared + p.extra_cells + (prefix_new if k == 0 else 0)
            results[p.index] = ChoiceResult(p.scores, len(p.ctx), new, share)


def _waves(prepared: list[_Prepared], shared: int, n_ctx: int, width: int) -> list[list[_Prepared]]:
    """Consecutive requests, at most *width* per wave, whose cells fit in the cache beside the prefix."""
    waves: list[list[_Prepared]] = [[]]
    used = 0
    for p in prepared:
        need = len(p.ctx) - shared + p.extra_cells
        if waves[-1] and (len(waves[-1]) >= width or shared + used + need > n_ctx):
            waves.append([])
            used = 0
        waves[-1].append(p)
        used += need
    return waves


def _score_wave(backend, wave: list[_Prepared], shared: int) -> None:
    seqs = list(range(1, len(wave) + 1))
    try:
        for s in seqs:
            backend.fork(s)
        runs = [Run(s, p.ctx[shared:], shared) for s, p in zip(seqs, wave)]
        rows = backend._decoder.decode(runs)
        for k, p in enumerate(wave):
            p.scores = log_softmax_at(rows[k][-1], [c[0] for c in p.conts])
        _continue_multi_token(backend, wave, seqs, used=shared + sum(len(p.ctx) - shared for p in wave))
    finally:
        for s in seqs:
            backend.drop(s)


def _continue_multi_token(backend, wave: list[_Prepared], seqs: list[int], used: int) -> None:
    """Add the log-probabilities of the later tokens of multi-token continuations.

    Each continuation runs on its own sequence forked from its question's, as many per forward pass as there
    are free sequence ids and free cells (*used* cells are taken); with ``n_parallel=1`` they run one after
    another on the question's own sequence instead.
    """
    jobs = [(k, j) for k, p in enumerate(wave) for j, c in enumerate(p.conts) if len(c) > 1]
    if backend.n_parallel == 1:
        for k, j in jobs:
            rows = _decode_continuation(backend, wave[k], j, seqs[k])
            wave[k].scores[j] += _tail_logprob(wave[k].conts[j], rows)
        return
    pool = [s for s in range(1, backend.n_seq_max) if s not in seqs]
    while jobs:
        chunk, room = [], backend.n_ctx - used
        while jobs and len(chunk) < len(pool) and (not chunk or len(wave[jobs[0][0]].conts[jobs[0][1]]) - 1 <= room):
            k, j = jobs.pop(0)
            chunk.append((k, j))
            room -= len(wave[k].conts[j]) - 1
        runs = []
        for (k, j), s in zip(chunk, pool):
            backend.fork(s, seqs[k])
            runs.append(Run(s, wave[k].conts[j][:-1], len(wave[k].ctx), LOGITS_ALL))
        try:
            rows = backend._decoder.decode(runs)
        finally:
            for s in pool[: len(chunk)]:
                backend.drop(s)
        for r, (k, j) in enumerate(chunk):
            wave[k].scores[j] += _tail_logprob(wave[k].conts[j], rows[r])


def _decode_continuation(backend, p: _Prepared, j: int, seq: int) -> list[np.ndarray]:
    """Decode continuation j after the question on *seq* itself, then remove it again."""
    cont = p.conts[j]
    try:
        return backend._decoder.decode([Run(seq, cont[:-1], len(p.ctx), LOGITS_ALL)])[0]
    finally:
        backend._C.llama_memory_seq_rm(backend._mem, seq, len(p.ctx), -1)


def _tail_logprob(cont: list[int], rows: list[np.ndarray]) -> float:
    return sum(log_softmax_at(rows[i], [cont[i + 1]])[0] for i in range(len(cont) - 1))
