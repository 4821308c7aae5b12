"""HTTP with retries, timeouts and a circuit breaker, for OpenAI-compatible servers.

- 429, 5xx, timeouts, dropped connections and malformed JSON are retried with
  exponential backoff (``Retry-After`` honoured, capped); other 4xx are not.
- Every request that still fails counts against a circuit breaker; a success resets
  it. After ``breaker`` failures in a row the circuit opens: no more requests are sent,
  and the backend ends the run with one line (what finished is already stored).
- 401/403 open the circuit at once: a bad key does not get better by retrying.
- Messages never hold the API key: URLs are redacted, server text is scrubbed.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from evalkit.backends.secrets import Scrubber, redact_url

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504, 520, 521, 522, 524, 529}
FATAL_STATUS = {401, 403, 404}
MAX_SLEEP = 30.0

# httpx logs every request at INFO with its URL; evalkit reports its own, redacted, messages.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)


class RequestFailed(Exception):
    """One request failed for good (after retries). The message is safe to store."""


class CircuitOpen(RequestFailed):
    """The server is considered dead: no request was sent."""


class CircuitBreaker:
    """Counts failed requests in a row (thread-safe); opens at *threshold* or on a fatal answer."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.failures = 0
        self.reason: str | None = None  # set once open
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return self.reason is not None

    def success(self) -> None:
        with self._lock:
            if self.reason is None:
                self.failures = 0

    def failure(self, message: str, fatal: bool = False) -> None:
        with self._lock:
            self.failures += 1
            if self.reason is None and (fatal or self.failures >= self.threshold):
                self.reason = message if fatal else f"{self.failures} requests in a row failed (last: {message})"


@dataclass
class StreamResult:
    chunks: list[dict]
    ttft_ms: float | None
    latency_ms: float


class HttpClient:
    """A pooled httpx client for one server root, shared by the backend's worker threads."""

    def __init__(self, root: str, *, key: str | None, timeout: float, retries: int, backoff: float, breaker: int,
                 concurrency: int):  # fmt: skip
        self.root = root.rstrip("/")
        self.shown = redact_url(self.root)
        self.retries, self.backoff = retries, backoff
        self.breaker = CircuitBreaker(breaker)
        self.scrub = Scrubber(key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), limits=limits, follow_redirects=False
        )
        self.timeout = timeout

    def close(self) -> None:
        self._http.close()

    # -- public ----------------------------------------------------------------------------
    def post_json(self, path: str, payload: dict) -> dict:
        return self._with_retries(lambda: self._post_once(path, payload))

    def get_json(self, url: str) -> dict:
        """GET an absolute URL on the same server (e.g. Ollama's /api/tags), with retries."""
        return self._with_retries(lambda: self._decode(self._http.get(url)))

    def post_url(self, url: str, payload: dict) -> dict:
        """POST to an absolute URL on the same server (e.g. Ollama's /api/show), with retries."""
        return self._with_retries(lambda: self._decode(self._http.post(url, json=payload)))

    def post_stream(self, path: str, payload: dict) -> StreamResult:
        return self._with_retries(lambda: self._stream_once(path, payload))

    # -- one attempt ------------------------------------------------------------------------
    def _post_once(self, path: str, payload: dict) -> dict:
        return self._decode(self._http.post(self.root + path, json=payload))

    def _decode(self, resp: httpx.Response) -> dict:
        self._check_status(resp)
        try:
            data = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(f"malformed JSON from server (HTTP {resp.status_code}, {len(resp.content)} bytes)") from None
        if not isinstance(data, dict):
            raise _Retryable(f"unexpected JSON from server (a {type(data).__name__}, not an object)")
        return data

    def _stream_once(self, path: str, payload: dict) -> StreamResult:
        t0 = time.perf_counter()
        chunks, ttft = [], None
        with self._http.stream("POST", self.root + path, json=payload) as resp:
            if resp.status_code != 200:
                resp.read()
                self._check_status(resp)
            for data in _sse_events(resp.iter_lines()):
                if ttft is None and _has_text(data):
                    ttft = (time.perf_counter() - t0) * 1000
                chunks.append(data)
        return StreamResult(chunks, ttft, (time.perf_counter() - t0) * 1000)

    def _check_status(self, resp: httpx.Response) -> None:
        status = resp.status_code
        if status < 400:
            return
        body = " ".join((self.scrub(resp.text) or "").split())[:200]
        message = f"HTTP {status} from {self.shown}: {body}" if body else f"HTTP {status} from {self.shown}"
        if status in RETRY_STATUS or status >= 500:
            raise _Retryable(message, _retry_after(resp.headers.get("retry-after")))
        if status in FATAL_STATUS:
            hint = {401: "the server rejected the API key", 403: "the API key may not use this model",
                    404: "wrong base URL or model name"}[status]  # fmt: skip
            raise _Fatal(f"{message} ({hint})")
        raise RequestFailed(message)

    # -- retry loop -------------------------------------------------------------------------
    def _with_retries(self, attempt):
        last = "no attempt"
        for n in range(self.retries + 1):
            if self.breaker.open:
                raise CircuitOpen(f"not sent: the server at {self.shown} is unavailable ({self.breaker.reason})")
            try:
                result = attempt()
                self.breaker.success()
                return result
            except _Fatal as exc:
                self.breaker.failure(str(exc), fatal=True)
                raise RequestFailed(str(exc)) from None
            except RequestFailed:
                self.breaker.success()  # the server answered; this request is bad, not the server
                raise
            except _Retryable as exc:
                last, retry_after = str(exc), exc.retry_after
            except httpx.TimeoutException:
                last, retry_after = f"no answer from {self.shown} within {self.timeout:g} s", None
            except httpx.TransportError as exc:
                last, retry_after = f"cannot reach {self.shown} ({_transport_reason(exc)})", None
            if n < self.retries:
                time.sleep(self._delay(n, retry_after))
        message = f"{last} (after {self.retries + 1} attempts)"
        self.breaker.failure(message)
        raise RequestFailed(message)

    def _delay(self, n: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_SLEEP)
        return min(self.backoff * (2**n), MAX_SLEEP) * (0.75 + 0.5 * random.random())


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Fatal(Exception):
    pass


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: fall back to exponential backoff
        return None


def _transport_reason(exc: httpx.TransportError) -> str:
    text = str(exc).lower()
    for key, reason in (("refused", "connection refused"), ("reset", "connection reset"), ("name", "unknown host"),
                        ("disconnect", "server closed the connection"), ("incomplete", "server closed the connection")):  # fmt: skip
        if key in text:
            return reason
    return type(exc).__name__


def _sse_events(lines: Iterator[str]) -> Iterator[dict]:
    """JSON objects of a server-sent-events stream, up to ``data: [DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            obj = json.loads(data)
        except json.JSONDecodeError:
            raise _Retryable("malformed JSON in the server's event stream") from None
        if isinstance(obj, dict) and obj.get("error"):
            raise _Retryable("the server reported an error mid-stream")
        yield obj


def _has_text(chunk: dict) -> bool:
    for choice in chunk.get("choices") or []:
        if choice.get("text") or (choice.get("delta") or {}).get("content"):
            return True
    return False
