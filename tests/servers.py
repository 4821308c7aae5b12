"""Real HTTP servers on 127.0.0.1 for the server-backend tests (helpers, not tests).

- :class:`LlamaServer`: llama-cpp-python's own OpenAI-compatible server with a shipped model.
- :class:`FaultProxy`: a thin proxy in front of it that can answer 500s, answer too slowly,
  return malformed JSON, or kill the server after a number of requests.
- :class:`FakeOllama`: Ollama's /api/show and /api/tags (facts read from the real GGUF file),
  forwarding /v1/* to the real server. No ``ollama`` binary can be installed here (not on
  PyPI or Debian), so this stands in for Ollama's own endpoints.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama-cpp-python's server on a free port; ``kill()`` (SIGKILL) and ``start()`` again.

    Started through ``evalkit.backends.llamacpp_server`` (``llama_cpp.server`` with evalkit's repacking
    guard): stock, it segfaults on its first multi-token batch on AVX-512 CPUs such as CI's.
    """

    def __init__(self, model_path: Path, log_dir: Path, alias: str = "smollm2", api_key: str | None = None):
        self.model_path, self.alias, self.api_key = model_path, alias, api_key
        self.log = log_dir / "llama-server.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180.0) -> LlamaServer:
        cmd = [sys.executable, "-m", "evalkit.backends.llamacpp_server", "--model", str(self.model_path), "--model_alias", self.alias,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048", "--n_threads", "1",
               "--n_threads_batch", "1", "--logits_all", "true"]  # fmt: skip
        if self.api_key:
            cmd += ["--api_key", self.api_key]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-cpp-python server exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/models", headers=headers, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"llama-cpp-python server did not answer within {timeout} s; see {self.log}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, method: str, body: bytes | None) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
        try:
            resp = httpx.request(method, self.server.upstream + self.path, content=body, headers=headers, timeout=300)
        except httpx.HTTPError:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._reply(resp.status_code, resp.content, resp.headers.get("content-type", "application/json"))

    def do_GET(self):
        self.server.owner.handle(self, "GET", None)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.owner.handle(self, "POST", body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that gave up (timeout) is expected here
        pass


class _Background:
    def __init__(self, upstream: str):
        self.httpd = _ProxyServer(("127.0.0.1", 0), _Handler)
        self.httpd.upstream, self.httpd.owner = upstream.rstrip("/"), self
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FaultProxy(_Background):
    """Forwards to *upstream* (a server root); after ``after`` requests, injects ``mode``:
    "500", "slow" (sleeps ``delay`` s, then forwards), "malformed" (200 with broken JSON),
    "kill" (calls ``on_kill`` once, then forwards, so the request meets a dead server).
    ``every`` > 1 injects only on every n-th request after that (transient faults)."""

    def __init__(self, upstream: str):
        super().__init__(upstream)
        self.reset()

    def reset(self, mode: str = "pass", after: int = 0, every: int = 1, delay: float = 3.0, on_kill=None) -> None:
        self.mode, self.after, self.every, self.delay, self.on_kill = mode, after, every, delay, on_kill
        self.count, self.injected, self.headers_seen = 0, 0, []
        self._lock = threading.Lock()

    def handle(self, h: _Handler, method: str, body: bytes | None) -> None:
        with self._lock:
            self.count += 1
            n = self.count
            self.headers_seen.append(dict(h.headers.items()))
        inject = self.mode != "pass" and n > self.after and (n - self.after - 1) % self.every == 0
        if inject:
            self.injected += 1
            if self.mode == "500":
                return h._reply(500, b'{"error": {"message": "injected failure"}}')
            if self.mode == "malformed":
                return h._reply(200, b'{"choices": [{"text": "A", "logprobs": ')
            if self.mode == "slow":
                time.sleep(self.delay)
            if self.mode == "kill" and self.on_kill is not None:
                self.on_kill()
                self.on_kill = None
        h._forward(method, body)


class FakeOllama(_Background):
    """Ollama-shaped /api/show and /api/tags for one model; everything else forwarded to the real server."""

    def __init__(self, upstream_root: str, name: str, show: dict, size: int, digest: str):
        super().__init__(upstream_root)
        self.name, self.show, self.size, self.digest = name, show, size, digest

    def handle(self, h: _Handler, method: str, body: bytes | None) -> None:
        if h.path == "/api/show" and method == "POST":
            wanted = json.loads(body or b"{}").get("model")
            if wanted not in (self.name, f"{self.name}:latest"):
                return h._reply(404, json.dumps({"error": f"model '{wanted}' not found"}).encode())
            return h._reply(200, json.dumps(self.show).encode())
        if h.path == "/api/tags":
            entry = {"name": f"{self.name}:latest", "model": f"{self.name}:latest", "size": self.size,
                     "digest": self.digest, "details": self.show["details"]}  # fmt: skip
            return h._reply(200, json.dumps({"models": [entry]}).encode())
        h._forward(method, body)
