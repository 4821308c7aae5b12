"""Preview a built site on 127.0.0.1 with the standard library's HTTP server (never on other interfaces)."""

from __future__ import annotations

import errno
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from evalkit.errors import ConfigError
from evalkit.site.output import MARKER

HOST = "127.0.0.1"


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass  # quiet: the CLI prints the address once

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(folder: str | Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``folder`` on 127.0.0.1:port (0 = any free port); ConfigError if it cannot start."""
    folder = Path(folder)
    if not (folder / MARKER).is_file() or not (folder / "index.html").is_file():
        raise ConfigError(f"{folder} is not a built site. Run 'evalkit site build --out {folder}' first, or pass --dir.")
    handler = functools.partial(_Handler, directory=str(folder))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {HOST} is in use. Pass another --port (or --port 0 for any free one).") from None
        raise ConfigError(f"cannot serve on {HOST}:{port}: {exc.strerror}. Pass another --port.") from None
