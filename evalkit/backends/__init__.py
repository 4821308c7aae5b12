"""Backends: what runs a model. Registered through the ``evalkit.backends`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from evalkit.errors import BackendUnavailable, did_you_mean

BUILTIN = {
    "llamacpp": "evalkit.backends.llamacpp:LlamaCppBackend",
    "openai-http": "evalkit.backends.openai_http:OpenAIHTTPBackend",
}


def backend_names() -> dict[str, str]:
    """Backend name → 'module:Class', built-ins first, then installed plugins."""
    names = dict(BUILTIN)
    for ep in entry_points(group="evalkit.backends"):
        names.setdefault(ep.name, ep.value)
    return names


def get_backend_class(name: str):
    names = backend_names()
    if name not in names:
        raise BackendUnavailable(did_you_mean(name, names, "backend"))
    module, _, attr = names[name].partition(":")
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise BackendUnavailable(f"backend '{name}' cannot be imported ({exc}). Install its package.") from None
