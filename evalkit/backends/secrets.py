"""Keep API keys out of everything evalkit writes: DuckDB, logs, error messages, the site.

A key is read from the environment variable the user names, at the moment a request
is sent, and lives only in the HTTP client's headers. Everything else that could carry
it (a URL with credentials, a server's error body that echoes the key) goes through
:func:`redact_url` or a :class:`Scrubber` before it is shown or stored.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

from evalkit.errors import ConfigError

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MASK = "***"


def check_env_name(name: str) -> str:
    """An environment variable *name*; never echo a value that looks like a key itself."""
    if not ENV_NAME.match(name or ""):
        raise ConfigError(
            "--api-key-env must be the NAME of an environment variable holding the key (letters, digits and _, "
            "e.g. OPENAI_API_KEY), never the key itself. Export the key and pass its variable's name."
        )
    return name


def read_key(env_name: str | None) -> str | None:
    """The key in $env_name, or None when no variable is named. A named but empty variable is an error."""
    if not env_name:
        return None
    value = os.environ.get(check_env_name(env_name), "")
    if not value.strip():
        raise ConfigError(f"the environment variable {env_name} is not set or empty. Export the API key in it, or pass --api-key-env NAME.")
    return value.strip()


def redact_url(url: str) -> str:
    """scheme://host:port/path: user, password, query and fragment dropped (they can hold credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Scrubber:
    """Replaces every occurrence of the given secrets (and their longer fragments) in a text with ***."""

    def __init__(self, *secrets: str | None):
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def __call__(self, text: str | None) -> str | None:
        if not text or not self.secrets:
            return text
        for secret in self.secrets:
            text = text.replace(secret, MASK)
            # servers sometimes echo a key partially ("sk-abc...xyz"): mask long fragments too
            for frag in {secret[:12], secret[-12:]}:
                if len(frag) >= 8:
                    text = text.replace(frag, MASK)
        return text
