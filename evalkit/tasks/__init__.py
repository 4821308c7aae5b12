"""Task kinds: how a suite's items are turned into requests, evaluated and scored.

``TASKS`` maps a suite's ``kind`` to a module-level object with
``evaluate(job, backend, store, run_id, progress) -> SummaryRow``.
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
        from evalkit.prompt import continuations

        prefix = build_prefix(suite, data, shots)
        bodies = [build_body(suite, it) for it in data.items]
        extra = continuations(suite) if suite.choices else ()
        hashes = [prompt_hash(prefix, b, extra) for b in bodies]
        keys = [key_fn(model_id, fingerprint, suite, data.name, it.id, h) for it, h in zip(data.items, hashes)]
        plan = _PlanView(suite, shots)
        return cls(ref, model_id, plan, data.name, prefix, data.items, bodies, hashes, keys)


@dataclass
class _PlanView:
    suite: Suite
    shots: int


def _registry() -> dict:
    from evalkit.tasks import choice

    return {"choice": choice.TASK}


TASKS = _registry()
