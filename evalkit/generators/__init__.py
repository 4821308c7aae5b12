"""Built-in, offline item generators: deterministic for a seed, fresh items for a new seed.

``GENERATORS`` maps a generator name (what a suite file puts in ``[source] generator = ...``)
to an object with ``name``, ``version``, ``default_subsets(options)`` and
``generate(subset, seed, n, options) -> list[Item]``. See docs/generators.md.
"""

from __future__ import annotations

from evalkit.errors import ConfigError, did_you_mean
from evalkit.generators.base import Generator, item_id, rng_for, stable_seed
from evalkit.generators.documents import DocumentsGenerator
from evalkit.generators.reasoning import ReasoningGenerator

GENERATORS: dict[str, Generator] = {g.name: g for g in (DocumentsGenerator(), ReasoningGenerator())}


def get_generator(name: str) -> Generator:
    """The registered generator called ``name``; an unknown name raises ConfigError with close matches."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise ConfigError(did_you_mean(name, GENERATORS, "generator") + ". Fix the suite's [source] table.") from None


__all__ = ["GENERATORS", "Generator", "get_generator", "item_id", "rng_for", "stable_seed"]
