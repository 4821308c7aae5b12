"""Scorers: turn one model output into a score for one item.

A suite lists its scorers (``[[scorers]]`` with ``name`` and ``args``); the first one
decides ``prediction`` / ``correct`` / ``score`` of the stored item, the others add
their findings to ``details``. Every scorer takes any string (empty, runaway, almost-JSON)
and never raises. Each scorer class declares the metrics it can aggregate.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from evalkit.errors import ConfigError, did_you_mean

REGISTRY = {
    "exact_match": "evalkit.scorers.match:ExactMatch",
    "label_match": "evalkit.scorers.match:LabelMatch",
    "numeric": "evalkit.scorers.match:Numeric",
    "json_fields": "evalkit.scorers.jsonfields:JsonFields",
    "entity_f1": "evalkit.scorers.entities:EntityF1",
}


@dataclass
class Score:
    value: float  # in [0, 1]; F1 for partial-credit scorers
    correct: bool | None
    prediction: str | None  # the extracted answer
    details: dict = field(default_factory=dict)


def scorer_class(name: str):
    if name not in REGISTRY:
        raise ConfigError(did_you_mean(name, REGISTRY, "scorer") + ". Fix [[scorers]] name")
    module, _, attr = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _args(cls, name: str, args: dict) -> BaseModel:
    try:
        return cls.Args.model_validate(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(cls.Args.model_fields) or "none"
            raise ConfigError(f"scorer '{name}': unknown argument '{key}'. Allowed: {allowed}") from None
        raise ConfigError(f"scorer '{name}': argument '{key}': {err['msg']}") from None


def build_scorers(suite) -> list[tuple[str, object]]:
    """(key, scorer) for each [[scorers]] entry; keys are the names, made unique."""
    out, seen = [], {}
    for spec in suite.scorers:
        cls = scorer_class(spec.name)
        seen[spec.name] = seen.get(spec.name, 0) + 1
        key = spec.name if seen[spec.name] == 1 else f"{spec.name}_{seen[spec.name]}"
        out.append((key, cls(suite, _args(cls, spec.name, spec.args))))
    return out


def check_scorers(suite) -> None:
    """Raise ConfigError for unknown scorer names or arguments (at suite load time)."""
    build_scorers(suite)
