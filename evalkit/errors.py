"""User-facing errors.

Every error a user can cause derives from :class:`EvalkitError`. The CLI prints
its message on one line, without a traceback (unless ``--debug``), and exits
with :attr:`EvalkitError.exit_code` (2 for bad input).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EvalkitError(Exception):
    """An error whose message is meant for the user: it names the problem and the fix."""

    exit_code = 2


class ConfigError(EvalkitError):
    """Bad command-line options, run files or suite files."""


class ModelError(EvalkitError):
    """A model spec that cannot be resolved or a file that is not a usable GGUF."""


class SuiteNotFound(EvalkitError):
    """An unknown suite or subset name."""


class DataUnavailable(EvalkitError):
    """A suite's data can be reached neither online nor in a local directory."""


class BackendUnavailable(EvalkitError):
    """A backend whose optional dependency is missing or whose server cannot be reached."""


class GateFailed(EvalkitError):
    """A regression gate found a real regression."""

    exit_code = 1


def did_you_mean(name: str, known: Iterable[str], what: str) -> str:
    """Return "Unknown WHAT 'name'. Did you mean: x? Available: a, b, ..." for error messages."""
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    msg = f"unknown {what} '{name}'."
    if close:
        msg += " Did you mean: " + ", ".join(close) + "?"
    shown = known if len(known) <= 12 else known[:12] + ["..."]
    msg += " Available: " + ", ".join(shown)
    return msg
