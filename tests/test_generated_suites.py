"""Built-in suites on generated items: seeds, stamps, grammar configurations and result keys (no model)."""

from __future__ import annotations

import json

from evalkit.models import ModelRef
from evalkit.runner import eval_key
from evalkit.sources import list_subsets, load_subsets
from evalkit.suite import load_suite
from evalkit.tasks import TASKS, SubsetJob
from evalkit.types import GenerateResult


def test_reasoning_seed_gives_fresh_items_and_is_recorded():
    suite = load_suite("reasoning")
    assert list_subsets(suite) == [f"steps_{n:02d}" for n in range(1, 13)]
    default = load_subsets(suite, ["steps_03"], None)["steps_03"]
    again = load_subsets(suite, ["steps_03"], None, seed=0)["steps_03"]
    fresh = load_subsets(suite, ["steps_03"], None, seed=7)["steps_03"]
    assert [it.fields for it in default.items] == [it.fields for it in again.items]  # deterministic
    assert {it.fields["question"] for it in default.items}.isdisjoint(it.fields["question"] for it in fresh.items[:20])
    item = fresh.items[0]
    assert item.id.startswith("steps_03/s7/") and item.meta["seed"] == 7
    assert item.meta["generator"] == "reasoning" and item.meta["generator_version"] and item.meta["steps"] == 3


def test_documents_items_carry_schema_and_gold():
    suite = load_suite("documents")
    data = load_subsets(suite, ["ctx_0"], None)["ctx_0"]
    item = data.items[0]
    gold = json.loads(item.target)
    assert set(gold) == set(item.fields["field_names"]) and item.fields["schema"]["required"]


class _Recorder:
    """A stand-in backend that records requests and echoes the gold answer (unit test of the task only)."""

    def __init__(self):
        self.requests = []

    def get(self):
        return self

    def generate(self, reqs):
        self.requests.extend(reqs)
        return [GenerateResult(text=self.answers.pop(0), prompt_tokens=10, completion_tokens=5, latency_ms=1.0) for _ in reqs]


def _job(name: str, subset: str, n: int = 2):
    suite = load_suite(name)
    data = load_subsets(suite, [subset], None)[subset]
    data.items = data.items[:n]
    ref = ModelRef(spec="x", name="x", path=None, source="test")
    return SubsetJob.build(ref, "model-sha", suite, data, 0, {"backend": "llamacpp"}, eval_key)


def test_grammar_variant_passes_a_schema_grammar_and_is_its_own_configuration():
    plain, constrained = _job("documents", "ctx_0"), _job("documents+grammar", "ctx_0")
    assert constrained.suite.name == "documents+grammar" and constrained.suite.params.grammar == "schema"
    assert set(plain.keys).isdisjoint(constrained.keys)  # never reuses unconstrained results
    backend = _Recorder()
    backend.answers = ["```json\n" + it.target + "\n```" for it in constrained.items]
    rows = [r for batch in TASKS["json"].evaluate(constrained, backend, [0, 1]) for r in batch]
    grammar = backend.requests[0].grammar
    assert grammar and "root ::=" in grammar and all(f'"\\"{k}\\""' in grammar for k in constrained.items[0].fields["field_names"])
    assert all(r.correct and r.score == 1.0 and r.details["grammar"] == "schema" for r in rows)
    assert rows[0].details["meta"]["seed"] == 0 and rows[0].details["scores"]["json_fields"]["valid_json"]
    backend = _Recorder()
    backend.answers = ["{}", "{}"]
    list(TASKS["json"].evaluate(plain, backend, [0, 1]))
    assert backend.requests[0].grammar is None


def test_reasoning_rows_keep_steps_for_charting():
    job = _job("reasoning", "steps_05")
    backend = _Recorder()
    backend.answers = [f"Step one... Answer: {job.items[0].target}", "I am not sure."]
    rows = [r for batch in TASKS["generate"].evaluate(job, backend, [0, 1]) for r in batch]
    assert [r.correct for r in rows] == [True, False]
    assert rows[0].details["meta"]["steps"] == 5 and len(rows[0].details["meta"]["ops"]) == 5
    assert backend.requests[0].max_tokens == job.suite.params.max_tokens
