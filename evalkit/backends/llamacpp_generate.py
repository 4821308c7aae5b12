"""Generation on a :class:`~evalkit.backends.llamacpp.LlamaCppBackend`: continuous batching.

Up to ``n_parallel`` requests are live at once, each on its own sequence that
borrows the shared prompt prefix held in sequence 0. Every step is one forward
pass holding the newest token of each generating sequence plus as much of the
waiting prompts as fits in ``n_batch``; a finished sequence (end-of-generation
token, a stop string, ``max_tokens``, or no room left in the context) frees its
slot for the next request at once. A token depends only on its own sequence, so
greedy output matches decoding the requests one at a time (up to llama.cpp's
batch-shape rounding, see docs/speed.md).

How many sequences are live at once is measured, not assumed (:class:`CapTuner`),
unless the backend was given a fixed ``n_parallel``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from evalkit.backends.llamacpp_batch import LOGITS_LAST, LOGITS_NONE, Run
from evalkit.backends.llamacpp_choice import shared_length
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


class _Scheduler:
    def __init__(self, backend, requests: Sequence[GenerateRequest]):
        self.b, self.requests = backend, requests
        self.results: list[GenerateResult | None] = [None] * len(requests)
        self.tokens: list[list[int]] = [[] for _ in requests]
        self.prompts: dict[int, list[int]] = {}
        self.pending: deque[int] = deque()
        self.active: list[_Slot] = []
        self.free = list(range(1, backend.n_parallel + 1))
        self.reserved = 0
        self.shared: list[int] = []
        if backend.adaptive_parallel and backend.gen_tuner is None:  # kept on the backend across calls
            backend.gen_tuner = CapTuner(backend.n_parallel)
        self.tuner: CapTuner | None = backend.gen_tuner
        t = self.tuner
        if t is not None and not t.done and 2 <= len(requests) < t.cap and t.cap // 2 in t.rates:
            t.unreachable()  # the caller sends fewer requests at a time than the next cap to try
        self.room_blocked = False  # the last admission stopped for lack of KV cells, with requests waiting

    # -- setup -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        b = self.b
        for i, req in enumerate(self.requests):
            prompt = b.tokenize(req.prefix + req.body)
            if len(prompt) > b.n_ctx:
                self._fail(i, len(prompt), f"prompt of {len(prompt)} tokens exceeds the context of {b.n_ctx}")
            elif req.max_tokens <= 0 or len(prompt) == b.n_ctx:
                self.results[i] = GenerateResult("", len(prompt), 0, 0.0, None, "length")
            else:
                self.prompts[i] = prompt
                self.pending.append(i)
        if self.prompts:
            first = self.requests[self.pending[0]].prefix
            n = shared_length(b.tokenize(first), list(self.prompts.values()))
            self.shared = self.prompts[self.pending[0]][:n]

    def _fail(self, i: int, n_prompt: int, error: str, t0: float | None = None) -> None:
        ms = (time.perf_counter() - t0) * 1000 if t0 else 0.0
        self.results[i] = GenerateResult("", n_prompt, 0, ms, error=error)

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> list[GenerateResult]:
        self.prepare()
        prefix_ready = False
        while self.pending or self.active:
            try:
                if not prefix_ready:
                    self.b.hold_prefix(self.shared)
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
                self.b.reset()
                prefix_ready = False
        return self.results  # type: ignore[return-value]

    def _admit(self) -> None:
        b, n_shared = self.b, len(self.shared)
        self.room_blocked = False
        while self.pending and self.free and len(self.active) < self._cap():
            i = self.pending[0]
            prompt, req = self.prompts[i], self.requests[i]
            budget = min(req.max_tokens, b.n_ctx - len(prompt))
            cells = len(prompt) - n_shared + budget
            if self.active and n_shared + self.reserved + cells > b.n_ctx:
                self.room_blocked = True
                return
            self.pending.popleft()
            try:
                sampler = TokenSampler(b._C, b._vocab, b.n_vocab, req.temperature, req.seed, req.grammar)
            except ValueError as exc:
                self._fail(i, len(prompt), str(exc))
                continue
            seq = self.free.pop(0)
            b.fork(seq)
            self.active.append(_Slot(i, req, prompt, seq, prompt[n_shared:], n_shared, budget, cells, sampler))
            self.reserved += cells

    def _cap(self) -> int:
        return self.tuner.cap if self.tuner is not None else self.b.n_parallel

    def _step(self) -> None:
        """One forward pass: each generating sequence's newest token first, then prompt chunks."""
        room, runs, slots = self.b.n_batch, [], []
        ordered = sorted(self.active, key=lambda s: len(s.feed) > 1 or not s.out)
        for slot in ordered:
            if room == 0:
                break
            take = min(room, len(slot.feed))
            runs.append(Run(slot.seq, slot.feed[:take], slot.pos, LOGITS_LAST if take == len(slot.feed) else LOGITS_NONE))
            slots.append((slot, take))
            room -= take
        t0 = time.perf_counter()
        rows = self.b._decoder.step(runs)
        tuner = self.tuner
        if tuner is not None and not tuner.done and all(len(r.tokens) == 1 for r in runs):
            if len(runs) == tuner.cap:
                tuner.observe(len(rows), time.perf_counter() - t0)
            elif self.room_blocked:
                tuner.unreachable()
        C, ctx, n_vocab = self.b._C, self.b._ctx, self.b.n_vocab
        for r, (slot, take) in enumerate(slots):
            slot.pos += take
            slot.feed = slot.feed[take:]
            if r in rows:
                logits = np.ctypeslib.as_array(C.llama_get_logits_ith(ctx, rows[r]), shape=(n_vocab,))
                self._advance(slot, slot.sampler.sample(logits))
        for slot in [s for s in self.active if s.finish]:
            self._finish(slot)

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

    def _finish(self, slot: _Slot, error: str | None = None) -> None:
        self.active.remove(slot)
        self.b.drop(slot.seq)
        slot.sampler.close()
        self.free.append(slot.seq)
        self.free.sort()
        self.reserved -= slot.cells
        ms = (time.perf_counter() - slot.t0) * 1000
        self.tokens[slot.index] = list(slot.out)
        if error:
            self.results[slot.index] = GenerateResult("", len(slot.prompt), len(slot.out), ms, slot.ttft, "error", error)
        else:
            self.results[slot.index] = GenerateResult(slot.text, len(slot.prompt), len(slot.out), ms, slot.ttft, slot.finish)


def generate(backend, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
    scheduler = _Scheduler(backend, requests)
    results = scheduler.run()
    backend.last_generated = scheduler.tokens
    return results
