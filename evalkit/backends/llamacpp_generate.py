"""Generation on a :class:`~evalkit.backends.llamacpp.LlamaCppBackend`: continuous batching.

Up to ``n_parallel`` requests are live at once, each on its own sequence that
borrows the shared prompt prefix held in sequence 0. Every step is one forward
pass holding the newest token of each generating sequence plus as much of the
waiting prompts as fits in ``n_batch``; a finished sequence (end-of-generation
token, a stop string, ``max_tokens``, or no room left in the context) frees its
slot for the next request at once. A token depends only on its own sequence, so
greedy output matches decoding the requests one at a time (up to llama.cpp's
batch-shape rounding, see docs/speed.md).

Requests that may generate many tokens run on per-sequence KV streams instead of
the unified cache, so that a long sequence's attention does not cover every other
sequence's cells (``llamacpp_kv``); there the live sequences are kept on consecutive
ids, which llama.cpp evaluates together (:meth:`_Scheduler._compact`). Results are
handed back as each request finishes (:func:`generate_iter`), so a caller can store
them and keep the batch full across a whole subset. How many sequences are live at
once is measured, not assumed (:class:`CapTuner`) on the unified cache, unless the
backend was given a fixed ``n_parallel``; on streams every stream is live, since
there a pass only gets faster with more sequences.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from evalkit.backends.llamacpp_batch import LOGITS_LAST, LOGITS_NONE, Run
from evalkit.backends.llamacpp_choice import shared_length
from evalkit.backends.llamacpp_kv import stream_shape
from evalkit.backends.llamacpp_sampling import TokenSampler
from evalkit.types import GenerateRequest, GenerateResult


@dataclass
class _Slot:
    index: int
    req: GenerateRequest
    prompt: list[int]
    seq: int
    feed: list[int]  # tokens still to evaluate: the prompt's unshared part, then each sampled token
    pos: int  # position of feed[0]
    budget: int  # tokens it may generate (max_tokens, capped by the context)
    cells: int  # KV cells reserved for it
    sampler: TokenSampler
    t0: float = field(default_factory=time.perf_counter)
    out: list[int] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)
    text: str = ""
    ttft: float | None = None
    finish: str | None = None


class CapTuner:
    """Finds the number of live sequences that generates fastest, by trying 1, 2, 4, … in turn.

    Batching amortizes reading the weights over several sequences, but in a unified KV cache
    every token attends over every used cell (masked), so each extra sequence makes every
    other one's attention dearer; and llama.cpp's CPU kernels for a few tokens per pass can be
    slower than its one-token kernel, so the rate need not rise steadily. Which cap wins
    depends on the model and the machine: on this project's 2-core CPU, SmolLM2-135M generated
    slower with 32 live sequences than with one, Gemma 3 270M 1.5x faster, while 2 live
    sequences were slower than one for both. So every cap 1, 2, 4, … up to ``limit`` is timed
    over ``window`` pure decode passes (one new token per live sequence, no prompt chunks, all
    slots full), and the fastest is kept; a larger cap must beat a smaller one by ``gain``.
    A cap the context cannot hold (:meth:`unreachable`) ends the search early.
    """

    def __init__(self, limit: int, window: int = 8, gain: float = 1.05):
        self.limit, self.cap, self.window, self.gain = max(1, limit), 1, window, gain
        self.best, self.best_rate, self.done = 1, 0.0, self.limit <= 1
        self.rates: dict[int, float] = {}
        self._tokens, self._seconds, self._passes = 0, 0.0, 0

    def observe(self, tokens: int, seconds: float) -> None:
        """One pure decode pass with ``cap`` live sequences: ``tokens`` sampled in ``seconds``."""
        if self.done or seconds <= 0:
            return
        self._tokens, self._seconds, self._passes = self._tokens + tokens, self._seconds + seconds, self._passes + 1
        if self._passes < self.window:
            return
        rate = self._tokens / self._seconds
        self._tokens, self._seconds, self._passes = 0, 0.0, 0
        self.rates[self.cap] = rate
        if rate > self.best_rate * (self.gain if self.rates and self.cap > self.best else 1.0):
            self.best, self.best_rate = self.cap, rate
        if self.cap >= self.limit:
            self.cap, self.done = self.best, True
        else:
            self.cap = min(self.limit, self.cap * 2)

    def unreachable(self) -> None:
        """The context cannot hold ``cap`` live sequences: keep the best cap measured so far."""
        if not self.done:
            self.cap, self.done = self.best, True


def tuner_for(backend, limit: int, n_requests: int) -> CapTuner | None:
    """The backend's tuner for the unified cache, kept across calls; None with a fixed n_parallel."""
    if not backend.adaptive_parallel:
        return None
    t = backend.gen_tuner
    if t is None:
        t = backend.gen_tuner = CapTuner(limit)
    if not t.done and 2 <= n_requests < t.cap and t.cap // 2 in t.rates:
        t.unreachable()  # the caller sends fewer requests at a time than the next cap to try
    return t


class _Scheduler:
    def __init__(self, backend, requests: Sequence[GenerateRequest]):
        self.b, self.requests = backend, requests
        self.kv = backend.kv
        self.results: list[GenerateResult | None] = [None] * len(requests)
        self.done: deque[int] = deque()  # finished requests not yet handed to the caller
        self.tokens: list[list[int]] = [[] for _ in requests]
        self.prompts: dict[int, list[int]] = {}
        self.pending: deque[int] = deque()
        self.active: list[_Slot] = []
        self.free: list[int] = []
        self.reserved = 0
        self.shared: list[int] = []
        self.tuner: CapTuner | None = None
        self.live_peak = 0  # the most sequences live at once
        self.moved = 0  # sequences moved to another stream to keep the live ones consecutive (_compact)
        self.room_blocked = False  # the last admission stopped for lack of KV cells, with requests waiting

    # -- setup -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        b = self.b
        for i, req in enumerate(self.requests):
            prompt = b.tokenize(req.prefix + req.body)
            if len(prompt) > b.n_ctx:
                self._fail(i, len(prompt), f"prompt of {len(prompt)} tokens exceeds the context of {b.n_ctx}")
            elif req.max_tokens <= 0 or len(prompt) == b.n_ctx:
                self._set(i, GenerateResult("", len(prompt), 0, 0.0, None, "length"))
            else:
                self.prompts[i] = prompt
                self.pending.append(i)
        if self.prompts:
            first = self.requests[self.pending[0]].prefix
            n = shared_length(b.tokenize(first), list(self.prompts.values()))
            self.shared = self.prompts[self.pending[0]][:n]
        self._choose_cache()

    def _choose_cache(self) -> None:
        """Unified cache, or per-sequence streams when many live sequences may grow long (llamacpp_kv)."""
        b, limit = self.b, self.b.n_parallel
        shape = None
        if len(self.prompts) > 1 and limit > 1:
            budgets = [self._budget(i) for i in self.prompts]
            need = max(len(p) + k for p, k in zip(self.prompts.values(), budgets))
            shape = stream_shape(need, max(budgets), len(self.prompts), limit, b.stream_cells_max)
        if shape is not None:  # every stream live: on streams a pass's rate only rises with more (bench_passes.py)
            seqs, per_seq = shape
            self.kv = b.streams(seqs, per_seq)
            self.free = list(range(1, seqs))  # a kept context may have more streams than this call spreads over
            return
        self.free = list(range(1, min(self.kv.seqs - 1, b.n_parallel) + 1))
        self.tuner = tuner_for(b, limit, len(self.prompts))

    def _budget(self, i: int) -> int:
        """Tokens request *i* may generate: its max_tokens, capped by the context left after its prompt."""
        return min(self.requests[i].max_tokens, self.b.n_ctx - len(self.prompts[i]))

    def _set(self, i: int, result: GenerateResult) -> None:
        self.results[i] = result
        self.done.append(i)

    def _fail(self, i: int, n_prompt: int, error: str, t0: float | None = None) -> None:
        ms = (time.perf_counter() - t0) * 1000 if t0 else 0.0
        self._set(i, GenerateResult("", n_prompt, 0, ms, error=error))

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> Iterator[tuple[int, GenerateResult]]:
        """Yield (request index, result) as each request finishes."""
        self.prepare()
        prefix_ready = False
        while self.pending or self.active or self.done:
            while self.done:
                i = self.done.popleft()
                yield i, self.results[i]
            if not (self.pending or self.active):
                break
            try:
                if not prefix_ready:
                    self.kv.hold_prefix(self.shared)
                    prefix_ready = True
                self._admit()
                self._step()
            except (ValueError, RuntimeError) as exc:
                victims = list(self.active)
                for slot in victims:
                    self._finish(slot, error=str(exc))
                while not victims and self.pending:  # nothing live to blame: the shared prefix itself failed
                    i = self.pending.popleft()
                    self._fail(i, len(self.prompts[i]), str(exc))
                self.kv.reset()
                prefix_ready = False

    def _admit(self) -> None:
        b, n_shared = self.b, len(self.shared)
        self.room_blocked = False
        while self.pending and self.free and len(self.active) < self._cap():
            i = self.pending[0]
            prompt, req = self.prompts[i], self.requests[i]
            budget = self._budget(i)
            cells = len(prompt) - n_shared + budget
            if self.active and not self.kv.fits(n_shared, self.reserved, cells):
                self.room_blocked = True
                return
            self.pending.popleft()
            try:
                sampler = TokenSampler(b._C, b._vocab, b.n_vocab, req.temperature, req.seed, req.grammar)
            except ValueError as exc:
                self._fail(i, len(prompt), str(exc))
                continue
            seq = self.free.pop(0)
            self.kv.fork(seq)
            self.active.append(_Slot(i, req, prompt, seq, prompt[n_shared:], n_shared, budget, cells, sampler))
            self.live_peak = max(self.live_peak, len(self.active))
            self.reserved += cells

    def _cap(self) -> int:
        return self.tuner.cap if self.tuner is not None else len(self.free) + len(self.active)

    def _step(self) -> None:
        """One forward pass: each generating sequence's newest token first, then prompt chunks as room allows.

        The batch itself is laid out in sequence order: llama.cpp's streams context ran a pass of
        15 one-token runs at 198 tokens/s in sequence order and at 112 in shuffled order
        (docs/speed.md).
        """
        room, slots = self.b.n_batch, []
        for slot in sorted(self.active, key=lambda s: len(s.feed) > 1 or not s.out):
            if room == 0:
                break
            take = min(room, len(slot.feed))
            slots.append((slot, take))
            room -= take
        slots.sort(key=lambda st: st[0].seq)
        runs = [Run(s.seq, s.feed[:k], s.pos, LOGITS_LAST if k == len(s.feed) else LOGITS_NONE) for s, k in slots]
        t0 = time.perf_counter()
        rows = self.kv.decoder.step(runs)
        tuner = self.tuner
        if tuner is not None and not tuner.done and all(len(r.tokens) == 1 for r in runs):
            if len(runs) == tuner.cap:
                tuner.observe(len(rows), time.perf_counter() - t0)
            elif self.room_blocked:
                tuner.unreachable()
        C, ctx, n_vocab = self.b._C, self.kv.ctx, self.b.n_vocab
        for r, (slot, take) in enumerate(slots):
            slot.pos += take
            slot.feed = slot.feed[take:]
            if r in rows:
                logits = np.ctypeslib.as_array(C.llama_get_logits_ith(ctx, rows[r]), shape=(n_vocab,))
                self._advance(slot, slot.sampler.sample(logits))
        finished = [s for s in self.active if s.finish]
        for slot in finished:
            self._finish(slot)
        if finished and self.kv.streams and not self.pending:  # only a finish opens a gap nothing will refill
            self._compact()

    def _compact(self) -> None:
        """Keep the live streams' sequence ids consecutive once no request waits to fill a gap.

        llama.cpp splits a pass over KV streams into one graph evaluation per run of consecutive
        sequence ids (``split_equal`` with ``sequential``), and each evaluation reads all the
        weights again. At the end of a call finished sequences leave gaps: in a 100-item reasoning
        call, passes of 12 SmolLM2 sequences ran at 101 tokens/s with gaps and at 162 without
        (``bench_generation.py --trace``, docs/speed.md). So the highest live sequence moves into
        the lowest gap (llama.cpp copies its stream: 17.7 MB for 768 SmolLM2 cells) until the ids
        are consecutive.
        """
        while self.active:
            seqs = sorted(s.seq for s in self.active)
            lo, hi = seqs[0], seqs[-1]
            if hi - lo + 1 == len(seqs):
                return
            hole = next(i for i in self.free if lo < i < hi)
            top = next(s for s in self.active if s.seq == hi)
            self.kv.fork(hole, src=hi)
            self.kv.drop(hi)
            self.free.remove(hole)
            self.free.append(hi)
            self.free.sort()
            top.seq = hole
            self.moved += 1

    def _advance(self, slot: _Slot, tok: int) -> None:
        if slot.ttft is None:
            slot.ttft = (time.perf_counter() - slot.t0) * 1000
        if self.b.is_eog(tok):
            slot.finish = "stop"
            return
        slot.sampler.accept(tok)
        slot.out.append(tok)
        slot.data += self.b.piece(tok)
        text = slot.data.decode("utf-8", errors="ignore")
        hits = [text.index(s) for s in slot.req.stop if s and s in text]
        if hits:
            text, slot.finish = text[: min(hits)], "stop"
        elif len(slot.out) >= slot.budget:
            slot.finish = "length"
        else:
            slot.feed = [tok]
        slot.text = text

    def abandon(self) -> None:
        """Drop every live sequence and free its sampler; pending requests get no result."""
        for slot in list(self.active):
            self.active.remove(slot)
            self.kv.drop(slot.seq)
            slot.sampler.close()
        self.pending.clear()

    def _finish(self, slot: _Slot, error: str | None = None) -> None:
        self.active.remove(slot)
        self.kv.drop(slot.seq)
        slot.sampler.close()
        self.free.append(slot.seq)
        self.free.sort()
        self.reserved -= slot.cells
        ms = (time.perf_counter() - slot.t0) * 1000
        self.tokens[slot.index] = list(slot.out)
        if error:
            self._set(slot.index, GenerateResult("", len(slot.prompt), len(slot.out), ms, slot.ttft, "error", error))
        else:
            self._set(slot.index, GenerateResult(slot.text, len(slot.prompt), len(slot.out), ms, slot.ttft, slot.finish))


def generate_iter(backend, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, GenerateResult]]:
    """Yield (request index, result) in the order requests finish; ``backend.last_generated`` is set at the end."""
    scheduler = _Scheduler(backend, requests)
    try:
        yield from scheduler.run()
    finally:
        scheduler.abandon()  # the caller stopped early (an error, an interrupt): leave no sequence in the cache
    backend.last_generated = scheduler.tokens
    backend.last_shape = {"cache": "streams" if scheduler.kv.streams else "unified", "live_peak": scheduler.live_peak,
                          "moved": scheduler.moved}


def generate(backend, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
    results: list[GenerateResult | None] = [None] * len(requests)
    for i, res in generate_iter(backend, requests):
        results[i] = res
    return results  # type: ignore[return-value]
