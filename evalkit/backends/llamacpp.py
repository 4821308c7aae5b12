"""In-process llama.cpp backend (llama-cpp-python), driven through its low-level batch API.

Why low level: evalkit scores multiple choice from the next-token logits of one
forward pass, keeps the KV cache of the longest common token prefix between
consecutive requests (the few-shot prefix shared by every question of a subject
is processed once), and decodes several sequences in one batch (generation,
multi-token continuations). The high-level ``Llama.__call__`` can do none of it.
The work itself lives in ``llamacpp_choice`` / ``llamacpp_generate``; how fast it
is, and why, is in docs/speed.md.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from evalkit.backends.llamacpp_kv import STREAM_KV_BYTES, KVCache, cell_bytes, open_streams
from evalkit.backends.safety import repack_allowed
from evalkit.errors import BackendUnavailable, ModelError
from evalkit.types import ChoiceRequest, ChoiceResult, GenerateRequest, GenerateResult

_LOAD_LOCK = threading.Lock()
DEFAULT_PARALLEL = 32  # sequences decoded together (generations per step; questions per pass with batch_questions)
MAX_SEQ = 64  # llama.cpp sequence ids per context: 0 = shared prefix, the rest for requests and continuations
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


def default_threads(sample_seconds: float = 0.2) -> int:
    """The cores that are free now: all of them on an idle machine, fewer while other processes keep them busy.

    llama.cpp's threads meet at a barrier after every operation of a forward pass. When
    another process holds one of their cores, the thread left running spins until the
    other is scheduled again: on this project's 2-core machine, shared with a load of
    about 6, two threads processed prompts at 16 tokens/s and one thread at 240 tokens/s.
    So the default subtracts the busy cores from the core count, and never goes below one.
    Busy is the smaller of the 1-minute load average and the CPU use measured over
    *sample_seconds* now (both rounded): the load average alone lags by a minute, so right
    after another job ends it would still count that job's cores as taken; the sample alone
    could miss a steady load that happens to pause. Pass ``threads`` (``--threads``) to
    choose yourself.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        busy = int(os.getloadavg()[0] + 0.5)
    except OSError:  # pragma: no cover - no load average on this platform
        busy = 0
    if busy and sample_seconds > 0:
        import psutil

        busy = min(busy, int(psutil.cpu_percent(interval=sample_seconds) / 100 * (psutil.cpu_count() or cores) + 0.5))
    return max(1, min(cores, cores - busy))


def with_extra_bufts(model_defaults, use_extra_bufts: bool):
    """``llama_model_default_params`` with the CPU weight-repacking buffers set explicitly.

    llama-cpp-python has no keyword for ``use_extra_bufts``; whatever builds its model
    parameters from the returned function (``load_llama``, ``llamacpp_server``) gets it.
    """

    def model_params():
        params = model_defaults()
        params.use_extra_bufts = use_extra_bufts
        return params

    return model_params


def load_llama(
    path: str | Path,
    *,
    n_ctx: int,
    n_batch: int,
    threads: int,
    use_extra_bufts: bool,
    n_seq_max: int = 1,
    flash_attn: bool = False,
    kv_overrides: dict | None = None,
):
    """Construct ``llama_cpp.Llama`` with the CPU weight-repacking buffers and the sequence count set explicitly.

    ``Llama`` has no keyword for ``use_extra_bufts``, ``n_seq_max`` or ``kv_unified``;
    its constructor fills the model and context parameters from
    ``llama_model_default_params`` / ``llama_context_default_params``, so those two
    functions are wrapped for the duration of the load (under a lock, as they are
    module state). With ``n_seq_max > 1`` the KV cache is unified: parallel
    sequences share the cells of a common prefix instead of copying it.
    """
    try:
        import llama_cpp
        from llama_cpp import llama_cpp as C
    except ImportError:
        raise BackendUnavailable("the llamacpp backend needs llama-cpp-python: pip install llama-cpp-python.") from None
    _silence_llama_logs()
    with _LOAD_LOCK:
        model_defaults, context_defaults = C.llama_model_default_params, C.llama_context_default_params
        model_params = with_extra_bufts(model_defaults, use_extra_bufts)

        def context_params():
            params = context_defaults()
            params.n_seq_max = n_seq_max
            params.kv_unified = True
            return params

        C.llama_model_default_params, C.llama_context_default_params = model_params, context_params
        try:
            return llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_ubatch=n_batch,
                n_threads=threads,
                n_threads_batch=threads,
                logits_all=False,
                flash_attn=flash_attn,
                kv_overrides=kv_overrides,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelError(f"llama.cpp could not load {path} ({exc}). Check that it is a complete, supported GGUF.") from None
        finally:
            C.llama_model_default_params, C.llama_context_default_params = model_defaults, context_defaults


class LlamaCppBackend:
    """Runs a GGUF model in this process, several sequences at a time on one unified KV cache
    (and, for long generations, on per-sequence KV streams: ``llamacpp_kv``).

    Sequence 0 holds the tokens of the latest prompt, so a prefix shared by consecutive
    requests (the few-shot prefix of a subject) is decoded once. Multiple-choice
    questions run one forward pass each on sequence 0 (or, with ``batch_questions``,
    up to ``n_parallel`` at once on sequences forked from it); generations run up to
    ``n_parallel`` at once on forked sequences. ``n_parallel=1`` decodes strictly one
    sequence at a time: the reference the batched paths are tested against. Left at None,
    generation measures how many live sequences decode fastest here (see
    ``llamacpp_generate.CapTuner``): on a CPU a small model can lose more to attention over
    the shared cache than it gains from batching its weights.
    """

    name = "llamacpp"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        n_batch: int = 512,
        repack: str = "auto",
        n_parallel: int | None = None,
        batch_questions: bool = False,
        flash_attn: bool = False,
        kv_overrides: dict | None = None,
    ):
        from llama_cpp import llama_cpp as C

        self._C = C
        self.model_path = str(model_path)
        self.threads = threads or default_threads()
        self.n_batch = n_batch
        # None: generation finds its own number of live sequences (up to DEFAULT_PARALLEL) by measuring; a
        # number fixes it (and bounds question batching and parallel continuations either way).
        self.adaptive_parallel = n_parallel is None
        self.n_parallel = max(1, min(int(n_parallel or DEFAULT_PARALLEL), MAX_SEQ - 1))
        self.gen_tuner = None  # llamacpp_generate.CapTuner for the unified cache: what it measured is kept for later calls
        self.n_seq_max = MAX_SEQ
        self.batch_questions = batch_questions
        self.flash_attn = flash_attn
        self.repack = repack_allowed(self.model_path, repack, self.threads)
        t0 = time.perf_counter()
        self.llm = load_llama(model_path, n_ctx=n_ctx, n_batch=n_batch, threads=self.threads, use_extra_bufts=self.repack,
                              n_seq_max=self.n_seq_max, flash_attn=flash_attn, kv_overrides=kv_overrides)  # fmt: skip
        self.load_seconds = time.perf_counter() - t0
        self.n_ctx = self.llm.n_ctx()
        self.n_vocab = self.llm.n_vocab()
        self._vocab = C.llama_model_get_vocab(self.llm._model.model)
        self.kv = KVCache(C, self.llm._ctx.ctx, n_ctx=self.n_ctx, n_batch=n_batch, n_vocab=self.n_vocab, seqs=self.n_seq_max)
        self._ctx, self._mem, self._decoder = self.kv.ctx, self.kv.mem, self.kv.decoder  # the unified cache's
        self._streams: KVCache | None = None  # per-sequence streams for long generations, made on first use
        self.kv_cell_bytes = cell_bytes(self.llm)
        self.stream_cells_max = max(self.n_ctx, STREAM_KV_BYTES // self.kv_cell_bytes)  # all streams' cells together
        self._piece_buf = ctypes.create_string_buffer(256)
        self.last_generated: list[list[int]] = []  # token ids of the latest generate() call, per request
        self.last_shape: dict = {}  # the latest generate() call's KV cache ("unified" or "streams") and most live sequences

    # -- settings that change results (part of every stored item's key) ------------------------
    @property
    def fingerprint(self) -> dict:
        return {"backend": self.name}

    @property
    def settings(self) -> dict:
        return {"backend": self.name, "threads": self.threads, "n_ctx": self.n_ctx, "n_batch": self.n_batch,
                "repack": self.repack, "n_parallel": "auto" if self.adaptive_parallel else self.n_parallel, "batch_questions": self.batch_questions,
                "flash_attn": self.flash_attn}  # fmt: skip

    @property
    def tokens_decoded(self) -> int:
        """Tokens evaluated by the model since load (prompt and generated), each counted once per evaluation."""
        return self._decoder.tokens_decoded

    @tokens_decoded.setter
    def tokens_decoded(self, value: int) -> None:
        self._decoder.tokens_decoded = value

    # -- tokens -----------------------------------------------------------------------------
    def tokenize(self, text: str, add_bos: bool = True) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=False)

    def continuation_tokens(self, context: str, ctx_tokens: list[int], continuation: str) -> list[int]:
        """Tokens of *continuation* as they follow *context* (lm-evaluation-harness's convention)."""
        whole = self.tokenize(context + continuation)
        if whole[: len(ctx_tokens)] == ctx_tokens and len(whole) > len(ctx_tokens):
            return whole[len(ctx_tokens) :]
        return self.tokenize(continuation, add_bos=False)

    def piece(self, token: int) -> bytes:
        buf = self._piece_buf
        n = self._C.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:  # buffer too small: -n bytes needed
            self._piece_buf = buf = ctypes.create_string_buffer(-n)
            n = self._C.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def is_eog(self, token: int) -> bool:
        return bool(self._C.llama_vocab_is_eog(self._vocab, token))

    # -- sequence 0 of the unified cache: the shared prefix ----------------------------------------
    def hold_prefix(self, tokens: list[int], want_logits: bool = False) -> np.ndarray | None:
        """Make sequence 0 hold exactly *tokens*, reusing the longest common prefix already there."""
        return self.kv.hold_prefix(tokens, want_logits)

    def fork(self, seq: int, src: int = 0) -> None:
        """Let *seq* see every cell of *src* (no copy: the unified cache tags the cells)."""
        self.kv.fork(seq, src)

    def drop(self, seq: int) -> None:
        self.kv.drop(seq)

    def streams(self, seqs: int, per_seq: int) -> KVCache:
        """A per-sequence KV cache with at least *seqs* streams of *per_seq* cells (kept for later calls)."""
        s = self._streams
        if s is None or s.seqs < seqs or s.per_seq < per_seq:
            if s is not None:
                s.close()
                self._streams = None
            self._streams = open_streams(self.llm, self._C, seqs=seqs, per_seq=per_seq, n_batch=self.n_batch, n_vocab=self.n_vocab)
        return self._streams

    # -- requests ---------------------------------------------------------------------------
    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[ChoiceResult]:
        """Log-likelihood of each continuation: one forward pass per question after the cached prefix."""
        from evalkit.backends import llamacpp_choice

        if self.batch_questions and self.n_parallel > 1:
            return llamacpp_choice.score_parallel(self, requests)
        return [llamacpp_choice.score_sequential(self, r) for r in requests]

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        """Decode up to n_parallel requests at once (continuous batching), each with its own stop conditions."""
        from evalkit.backends.llamacpp_generate import generate

        return generate(self, requests)

    def generate_iter(self, requests: Sequence[GenerateRequest]) -> Iterator[tuple[int, GenerateResult]]:
        """As :meth:`generate`, yielding (request index, result) as each request finishes."""
        from evalkit.backends.llamacpp_generate import generate_iter

        return generate_iter(self, requests)

    def reset(self) -> None:
        self.kv.reset()

    def close(self) -> None:
        if getattr(self, "_streams", None) is not None:
            self._streams.close()
            self._streams = None
        if getattr(self, "kv", None) is not None:
            self.kv.close()
            self.kv = self._decoder = None
        if getattr(self, "llm", None) is not None:
            self.llm.close()
            self.llm = None
