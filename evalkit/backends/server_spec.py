"""Model specs for models behind an HTTP server: ``openai:MODEL`` and ``ollama:MODEL``.

A server spec is one string, so it travels unchanged through run files, worker
processes and the ``models.spec`` column::

    openai:gpt-4o-mini                                   # api.openai.com, key in $OPENAI_API_KEY, chat endpoint
    openai:my-model?base_url=http://127.0.0.1:8080/v1   # any OpenAI-compatible server (llama.cpp, vLLM, LM Studio)
    ollama:qwen2.5:0.5b                                  # Ollama on 127.0.0.1:11434
    openai:m?base_url=https://host/v1&key_env=MY_KEY&endpoint=chat&choice=letter&concurrency=8

Options (query string): ``base_url``, ``key_env`` (the NAME of the variable that holds
the API key; the key itself never appears in a spec), ``endpoint`` (completions|chat),
``choice`` (auto|next-token|echo|letter), ``top_k``, ``concurrency``, ``timeout``
(seconds), ``retries``, ``backoff`` (seconds), ``breaker`` (failed requests in a row
that end the run), ``letter_tokens``, ``stream`` (true|false). ``evalkit run`` fills
them from ``--base-url``, ``--api-key-env``, ``--endpoint``, ``--choice-method``,
``--concurrency`` and ``--request-timeout``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from urllib.parse import parse_qsl, quote, urlsplit

from evalkit.backends.secrets import check_env_name, redact_url
from evalkit.errors import ConfigError

KINDS = ("openai", "ollama")
OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://127.0.0.1:11434"
CHOICE_METHODS = ("auto", "next-token", "echo", "letter")
ENDPOINTS = ("completions", "chat")


@dataclass(frozen=True)
class ServerSpec:
    kind: str
    model: str
    base_url: str = ""
    key_env: str = ""
    endpoint: str = ""
    choice: str = "auto"
    top_k: int = 20
    concurrency: int = 4
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 0.5
    breaker: int = 5
    letter_tokens: int = 8
    stream: bool = True

    # -- derived ----------------------------------------------------------------------------
    @property
    def api_root(self) -> str:
        """The OpenAI-compatible root, ending in /v1 unless the user gave another path."""
        url = self.base_url.rstrip("/")
        return url if urlsplit(url).path not in ("", "/") else url + "/v1"

    @property
    def native_root(self) -> str:
        """The server's own root (Ollama's /api/... lives here)."""
        url = self.base_url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url

    @property
    def official(self) -> bool:
        """api.openai.com: strict about unknown request fields."""
        return self.base_url.rstrip("/") == OPENAI_URL

    @property
    def host_label(self) -> str:
        if self.base_url.rstrip("/") == OPENAI_URL:
            return "openai"
        if self.kind == "ollama" and self.native_root == OLLAMA_URL:
            return "ollama"
        parts = urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "server")

    def display_name(self, method: str) -> str:
        """Model name as shown in results: model@host, and the choice method unless it is next-token."""
        short = self.model.rsplit("/", 1)[-1] if self.model.endswith(".gguf") else self.model
        name = f"{short}@{self.host_label}"
        return name if method == "next-token" else f"{name} ({method})"

    def model_id(self, method: str) -> str:
        """Stable id: hash of the server's redacted URL, the model name and the choice method (never the key)."""
        raw = "\n".join([self.kind, redact_url(self.api_root), self.model, method])
        return "srv-" + hashlib.sha256(raw.encode()).hexdigest()[:24]

    def canonical(self) -> str:
        """The spec string with every non-default option, base URL redacted."""
        default = _defaults(self.kind, self.model, {"base_url": self.base_url})
        plain = _defaults(self.kind, self.model, {})
        opts = []
        for f in fields(self):
            if f.name in ("kind", "model"):
                continue
            value = getattr(self, f.name)
            if value != getattr(plain if f.name == "base_url" else default, f.name):
                shown = redact_url(value) if f.name == "base_url" else value
                opts.append(f"{f.name}={quote(str(shown).lower() if isinstance(value, bool) else str(shown), safe=':/.')}")
        return f"{self.kind}:{self.model}" + ("?" + "&".join(opts) if opts else "")


def is_server_spec(spec: str) -> bool:
    return spec.split(":", 1)[0] in KINDS and ":" in spec


def _defaults(kind: str, model: str, given: dict) -> ServerSpec:
    base = given.get("base_url") or (OPENAI_URL if kind == "openai" else OLLAMA_URL)
    official = kind == "openai" and base.rstrip("/") == OPENAI_URL
    return ServerSpec(
        kind=kind,
        model=model,
        base_url=base.rstrip("/"),
        key_env="OPENAI_API_KEY" if official else "",
        endpoint="chat" if official else "completions",
    )


def _convert(name: str, raw: str, spec: str):
    kinds = {f.name: f.type for f in fields(ServerSpec)}
    if name not in kinds or name in ("kind", "model"):
        allowed = ", ".join(n for n in kinds if n not in ("kind", "model"))
        raise ConfigError(f"model spec '{spec.split('?')[0]}': unknown option '{name}'. Allowed: {allowed}.")
    try:
        if kinds[name] == "int":
            value = int(raw)
            if value < (0 if name == "retries" else 1):
                raise ValueError
            return value
        if kinds[name] == "float":
            value = float(raw)
            if value <= 0 and name == "timeout" or value < 0:
                raise ValueError
            return value
        if kinds[name] == "bool":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return raw.lower() in ("true", "1")
    except ValueError:
        raise ConfigError(f"model spec option {name}={raw!r} is not valid. Use a {kinds[name]} (>= 0).") from None
    return raw


def parse_server_spec(spec: str) -> ServerSpec:
    """Parse ``kind:MODEL[?opt=value&...]``; every error names the option and the fix."""
    kind, _, rest = spec.strip().partition(":")
    model, _, query = rest.partition("?")
    if kind not in KINDS or not model:
        raise ConfigError(f"bad server model spec '{spec.split('?')[0]}'. Use openai:MODEL or ollama:MODEL.")
    given = {}
    for name, raw in parse_qsl(query, keep_blank_values=True):
        given[name] = _convert(name, raw, spec)
    if "base_url" in given:
        parts = urlsplit(given["base_url"])
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ConfigError(
                "base_url must not carry user:password, a query string or a fragment (they can hold credentials). "
                "Pass the key through --api-key-env NAME."
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"base_url {redact_url(given['base_url'])!r} is not an http(s) URL. Pass e.g. http://127.0.0.1:8080/v1.")
    if given.get("key_env"):
        check_env_name(given["key_env"])
    if given.get("endpoint", "completions") not in ENDPOINTS:
        raise ConfigError(f"endpoint must be one of {', '.join(ENDPOINTS)}, not {given['endpoint']!r}.")
    if given.get("choice", "auto") not in CHOICE_METHODS:
        raise ConfigError(f"choice method must be one of {', '.join(CHOICE_METHODS)}, not {given['choice']!r}.")
    if given.get("choice") == "echo" and given.get("endpoint") == "chat":
        raise ConfigError("choice=echo needs the completions endpoint (chat APIs cannot echo the prompt). Use endpoint=completions.")
    return replace(_defaults(kind, model, given), **given)


CLI_TO_OPTION = {
    "base_url": "base_url",
    "api_key_env": "key_env",
    "endpoint": "endpoint",
    "choice_method": "choice",
    "concurrency": "concurrency",
    "request_timeout": "timeout",
}


def apply_cli_options(specs: list[str], **cli: object) -> list[str]:
    """Fold --base-url/--api-key-env/... into every server spec that does not set that option itself."""
    given = {CLI_TO_OPTION[k]: v for k, v in cli.items() if v is not None}
    if not given:
        return list(specs)
    if not any(is_server_spec(s) for s in specs):
        flags = ", ".join("--" + k.replace("_", "-") for k, v in cli.items() if v is not None)
        raise ConfigError(f"{flags} apply to server models only. Pass --model openai:MODEL or --model ollama:MODEL.")
    if given.get("key_env"):
        check_env_name(str(given["key_env"]))
    out = []
    for spec in specs:
        if not is_server_spec(spec):
            out.append(spec)
            continue
        head, _, query = spec.partition("?")
        present = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
        extra = [f"{k}={quote(str(v), safe=':/.')}" for k, v in given.items() if k not in present]
        joined = "&".join(p for p in (query, *extra) if p)
        out.append(head + ("?" + joined if joined else ""))
    return out
