"""Multiple choice scored by the log-likelihood of each choice's continuation (e.g. " A" .. " D")."""

from __future__ import annotations

import math

from evalkit.metrics import accuracy_row, degenerate_flags, softmax
from evalkit.store import ItemRow
from evalkit.types import ChoiceRequest

BATCH = 16


class ChoiceTask:
    def evaluate(self, job, backend, store, run_id: str, progress):
        from evalkit.prompt import continuations
        from evalkit.runner import SummaryRow

        suite = job.suite
        labels = list(suite.choices.labels)
        conts = continuations(suite)
        pending = set(job.pending)
        todo = [i for i, k in enumerate(job.keys) if k in pending]
        errors = 0
        for lo in range(0, len(todo), BATCH):
            idx = todo[lo : lo + BATCH]
            reqs = [ChoiceRequest(job.prefix, job.bodies[i], conts) for i in idx]
            results = backend.get().score_choices(reqs)
            rows = []
            for i, res in zip(idx, results):
                rows.append(self._row(job, i, res, labels))
                errors += res.error is not None
            store.add_items(run_id, rows)
            progress("advance", len(idx))
        stored = store.latest_items(job.keys)
        acc = accuracy_row([bool(r["correct"]) for r in stored])
        flags = degenerate_flags([r["probs"] for r in stored], [r["prediction"] for r in stored], [r["target"] for r in stored])
        store.add_metrics(run_id, job.model_id, [{**acc, "suite": suite.name, "suite_version": suite.version,
                                                   "subset": job.subset, "flags": flags}])  # fmt: skip
        return SummaryRow(job.model.name, suite.name, job.subset, acc["n"], acc["value"], acc["ci_low"], acc["ci_high"],
                          new=len(todo), reused=len(job.keys) - len(todo), errors=errors, flags=flags)  # fmt: skip

    @staticmethod
    def _row(job, i: int, res, labels: list[str]) -> ItemRow:
        item = job.items[i]
        base = dict(
            model_id=job.model_id, eval_key=job.keys[i], suite=job.suite.name, suite_version=job.suite.version,
            suite_hash=job.suite.content_hash, subset=job.subset, item_id=item.id, prompt_hash=job.hashes[i],
            target=item.target, choices=labels, prompt_tokens=res.prompt_tokens, latency_ms=res.latency_ms,
            details={"new_tokens": res.new_tokens, "shots": job.plan.shots},
        )  # fmt: skip
        if res.error:
            return ItemRow(**base, prediction=None, correct=None, error=res.error)
        probs = softmax(res.logprobs)
        best = max(range(len(labels)), key=lambda j: res.logprobs[j])
        pred = labels[best] if not math.isnan(res.logprobs[best]) else None
        return ItemRow(**base, prediction=pred, correct=pred == item.target, score=float(pred == item.target),
                       probs=probs, logprobs=res.logprobs)  # fmt: skip


TASK = ChoiceTask()
