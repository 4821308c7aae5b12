"""What every built-in generator shares: the Generator protocol, seeded RNGs, option and subset checks."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from evalkit.errors import ConfigError, SuiteNotFound, did_you_mean
from evalkit.types import Item


@runtime_checkable
class Generator(Protocol):
    """A deterministic, offline source of items.

    ``generate(subset, seed, n, options)`` returns the same items for the same
    arguments on every machine and Python version; another seed gives fresh items.
    Item ``i`` depends only on (name, version, subset, seed, i), so a larger ``n``
    extends a smaller one instead of changing it. Bump ``version`` whenever the
    output for some arguments changes.
    """

    name: str
    version: str

    def default_subsets(self, options: dict[str, Any]) -> list[str]: ...

    def generate(self, subset: str, seed: int, n: int, options: dict[str, Any]) -> list[Item]: ...


def stable_seed(*parts: object) -> int:
    """A 64-bit integer from the parts, identical across runs and machines (unlike the salted ``hash()``)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def rng_for(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from a stable hash of the parts."""
    return random.Random(stable_seed(*parts))


def item_id(subset: str, seed: int, index: int) -> str:
    """The stable, unique id of item ``index`` of a subset generated with ``seed``."""
    return f"{subset}/s{seed}/{index}"


def check_options(generator: str, options: dict[str, Any], allowed: Iterable[str]) -> None:
    """Reject option keys the generator does not know, naming the close ones."""
    allowed = list(allowed)
    for key in options:
        if key not in allowed:
            raise ConfigError(did_you_mean(key, allowed, f"option of generator '{generator}'") + ". Fix [source.options].")


def int_list(generator: str, options: dict[str, Any], key: str, default: list[int], lo: int, hi: int) -> list[int]:
    """Read an option that must be a list of integers within [lo, hi]."""
    value = options.get(key, default)
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"generator '{generator}': option '{key}' must be a non-empty list of integers, got {value!r}.")
    bad = [v for v in value if not lo <= v <= hi]
    if bad:
        raise ConfigError(f"generator '{generator}': option '{key}' values must lie in {lo}..{hi}, got {bad}.")
    return value


def name_list(generator: str, options: dict[str, Any], key: str, known: list[str]) -> list[str]:
    """Read an option that must be a non-empty list drawn from ``known`` (default: all of them)."""
    value = options.get(key, known)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"generator '{generator}': option '{key}' must be a non-empty list, got {value!r}.")
    for v in value:
        if v not in known:
            raise ConfigError(did_you_mean(str(v), known, f"value of '{key}' for generator '{generator}'") + ".")
    return list(dict.fromkeys(value))


def subset_number(generator: str, subset: str, prefix: str, lo: int, hi: int, example: str) -> int:
    """Parse subsets named ``<prefix><N>`` (e.g. ``steps_07``) and check N lies in [lo, hi]."""
    m = re.fullmatch(re.escape(prefix) + r"(\d{1,6})", subset)
    if not m or not lo <= int(m.group(1)) <= hi:
        raise SuiteNotFound(
            f"generator '{generator}' has no subset '{subset}'. Use {prefix}<N> with N in {lo}..{hi}, e.g. {example}."
        )
    return int(m.group(1))


def check_count(generator: str, seed: int, n: int) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"generator '{generator}': seed must be a non-negative integer, got {seed!r}.")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigError(f"generator '{generator}': item count must be a non-negative integer, got {n!r}.")
