"""Items from a built-in generator (``evalkit.generators``): offline, seeded, fresh for every new seed.

The seed is the suite's ``[source] seed`` unless ``evalkit run --seed`` gives one. Few-shot
examples come from the same generator under a separate seed, so they never repeat a test item.
The seed, generator name and generator version are written into every item's ``meta``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evalkit.errors import ConfigError
from evalkit.suite import Suite
from evalkit.types import SubsetData

FEWSHOT_SEED_OFFSET = 1_000_000_000


def _get_generator(name: str):
    try:
        from evalkit.generators import get_generator
    except ImportError:
        raise ConfigError(f"generator '{name}' is not available: this evalkit has no built-in generators.") from None
    return get_generator(name)


def generator_for(suite: Suite):
    return _get_generator(suite.source.generator)


def subsets(suite: Suite) -> list[str]:
    return list(generator_for(suite).default_subsets(dict(suite.source.options)))


def availability(suite: Suite, directory: Path | None) -> str:
    gen = generator_for(suite)
    return f"built-in: {gen.name} v{gen.version}"


def effective_seed(suite: Suite, seed: int | None) -> int:
    return suite.source.seed if seed is None else seed


def _stamp(items, gen, seed: int, role: str):
    meta = {"seed": seed, "generator": gen.name, "generator_version": str(gen.version), "role": role}
    return [dataclasses.replace(it, meta={**it.meta, **meta}) for it in items]


def load(suite: Suite, names: list[str], directory: Path | None, seed: int | None = None) -> dict[str, SubsetData]:
    gen = generator_for(suite)
    seed = effective_seed(suite, seed)
    options = dict(suite.source.options)
    k = max(suite.prompt.fewshot, 5) if suite.prompt.fewshot else 0
    out = {}
    for name in names:
        items = _stamp(gen.generate(name, seed, suite.source.n, options), gen, seed, "test")
        pool = _stamp(gen.generate(name, seed + FEWSHOT_SEED_OFFSET, k, options), gen, seed + FEWSHOT_SEED_OFFSET, "fewshot") if k else []
        out[name] = SubsetData(name, items, pool)
    return out
