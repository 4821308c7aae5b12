"""Multiple choice scored by the log-likelihood of each choice's continuation (e.g. " A" .. " D")."""

from __future__ import annotations

import math
from collections.abc import Iterator

from evalkit.metrics import accuracy_row, degenerate_flags, softmax
from evalkit.store import ItemRow
from evalkit.types import ChoiceRequest

BATCH = 16


class ChoiceTask:
    """Evaluate pending items in batches (no storage here), and summarize stored rows into metrics."""

    def evaluate(self, job, backend, indices: list[int]) -> Iterator[list[ItemRow]]:
        from evalkit.prompt import continuations

        labels = list(job.suite.choices.labels)
        conts = continuations(job.suite)
        for lo in range(0, len(indices), BATCH):
            idx = indices[lo : lo + BATCH]
            reqs = [ChoiceRequest(job.prefix, job.bodies[i], conts) for i in idx]
            results = backend.get().score_choices(reqs)
            yield [self._row(job, i, res, labels) for i, res in zip(idx, results)]

    def summarize(self, job, stored: list[dict]) -> list[dict]:
        """Metric rows for one subset; the first is the headline metric. Flags mark degenerate probabilities."""
        acc = accuracy_row([bool(r["correct"]) for r in stored])
        flags = degenerate_flags([r["probs"] for r in stored], [r["prediction"] for r in stored], [r["target"] for r in stored])
        return [{**acc, "flags": flags}]

    @staticmethod
    def _row(job, i: int, res, labels: list[str]) -> ItemRow:
        item = job.items[i]
        base = dict(
            model_id=job.model_id, eval_key=job.keys[i], suite=job.suite.name, suite_version=job.suite.version,
            suite_hash=job.suite.content_hash, subset=job.subset, item_id=item.id, prompt_hash=job.hashes[i],
            target=item.target, choices=labels, prompt_tokens=res.prompt_tokens, latency_ms=res.latency_ms,
            completion_tokens=res.completion_tokens, output=res.output,
            details={"new_tokens": res.new_tokens, "shots": job.plan.shots, **res.details},
        )  # fmt: skip
        if res.error:
            return ItemRow(**base, prediction=None, correct=None, error=res.error)
        if not res.logprobs:  # a choice picked without log-likelihoods (parsed letter), or none found
            idx = res.choice_index
            pred = labels[idx] if idx is not None else None
            probs = [float(j == idx) for j in range(len(labels))] if pred else []
            return ItemRow(**base, prediction=pred, correct=pred == item.target, score=float(pred == item.target),
                           probs=probs)  # fmt: skip
        probs = softmax(res.logprobs)
        best = max(range(len(labels)), key=lambda j: res.logprobs[j])
        pred = labels[best] if not math.isnan(res.logprobs[best]) else None
        return ItemRow(**base, prediction=pred, correct=pred == item.target, score=float(pred == item.target),
                       probs=probs, logprobs=res.logprobs)  # fmt: skip


TASK = ChoiceTask()
