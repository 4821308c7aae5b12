"""Render suite items into prompts with a sandboxed Jinja2 environment.

A prompt is ``prefix + body``: the prefix (header and few-shot examples) is the
same for every item of a subset, so backends can reuse its KV cache.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from evalkit.errors import ConfigError
from evalkit.suite import Suite
from evalkit.types import ChoiceRequest, Item, SubsetData

_ENV = ImmutableSandboxedEnvironment(keep_trailing_newline=True, undefined=StrictUndefined, autoescape=False)


def _regex_replace(value: str, pattern: str, repl: str = "") -> str:
    return re.sub(pattern, repl, str(value))


def _entities_json(tokens, tags) -> str:
    from evalkit.scorers.entities import entities_json

    return entities_json(list(tokens), list(tags))


_ENV.filters["regex_replace"] = _regex_replace
_ENV.globals["entities_json"] = _entities_json


@lru_cache(maxsize=256)
def _template(source: str):
    return _ENV.from_string(source)


def render(source: str, suite: Suite, **variables) -> str:
    try:
        return _template(source).render(**variables)
    except TemplateError as exc:
        raise ConfigError(f"{suite.path}: prompt template failed: {exc}. Fix the template in the suite file.") from None


def _item_vars(item: Item, suite: Suite) -> dict:
    return {**item.fields, "target": item.target, "subset": item.subset, "labels": suite.labels}


def fewshot_examples(suite: Suite, data: SubsetData, k: int | None = None) -> list[Item]:
    """The k few-shot examples: the pool's first k (MMLU's convention), or a seeded sample (fewshot_sample = "random")."""
    k = suite.prompt.fewshot if k is None else k
    pool = list(data.fewshot_pool)
    if k == 0 or not pool:
        return []
    if suite.prompt.fewshot_sample == "random":
        size = min(max(k, suite.prompt.fewshot), len(pool))  # same sample whatever --shots, then its first k
        pool = random.Random(suite.prompt.fewshot_seed).sample(pool, size)
    return pool[:k]


def build_prefix(suite: Suite, data: SubsetData, shots: int | None = None) -> str:
    k = suite.prompt.fewshot if shots is None else shots
    examples = fewshot_examples(suite, data, k)
    prefix = render(suite.prompt.header, suite, subset=data.name, labels=suite.labels)
    for ex in examples:
        prefix += render(suite.prompt.template, suite, **_item_vars(ex, suite))
        prefix += render(suite.prompt.target, suite, **_item_vars(ex, suite))
        prefix += suite.prompt.separator
    return prefix


def build_body(suite: Suite, item: Item) -> str:
    return render(suite.prompt.template, suite, **_item_vars(item, suite))


def continuations(suite: Suite) -> tuple[str, ...]:
    assert suite.choices is not None
    return tuple(render(suite.choices.continuation, suite, label=label) for label in suite.choices.labels)


def choice_request(suite: Suite, prefix: str, item: Item) -> ChoiceRequest:
    return ChoiceRequest(prefix=prefix, body=build_body(suite, item), continuations=continuations(suite))


def prompt_hash(prefix: str, body: str, extra: tuple[str, ...] = ()) -> str:
    h = hashlib.sha256()
    for part in (prefix, body, *extra):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]
