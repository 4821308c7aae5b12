"""Speed of a loaded model: a fixed micro-benchmark (like llama-bench's pp512 / tg128), time to first
token for a short prompt, and the speed observed while the suites ran.

- pp: ``pp_tokens`` random token ids decoded as one prompt on an empty context (logits for the last
  one only), tokens / second; median of ``repetitions`` after one warm-up.
- tg: ``tg_tokens`` tokens decoded one at a time on an empty context, tokens / second; median.
- TTFT: a short chat-style prompt sent through the backend's own ``generate`` with the KV cache
  cleared before each request, ``ttft_runs`` times; median and 95th percentile in ms.
- Observed: prompt tokens actually decoded by ``score_choices`` divided by the time spent in it; and
  for generation, tokens after the first divided by the time after the first token.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np

from evalkit.types import GenerateRequest

TTFT_PROMPT = "Question: What is the capital of France?\nAnswer:"


@dataclass(frozen=True)
class BenchSpec:
    pp_tokens: int = 512
    tg_tokens: int = 128
    repetitions: int = 3
    ttft_runs: int = 10
    ttft_prompt: str = TTFT_PROMPT

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in 0..100."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def _pp_once(backend, llm, tokens: list[int]) -> float:
    backend.reset()  # every sequence's KV cache, not only the one Llama.eval uses
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    return len(tokens) / (time.perf_counter() - t0)


def _tg_once(backend, llm, tokens: list[int]) -> float:
    backend.reset()
    llm.reset()
    t0 = time.perf_counter()
    for tok in tokens:
        llm.eval([tok])
    return len(tokens) / (time.perf_counter() - t0)


def micro_bench(backend, spec: BenchSpec) -> dict:
    """pp/tg tokens per second and TTFT of a loaded LlamaCppBackend; leaves its KV cache empty."""
    llm = backend.llm
    rng = np.random.default_rng(0)
    vocab = llm.n_vocab()
    pp_toks = rng.integers(0, vocab, spec.pp_tokens).tolist()
    tg_toks = rng.integers(0, vocab, spec.tg_tokens).tolist()
    n_ctx = llm.n_ctx()
    if max(spec.pp_tokens, spec.tg_tokens) > n_ctx:
        raise ValueError(f"micro-benchmark of {spec.pp_tokens}/{spec.tg_tokens} tokens exceeds the context of {n_ctx}")
    _pp_once(backend, llm, pp_toks[: min(32, len(pp_toks))])  # warm-up (llama-bench runs one too)
    pp = [_pp_once(backend, llm, pp_toks) for _ in range(spec.repetitions)] if spec.pp_tokens else []
    tg = [_tg_once(backend, llm, tg_toks) for _ in range(spec.repetitions)] if spec.tg_tokens else []
    llm.reset()
    backend.reset()
    ttft = measure_ttft(backend, spec)
    return {
        "pp_tps": statistics.median(pp) if pp else None,
        "tg_tps": statistics.median(tg) if tg else None,
        "pp_runs": pp,
        "tg_runs": tg,
        **ttft,
    }


def measure_ttft(backend, spec: BenchSpec) -> dict:
    """Time to first token of a short prompt, cold KV cache each time, through ``backend.generate``."""
    times = []
    prompt_tokens = None
    for _ in range(spec.ttft_runs):
        backend.reset()
        res = backend.generate([GenerateRequest(prefix="", body=spec.ttft_prompt, max_tokens=1)])[0]
        if res.error or res.ttft_ms is None:
            continue
        times.append(res.ttft_ms)
        prompt_tokens = res.prompt_tokens
    backend.reset()
    if not times:
        return {"ttft_ms_median": None, "ttft_ms_p95": None, "ttft_prompt_tokens": prompt_tokens}
    return {"ttft_ms_median": statistics.median(times), "ttft_ms_p95": percentile(times, 95),
            "ttft_prompt_tokens": prompt_tokens, "ttft_runs_ms": times}  # fmt: skip


class MeteredBackend:
    """Wraps a backend and counts the tokens and seconds of the suites' own requests."""

    def __init__(self, backend):
        self._backend = backend
        self.pp_tokens = 0
        self.pp_seconds = 0.0
        self.tg_tokens = 0
        self.tg_seconds = 0.0
        self.requests = 0
        if hasattr(backend, "generate_iter"):  # only where the backend has it: callers test for it
            self.generate_iter = self._generate_iter

    def score_choices(self, requests):
        t0 = time.perf_counter()
        results = self._backend.score_choices(requests)
        self.pp_seconds += time.perf_counter() - t0
        self.pp_tokens += sum(r.new_tokens for r in results if not r.error)
        self.requests += len(requests)
        return results

    def generate(self, requests):
        results = self._backend.generate(requests)
        for r in results:
            self._count(r)
        self.requests += len(requests)
        return results

    def _generate_iter(self, requests):
        self.requests += len(requests)
        for i, r in self._backend.generate_iter(requests):
            self._count(r)
            yield i, r

    def _count(self, r) -> None:
        if r.error or r.ttft_ms is None or r.completion_tokens < 2:
            return
        self.tg_tokens += r.completion_tokens - 1
        self.tg_seconds += max(r.latency_ms - r.ttft_ms, 0.0) / 1000.0

    def observed(self) -> dict:
        return {
            "suite_pp_tps": self.pp_tokens / self.pp_seconds if self.pp_seconds > 0 and self.pp_tokens else None,
            "suite_tg_tps": self.tg_tokens / self.tg_seconds if self.tg_seconds > 0 and self.tg_tokens else None,
            "suite_pp_tokens": self.pp_tokens,
            "suite_tg_tokens": self.tg_tokens,
            "suite_requests": self.requests,
        }

    def __getattr__(self, name):
        return getattr(self._backend, name)


class MeteredLazy:
    """A LazyBackend look-alike (``get()``) whose backend is metered."""

    def __init__(self, lazy):
        self.lazy = lazy
        self.fingerprint = getattr(lazy, "fingerprint", None)
        self.metered: MeteredBackend | None = None

    def get(self):
        if self.metered is None:
            self.metered = MeteredBackend(self.lazy.get())
        return self.metered

    def close(self) -> None:
        self.lazy.close()
