"""Task kinds: how a suite's items are turned into requests, evaluated and scored.

``TASKS`` maps a suite's ``kind`` to a module-level object with
``evaluate(job, backend, indices) -> Iterator[list[ItemRow]]`` (no storage),
``summarize(job, stored_rows) -> list[metric dict]`` (headline first) and
``key_extra(suite, item) -> tuple[str, ...]`` (what besides the prompt identifies a result).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from evalkit.models import ModelRef
from evalkit.prompt import build_body, build_prefix, prompt_hash
from evalkit.suite import Suite
from evalkit.types import Item, SubsetData


@dataclass
class SubsetJob:
    """One model × suite × subset: its prompts, their storage keys, and which still need evaluating."""

    model: ModelRef
    model_id: str
    plan: object  # runner.SuitePlan (suite, subsets, shots)
    subset: str
    prefix: str
    items: list[Item]
    bodies: list[str]
    hashes: list[str]
    keys: list[str]
    pending: list[str] = field(default_factory=list)

    @property
    def suite(self) -> Suite:
        return self.plan.suite

    @classmethod
    def build(cls, ref: ModelRef, model_id: str, suite: Suite, data: SubsetData, shots: int, fingerprint: dict,
              key_fn: Callable) -> SubsetJob:  # fmt: skip
        prefix = build_prefix(suite, data, shots)
        bodies = [build_body(suite, it) for it in data.items]
        task = TASKS[suite.suite.kind]
        hashes = [prompt_hash(prefix, b, task.key_extra(suite, it)) for b, it in zip(bodies, data.items)]
        keys = [key_fn(model_id, fingerprint, suite, data.name, it.id, h) for it, h in zip(data.items, hashes)]
        plan = _PlanView(suite, shots)
        return cls(ref, model_id, plan, data.name, prefix, data.items, bodies, hashes, keys)


@dataclass
class _PlanView:
    suite: Suite
    shots: int


def _registry() -> dict:
    from evalkit.tasks import choice, generate, jsongen

    return {"choice": choice.TASK, "generate": generate.TASK, "json": jsongen.TASK}


TASKS = _registry()
