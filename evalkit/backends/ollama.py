"""Model facts from Ollama's own API: family, parameter count, quantization level, size.

``POST /api/show`` answers ``details`` (family, parameter_size, quantization_level,
format) and ``model_info`` (general.parameter_count, <arch>.context_length);
``GET /api/tags`` lists installed models with their size on disk and digest. Both are
optional: a server that is not Ollama (or an older one) simply gives fewer facts.
"""

from __future__ import annotations

import re

from evalkit.backends.http_retry import HttpClient, RequestFailed

_SIZE = re.compile(r"^\s*([\d.]+)\s*([KMBT]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def parse_parameter_size(text: str | None) -> int | None:
    """'8.0B' → 8_000_000_000; '135M' → 135_000_000; None when unreadable."""
    m = _SIZE.match(text or "")
    return int(float(m.group(1)) * _SCALE[m.group(2).upper()]) if m else None


def _same_model(name: str, wanted: str) -> bool:
    return name == wanted or name == f"{wanted}:latest" or f"{name}:latest" == wanted


def ollama_facts(client: HttpClient, native_root: str, model: str) -> dict:
    """Facts for the models table (keys as in GGUFInfo where they mean the same), or {} if unavailable."""
    try:
        show = client.post_url(native_root + "/api/show", {"model": model})
    except RequestFailed as exc:
        return {"facts_error": f"Ollama /api/show unavailable: {exc}"}
    details = show.get("details") or {}
    info = show.get("model_info") or {}
    arch = info.get("general.architecture") or details.get("family")
    facts = {
        "facts_source": "ollama /api/show",
        "architecture": arch,
        "family": details.get("family"),
        "quant_type": details.get("quantization_level"),
        "format": details.get("format"),
        "parameter_size": details.get("parameter_size"),
        "n_params": info.get("general.parameter_count") or parse_parameter_size(details.get("parameter_size")),
        "context_length": info.get(f"{arch}.context_length") if arch else None,
    }
    try:
        tags = client.get_json(native_root + "/api/tags")
    except RequestFailed:
        tags = {}
    for entry in tags.get("models") or []:
        if _same_model(entry.get("name") or entry.get("model") or "", model):
            facts["file_size"] = entry.get("size")
            facts["digest"] = entry.get("digest")
            break
    return {k: v for k, v in facts.items() if v is not None}
