"""Resolve a server model spec into a ModelRef: decide the choice method, and gather facts.

``choice=auto`` is decided here, before any item is evaluated, by asking the server
once for next-token log-probabilities: if it returns them, multiple choice is scored
by ``next-token``; otherwise by ``letter``. The decided method is part of the
model's id, its display name and every item's key, so results of the two methods
are never mixed. The answer is cached for the process.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from evalkit.backends import openai_choice as oc
from evalkit.backends.http_retry import RequestFailed
from evalkit.backends.openai_http import NAME, open_client
from evalkit.backends.secrets import redact_url
from evalkit.backends.server_spec import ServerSpec, parse_server_spec
from evalkit.errors import BackendUnavailable

_REFUSED = re.compile(r"HTTP (400|422) ")  # the request was refused (e.g. no logprobs option), the server works
PROBE_PROMPT = "Question: What is the capital of France?\nA. Paris\nB. London\nAnswer: A\n\nQuestion: What is 2 + 2?\nA. 4\nB. 5\nAnswer:"


def resolve_server(spec_text: str):
    """ModelRef for ``openai:MODEL`` / ``ollama:MODEL`` specs, with the choice method decided."""
    from evalkit.models import ModelRef

    spec = parse_server_spec(spec_text)
    canonical = spec.canonical()
    if spec.choice == "auto":
        spec = replace(spec, choice=_probe(spec))
    return ModelRef(spec=canonical, name=spec.display_name(spec.choice), path=None, source=spec.kind, backend=NAME,
                    server=spec)  # fmt: skip


@lru_cache(maxsize=64)
def _probe(spec: ServerSpec) -> str:
    """'next-token' if the server returns next-token log-probabilities, else 'letter'."""
    client = open_client(spec, retries=1, breaker=1, timeout=min(spec.timeout, 60.0), concurrency=1)
    body = {"model": spec.model, "max_tokens": 1, "temperature": 0.0}
    try:
        if spec.endpoint == "chat":
            body |= {"messages": oc.chat_messages(PROBE_PROMPT, ["A", "B"]), "logprobs": True, "top_logprobs": 5}
            top = oc.top_from_chat(client.post_json("/chat/completions", body))
        else:
            body |= {"prompt": PROBE_PROMPT, "logprobs": 5} | ({} if spec.official else {"min_tokens": 1})
            top = oc.top_from_completion(client.post_json("/completions", body))
    except RequestFailed as exc:
        if not _REFUSED.search(str(exc)):
            raise BackendUnavailable(
                f"cannot use the server for {spec.kind}:{spec.model}: {exc}. Start the server, or check --base-url and the model name."
            ) from None
        top = {}  # the server refused the logprobs option: it does not offer them
    finally:
        client.close()
    return "next-token" if top else "letter"


def server_facts(ref) -> tuple[str, dict]:
    """(model_id, facts) for a server model: id from URL + model + method; facts from Ollama when it is one."""
    spec: ServerSpec = ref.server
    info = {
        "backend": NAME,
        "server": spec.kind,
        "base_url": redact_url(spec.api_root),
        "model": spec.model,
        "endpoint": spec.endpoint,
        "choice_method": spec.choice,
    }
    if spec.kind == "ollama":
        from evalkit.backends.ollama import ollama_facts

        client = open_client(spec, retries=0, breaker=100, timeout=min(spec.timeout, 15.0), concurrency=1)
        try:
            info |= ollama_facts(client, spec.native_root, spec.model)
        finally:
            client.close()
    return spec.model_id(spec.choice), info
