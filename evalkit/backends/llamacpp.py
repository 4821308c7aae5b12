"""In-process llama.cpp backend (llama-cpp-python), driven through its low-level batch API.

Why low level: evalkit scores multiple choice from the next-token logits of one
forward pass, and keeps the KV cache of the longest common token prefix between
consecutive requests, so the few-shot prefix shared by every question of a subject
is processed once. The high-level ``Llama.__call__`` cannot do either.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evalkit.backends.safety import repack_allowed
from evalkit.errors import BackendUnavailable, ModelError
from evalkit.types import ChoiceRequest, ChoiceResult, GenerateRequest, GenerateResult

_LOAD_LOCK = threading.Lock()
_LOG_CALLBACK = None


def _silence_llama_logs() -> None:
    """Route llama.cpp's own logging to nowhere unless EVALKIT_LLAMA_LOG is set."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None or os.environ.get("EVALKIT_LLAMA_LOG"):
        return
    from llama_cpp import llama_cpp as C

    @C.llama_log_callback
    def _drop(level, text, user_data):  # pragma: no cover - called from C
        return None

    _LOG_CALLBACK = _drop
    C.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def default_threads() -> int:
    """All cores (llama-cpp-python's own default is half of them for generation)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def load_llama(path: str | Path, *, n_ctx: int, n_batch: int, threads: int, use_extra_bufts: bool):
    """Construct ``llama_cpp.Llama`` with the CPU weight-repacking buffers set explicitly.

    ``Llama`` has no keyword for ``use_extra_bufts``; its constructor fills the model
    parameters from ``llama_model_default_params``, so that function is wrapped for
    the duration of the load (under a lock, as it is module state).
    """
    try:
        import llama_cpp
        from llama_cpp import llama_cpp as C
    except ImportError:
        raise BackendUnavailable("the llamacpp backend needs llama-cpp-python: pip install llama-cpp-python.") from None
    _silence_llama_logs()
    with _LOAD_LOCK:
        original = C.llama_model_default_params

        def patched():
            params = original()
            params.use_extra_bufts = use_extra_bufts
            return params

        C.llama_model_default_params = patched
        try:
            return llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_ubatch=n_batch,
                n_threads=threads,
                n_threads_batch=threads,
                logits_all=False,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelError(f"llama.cpp could not load {path} ({exc}). Check that it is a complete, supported GGUF.") from None
        finally:
            C.llama_model_default_params = original


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - float(np.max(logits))
    return shifted - np.log(np.exp(shifted).sum())


class LlamaCppBackend:
    """Runs a GGUF model in this process. One sequence; KV cache reused across requests by common prefix."""

    name = "llamacpp"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        n_batch: int = 512,
        repack: str = "auto",
    ):
        from llama_cpp import llama_cpp as C

        self._C = C
        self.model_path = str(model_path)
        self.threads = threads or default_threads()
        self.n_batch = n_batch
        self.repack = repack_allowed(self.model_path, repack, self.threads)
        t0 = time.perf_counter()
        self.llm = load_llama(model_path, n_ctx=n_ctx, n_batch=n_batch, threads=self.threads, use_extra_bufts=self.repack)
        self.load_seconds = time.perf_counter() - t0
        self.n_ctx = self.llm.n_ctx()
        self.n_vocab = self.llm.n_vocab()
        self._ctx = self.llm._ctx.ctx
        self._mem = C.llama_get_memory(self._ctx)
        self._batch = C.llama_batch_init(n_batch, 0, 1)
        self._cached: list[int] = []  # tokens whose KV is in sequence 0
        self.tokens_decoded = 0

    # -- settings that change results (part of every stored item's key) ------------------------
    @property
    def fingerprint(self) -> dict:
        return {"backend": self.name}

    @property
    def settings(self) -> dict:
        return {"backend": self.name, "threads": self.threads, "n_ctx": self.n_ctx, "n_batch": self.n_batch, "repack": self.repack}

    # -- tokens -----------------------------------------------------------------------------
    def tokenize(self, text: str, add_bos: bool = True) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=False)

    def _continuation_tokens(self, context: str, ctx_tokens: list[int], continuation: str) -> list[int]:
        """Tokens of *continuation* as they follow *context* (lm-evaluation-harness's convention)."""
        whole = self.tokenize(context + continuation)
        if whole[: len(ctx_tokens)] == ctx_tokens and len(whole) > len(ctx_tokens):
            return whole[len(ctx_tokens) :]
        return self.tokenize(continuation, add_bos=False)

    # -- decoding ---------------------------------------------------------------------------
    def _decode(self, tokens: Sequence[int], start: int, want_logits: Sequence[int]) -> dict[int, np.ndarray]:
        """Decode *tokens* at positions start.. in sequence 0; return logits at the wanted offsets."""
        C, batch = self._C, self._batch
        wanted = set(want_logits)
        out: dict[int, np.ndarray] = {}
        for lo in range(0, len(tokens), self.n_batch):
            chunk = tokens[lo : lo + self.n_batch]
            batch.n_tokens = len(chunk)
            for i, tok in enumerate(chunk):
                batch.token[i] = tok
                batch.pos[i] = start + lo + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = (lo + i) in wanted
            rc = C.llama_decode(self._ctx, batch)
            if rc != 0:
                raise RuntimeError(f"llama_decode failed with code {rc} (context of {self.n_ctx} tokens full?)")
            for i in range(len(chunk)):
                if (lo + i) in wanted:
                    ptr = C.llama_get_logits_ith(self._ctx, i)
                    out[lo + i] = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()
        self.tokens_decoded += len(tokens)
        return out

    def _extend_to(self, tokens: list[int]) -> tuple[np.ndarray, int]:
        """Make sequence 0 hold exactly *tokens*, reusing the common prefix; return last logits and new tokens."""
        n = 0
        limit = min(len(self._cached), len(tokens) - 1)  # always decode at least the last token
        while n < limit and self._cached[n] == tokens[n]:
            n += 1
        if len(tokens) > self.n_ctx:
            raise ValueError(f"prompt of {len(tokens)} tokens exceeds the context of {self.n_ctx}")
        self._C.llama_memory_seq_rm(self._mem, 0, n, -1)
        self._cached = self._cached[:n]
        new = tokens[n:]
        logits = self._decode(new, n, [len(new) - 1])[len(new) - 1]
        self._cached = list(tokens)
        return logits, len(new)

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[ChoiceResult]:
        return [self._score_one(r) for r in requests]

    def _score_one(self, req: ChoiceRequest) -> ChoiceResult:
        t0 = time.perf_counter()
        context = req.prefix + req.body
        try:
            ctx_tokens = self.tokenize(context)
            conts = [self._continuation_tokens(context, ctx_tokens, c) for c in req.continuations]
            logits, new = self._extend_to(ctx_tokens)
            first = _log_softmax(logits)
            scores = []
            for cont in conts:
                total = float(first[cont[0]])
                if len(cont) > 1:  # multi-token continuation: decode it after the context
                    self._C.llama_memory_seq_rm(self._mem, 0, len(ctx_tokens), -1)
                    self._cached = list(ctx_tokens)
                    rows = self._decode(cont[:-1], len(ctx_tokens), range(len(cont) - 1))
                    total += sum(float(_log_softmax(rows[i])[cont[i + 1]]) for i in range(len(cont) - 1))
                    new += len(cont) - 1
                    self._cached = list(ctx_tokens) + list(cont[:-1])
                scores.append(total)
        except (ValueError, RuntimeError) as exc:
            self.reset()
            return ChoiceResult([], 0, 0, (time.perf_counter() - t0) * 1000, error=str(exc))
        return ChoiceResult(scores, len(ctx_tokens), new, (time.perf_counter() - t0) * 1000)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return [self._generate_one(r) for r in requests]

    def _generate_one(self, req: GenerateRequest) -> GenerateResult:
        t0 = time.perf_counter()
        try:
            prompt = self.tokenize(req.prefix + req.body)
            logits, _ = self._extend_to(prompt)
        except (ValueError, RuntimeError) as exc:
            self.reset()
            return GenerateResult("", 0, 0, (time.perf_counter() - t0) * 1000, error=str(exc))
        rng = np.random.default_rng(req.seed)
        eog = self._C.llama_vocab_is_eog
        vocab = self._C.llama_model_get_vocab(self.llm._model.model)
        out: list[int] = []
        ttft = None
        finish = "length"
        text = ""
        for _ in range(req.max_tokens):
            tok = self._sample(logits, req.temperature, rng)
            if ttft is None:
                ttft = (time.perf_counter() - t0) * 1000
            if eog(vocab, tok):
                finish = "stop"
                break
            out.append(tok)
            text = self.llm.detokenize(out).decode("utf-8", errors="ignore")
            hit = [text.index(s) for s in req.stop if s in text]
            if hit:
                text = text[: min(hit)]
                finish = "stop"
                break
            pos = len(self._cached)
            if pos >= self.n_ctx:
                break
            logits = self._decode([tok], pos, [0])[0]
            self._cached.append(tok)
        return GenerateResult(text, len(prompt), len(out), (time.perf_counter() - t0) * 1000, ttft, finish)

    @staticmethod
    def _sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
        if temperature <= 0:
            return int(np.argmax(logits))
        z = logits.astype(np.float64) / temperature
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        return int(rng.choice(len(p), p=p))

    def reset(self) -> None:
        self._C.llama_memory_clear(self._mem, True)
        self._cached = []

    def close(self) -> None:
        if getattr(self, "_batch", None) is not None:
            self._C.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "llm", None) is not None:
            self.llm.close()
            self.llm = None
