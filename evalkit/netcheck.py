"""Fail fast when the Hugging Face Hub cannot be reached, instead of minutes of retries."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from urllib.parse import urlparse


@lru_cache(maxsize=4)
def hub_reachable(timeout: float = 3.0) -> bool:
    """False when offline mode is set or huggingface.co (or $HF_ENDPOINT) does not answer on its port."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
