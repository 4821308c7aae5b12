"""Multiple choice scored by the log-likelihood of each choice's continuation (e.g. " A" .. " D", " Sports").

Multi-token labels are scored by the sum of their tokens' log-probabilities. With
``choices.normalize = "chars"`` the decision uses the sum divided by the continuation's
length in bytes (lm-evaluation-harness's acc_norm); both decisions are kept in ``details``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from evalkit.metrics import degenerate_flags, softmax
from evalkit.store import ItemRow
from evalkit.tasks.summary import summarize_rows
from evalkit.types import ChoiceRequest

BATCH = 16


class ChoiceTask:
    """Evaluate pending items in batches (no storage here), and summarize stored rows into metrics."""

    kind = "choice"

    def key_extra(self, suite, item) -> tuple[str, ...]:
        from evalkit.prompt import continuations

        extra = continuations(suite)
        return extra if suite.choices.normalize == "none" else (*extra, f"normalize={suite.choices.normalize}")

    def evaluate(self, job, backend, indices: list[int]) -> Iterator[list[ItemRow]]:
        from evalkit.prompt import continuations

        labels = list(job.suite.choices.labels)
        conts = continuations(job.suite)
        for lo in range(0, len(indices), BATCH):
            idx = indices[lo : lo + BATCH]
            reqs = [ChoiceRequest(job.prefix, job.bodies[i], conts) for i in idx]
            results = backend.get().score_choices(reqs)
            yield [self._row(job, i, res, labels, conts) for i, res in zip(idx, results)]

    def summarize(self, job, stored: list[dict]) -> list[dict]:
        """Metric rows for one subset; the first is the headline metric. Flags mark degenerate probabilities."""
        metrics = summarize_rows(job.suite, stored)
        flags = degenerate_flags([r["probs"] for r in stored], [r["prediction"] for r in stored], [r["target"] for r in stored])
        metrics[0] = {**metrics[0], "flags": flags}
        return metrics

    @staticmethod
    def _row(job, i: int, res, labels: list[str], conts: tuple[str, ...]) -> ItemRow:
        item = job.items[i]
        mode = job.suite.choices.normalize
        base = dict(
            model_id=job.model_id, eval_key=job.keys[i], suite=job.suite.name, suite_version=job.suite.version,
            suite_hash=job.suite.content_hash, subset=job.subset, item_id=item.id, prompt_hash=job.hashes[i],
            target=item.target, choices=labels, prompt_tokens=res.prompt_tokens, latency_ms=res.latency_ms,
            completion_tokens=res.completion_tokens, output=res.output,
            details={"input": job.bodies[i], "new_tokens": res.new_tokens, "shots": job.plan.shots, "normalize": mode,
                     **res.details},
        )  # fmt: skip
        if res.error:
            return ItemRow(**base, prediction=None, correct=None, error=res.error)
        if not res.logprobs:  # a choice picked without log-likelihoods (parsed letter), or none found
            idx = res.choice_index
            pred = labels[idx] if idx is not None else None
            probs = [float(j == idx) for j in range(len(labels))] if pred else []
            return ItemRow(**base, prediction=pred, correct=pred == item.target, score=float(pred == item.target),
                           probs=probs)  # fmt: skip
        per_char = [lp / max(1, len(c.encode("utf-8"))) for lp, c in zip(res.logprobs, conts)]
        decide = per_char if mode == "chars" else list(res.logprobs)
        best = max(range(len(labels)), key=lambda j: decide[j])
        pred = labels[best] if not math.isnan(decide[best]) else None
        if len({len(c) for c in conts}) > 1:  # both decisions, to compare them from one run
            base["details"]["pred_sum"] = labels[max(range(len(labels)), key=lambda j: res.logprobs[j])]
            base["details"]["pred_chars"] = labels[max(range(len(labels)), key=lambda j: per_char[j])]
        return ItemRow(**base, prediction=pred, correct=pred == item.target, score=float(pred == item.target),
                       probs=softmax(decide), logprobs=res.logprobs)  # fmt: skip


TASK = ChoiceTask()
