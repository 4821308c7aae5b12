"""Helpers for evalkit's child processes (matrix workers, quantizer, ladder measurement)."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def child_env(extra: dict | None = None) -> dict:
    """This environment, with this evalkit's package root first on PYTHONPATH, so a child runs the same code."""
    import evalkit

    root = str(Path(evalkit.__file__).resolve().parent.parent)
    env = dict(os.environ)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in parts if p != root])
    env.update(extra or {})
    return env


def describe_exit(returncode: int) -> str:
    """'killed by signal 9 (SIGKILL)' / 'exited with code 3'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        hint = "; out of memory, or killed from outside" if -returncode == signal.SIGKILL else ""
        return f"killed by signal {-returncode} ({name}{hint})"
    return f"exited with code {returncode}"


def tail(path: str | Path, lines: int = 5, chars: int = 600) -> str:
    """The last non-empty lines of a log file, joined, at most *chars* long."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(kept)[-chars:]
