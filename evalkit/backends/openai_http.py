"""Backend for any OpenAI-compatible HTTP server: OpenAI and other frontier APIs, Ollama,
llama.cpp's server, llama-cpp-python's server, vLLM, LM Studio.

Same interface as :class:`~evalkit.backends.llamacpp.LlamaCppBackend` (``score_choices``,
``generate``, ``close``, ``fingerprint``, ``settings``, ``load_seconds``). Requests of a
batch run concurrently (``concurrency`` at most); :mod:`evalkit.backends.http_retry`
retries, times out and breaks the circuit. When the circuit opens mid-batch, the batch
still returns (finished items are stored, the rest carry an error) and the next call
raises :class:`BackendUnavailable`, which ends the run with one line; the same command
resumes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from evalkit.backends import openai_choice as oc
from evalkit.backends.http_retry import HttpClient, RequestFailed, StreamResult
from evalkit.backends.secrets import read_key
from evalkit.backends.server_spec import ServerSpec
from evalkit.errors import BackendUnavailable
from evalkit.types import ChoiceRequest, ChoiceResult, GenerateRequest, GenerateResult

NAME = "openai-http"


def fingerprint_of(spec: ServerSpec) -> dict:
    """What changes results: the endpoint and how choices are scored (never URLs or keys)."""
    fp = {"backend": NAME, "endpoint": spec.endpoint, "choice": spec.choice}
    if spec.choice == "next-token":
        fp["top_k"] = spec.top_k
    return fp


def open_client(spec: ServerSpec, **override) -> HttpClient:
    opts = dict(timeout=spec.timeout, retries=spec.retries, backoff=spec.backoff, breaker=spec.breaker,
                concurrency=spec.concurrency) | override  # fmt: skip
    return HttpClient(spec.api_root, key=read_key(spec.key_env), **opts)


class OpenAIHTTPBackend:
    """One model on one server. ``ref.server`` is a resolved :class:`ServerSpec` (choice method decided)."""

    name = NAME

    def __init__(self, ref, **_local_options):
        spec: ServerSpec = ref.server
        if spec is None or spec.choice == "auto":
            raise BackendUnavailable(f"model {ref.spec} was not resolved for a server. Resolve it with evalkit.models.resolve_model.")
        t0 = time.perf_counter()
        self.spec, self.method = spec, spec.choice
        self.client = open_client(spec)
        self._pool = ThreadPoolExecutor(max_workers=spec.concurrency, thread_name_prefix="evalkit-http")
        self.load_seconds = time.perf_counter() - t0
        self.tokens_decoded = 0

    @property
    def fingerprint(self) -> dict:
        return fingerprint_of(self.spec)

    @property
    def settings(self) -> dict:
        s = self.spec
        return {"backend": NAME, "server": s.kind, "base_url": self.client.shown, "model": s.model,
                "endpoint": s.endpoint, "choice": s.choice, "top_k": s.top_k, "concurrency": s.concurrency,
                "timeout": s.timeout, "retries": s.retries, "breaker": s.breaker}  # fmt: skip

    # -- batches ----------------------------------------------------------------------------
    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[ChoiceResult]:
        return self._batch(self._score_one, requests)

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return self._batch(self._generate_one, requests)

    def _batch(self, fn: Callable, requests: Sequence) -> list:
        self._raise_if_dead()
        results = list(self._pool.map(fn, requests))
        if results and all(r.error for r in results):
            self._raise_if_dead()  # nothing finished in this batch: end now, with the reason
        return results

    def _raise_if_dead(self) -> None:
        if self.client.breaker.open:
            raise BackendUnavailable(
                f"the server at {self.client.shown} stopped answering: {self.client.breaker.reason}. Everything finished "
                "so far is stored; fix the server and run the same command again to resume."
            )

    # -- multiple choice --------------------------------------------------------------------
    def _score_one(self, req: ChoiceRequest) -> ChoiceResult:
        t0 = time.perf_counter()
        try:
            res = {"next-token": self._next_token, "echo": self._echo, "letter": self._letter}[self.method](req)
        except (RequestFailed, ValueError) as exc:
            return ChoiceResult([], 0, 0, _ms(t0), error=str(exc), details={"method": self.method})
        res.latency_ms = _ms(t0)
        res.details = {"method": self.method, **res.details}
        return res

    def _next_token(self, req: ChoiceRequest) -> ChoiceResult:
        prompt = req.prefix + req.body
        if self.spec.endpoint == "chat":
            payload = {"messages": oc.chat_messages(prompt, oc.labels_of(req.continuations)), "logprobs": True,
                       "top_logprobs": min(self.spec.top_k, 20)}  # fmt: skip
            data = self._post("/chat/completions", payload, max_tokens=1)
            top = oc.top_from_chat(data)
        else:
            payload = {"prompt": prompt, "logprobs": self.spec.top_k}
            if not self.spec.official:
                payload["min_tokens"] = 1  # an end-of-text answer would come back without log-probabilities
            data = self._post("/completions", payload, max_tokens=1)
            top = oc.top_from_completion(data)
        if not top:
            raise ValueError("the server returned no log-probabilities (choose --choice-method letter for this server)")
        scores = oc.score_next_token(req.continuations, top, stripped=self.spec.endpoint == "chat")
        p_tok, c_tok = oc.usage_of(data)
        found = sum(1 for s in scores if s > oc.NEG_INF)
        return ChoiceResult(scores, p_tok or 0, 0, 0.0, completion_tokens=c_tok, details={"in_top_k": found})

    def _echo(self, req: ChoiceRequest) -> ChoiceResult:
        context = req.prefix + req.body
        scores, p_sum, c_sum = [], 0, 0
        for cont in req.continuations:
            data = self._post("/completions", {"prompt": context + cont, "echo": True, "logprobs": 1}, max_tokens=1)
            scores.append(oc.score_echo(context, cont, data))
            p_tok, c_tok = oc.usage_of(data)
            p_sum, c_sum = p_sum + (p_tok or 0), c_sum + (c_tok or 0)
        return ChoiceResult(scores, p_sum, 0, 0.0, completion_tokens=c_sum, details={"requests": len(req.continuations)})

    def _letter(self, req: ChoiceRequest) -> ChoiceResult:
        labels = oc.labels_of(req.continuations)
        prompt = req.prefix + req.body
        if self.spec.endpoint == "chat":
            data = self._post("/chat/completions", {"messages": oc.chat_messages(prompt, labels)}, self.spec.letter_tokens)
        else:
            data = self._post("/completions", {"prompt": prompt, "stop": ["\n"]}, self.spec.letter_tokens)
        text = self.client.scrub(oc.text_of(data)) or ""
        p_tok, c_tok = oc.usage_of(data)
        idx = oc.parse_letter(text, labels)
        return ChoiceResult([], p_tok or 0, 0, 0.0, choice_index=idx, completion_tokens=c_tok, output=text,
                            details={"parsed": idx is not None})  # fmt: skip

    def _post(self, path: str, payload: dict, max_tokens: int) -> dict:
        body = {"model": self.spec.model, "max_tokens": max_tokens, "temperature": 0.0, **payload}
        return self.client.post_json(path, body)

    # -- generation -------------------------------------------------------------------------
    def _generate_one(self, req: GenerateRequest) -> GenerateResult:
        t0 = time.perf_counter()
        body = {"model": self.spec.model, "max_tokens": req.max_tokens, "temperature": req.temperature, "seed": req.seed}
        if req.stop:
            body["stop"] = list(req.stop)[:4]
        if self.spec.endpoint == "chat":
            path, body["messages"] = "/chat/completions", [{"role": "user", "content": req.prefix + req.body}]
        else:
            path, body["prompt"] = "/completions", req.prefix + req.body
            if req.grammar:
                body["grammar"] = req.grammar  # llama.cpp / llama-cpp-python extension; others ignore it
        try:
            if self.spec.stream:
                body |= {"stream": True, "stream_options": {"include_usage": True}}
                return self._from_stream(self.client.post_stream(path, body))
            data = self.client.post_json(path, body)
        except RequestFailed as exc:
            return GenerateResult("", 0, 0, _ms(t0), error=str(exc))
        p_tok, c_tok = oc.usage_of(data)
        finish = (data.get("choices") or [{}])[0].get("finish_reason") or "stop"
        return GenerateResult(self.client.scrub(oc.text_of(data)) or "", p_tok, c_tok, _ms(t0), None, finish)

    def _from_stream(self, res: StreamResult) -> GenerateResult:
        parts, finish, usage, pieces = [], "stop", {}, 0
        for chunk in res.chunks:
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                piece = choice.get("text") or (choice.get("delta") or {}).get("content") or ""
                parts.append(piece)
                pieces += bool(piece)
                finish = choice.get("finish_reason") or finish
        text = self.client.scrub("".join(parts)) or ""
        completion = usage.get("completion_tokens", pieces)  # without usage: one streamed piece ≈ one token
        return GenerateResult(text, usage.get("prompt_tokens"), completion, res.latency_ms, res.ttft_ms, finish)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
