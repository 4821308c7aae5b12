"""Free-text generation scored by the suite's scorers (exact match, final number, label in a set...)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from evalkit.store import ItemRow
from evalkit.tasks.summary import details_of, summarize_rows
from evalkit.types import GenerateRequest

BATCH = 16  # rows per batch sent to the store (and requests per call to a backend without generate_iter)


class GenerateTask:
    """Evaluate pending items in batches (no storage here), and summarize stored rows into metrics."""

    kind = "generate"

    def key_extra(self, suite, item) -> tuple[str, ...]:
        """What besides the prompt makes a stored result reusable: generation parameters and the gold answer."""
        return (json.dumps(suite.params.model_dump(), sort_keys=True), item.target)

    def grammar(self, suite, item) -> str | None:
        from evalkit.grammar import grammar_for

        return grammar_for(suite, item)

    def request(self, job, i: int) -> GenerateRequest:
        """What the backend is asked for item *i*: its prompt, the suite's generation parameters, its grammar."""
        p = job.suite.params
        return GenerateRequest(job.prefix, job.bodies[i], p.max_tokens, tuple(p.stop), p.temperature, p.seed,
                               self.grammar(job.suite, job.items[i]))  # fmt: skip

    def evaluate(self, job, backend, indices: list[int]) -> Iterator[list[ItemRow]]:
        from evalkit.scorers import build_scorers

        scorers = build_scorers(job.suite)
        b = backend.get()
        if hasattr(b, "generate_iter"):  # the whole subset in one call, so the batch stays full; stored as items finish
            rows = []
            for k, res in b.generate_iter([self.request(job, i) for i in indices]):
                rows.append(self._row(job, indices[k], res, scorers))
                if len(rows) == BATCH:
                    yield rows
                    rows = []
            if rows:
                yield rows
            return
        for lo in range(0, len(indices), BATCH):
            idx = indices[lo : lo + BATCH]
            results = b.generate([self.request(job, i) for i in idx])
            yield [self._row(job, i, res, scorers) for i, res in zip(idx, results)]

    def summarize(self, job, stored: list[dict]) -> list[dict]:
        """Metric rows for one subset, headline first; flags mark output that measures nothing."""
        metrics = summarize_rows(job.suite, stored)
        cut = sum(1 for r in stored if details_of(r).get("truncated"))
        details = {**(metrics[0].get("details") or {}), "truncated": cut}  # answers cut off at max_tokens
        metrics[0] = {**metrics[0], "flags": generation_flags(stored), "details": details}
        return metrics

    @staticmethod
    def _row(job, i: int, res, scorers) -> ItemRow:
        item = job.items[i]
        p = job.suite.params
        details = {"input": job.bodies[i], "shots": job.plan.shots, "finish_reason": res.finish_reason, "truncated": res.finish_reason == "length",
                   "ttft_ms": res.ttft_ms, "max_tokens": p.max_tokens, "grammar": p.grammar, "meta": item.meta}  # fmt: skip
        base = dict(
            model_id=job.model_id, eval_key=job.keys[i], suite=job.suite.name, suite_version=job.suite.version,
            suite_hash=job.suite.content_hash, subset=job.subset, item_id=item.id, prompt_hash=job.hashes[i],
            target=item.target, prompt_tokens=res.prompt_tokens, completion_tokens=res.completion_tokens,
            latency_ms=res.latency_ms, output=res.text, details=details,
        )  # fmt: skip
        if res.error:
            return ItemRow(**base, prediction=None, correct=None, error=res.error)
        scores, first = {}, None
        for key, scorer in scorers:
            s = scorer.score(res.text, item)
            scores[key] = {"value": s.value, "correct": s.correct, "prediction": s.prediction, **s.details}
            first = first or s
        details["scores"] = scores
        return ItemRow(**base, prediction=first.prediction, correct=first.correct, score=first.value)


def generation_flags(stored: list[dict]) -> list[str]:
    """``empty_output``: every output empty; ``constant_prediction``: one answer for every item although
    the gold answers vary (10 items or more). How many answers hit the token limit is in the headline's details."""
    flags = []
    if stored and all(not (r.get("output") or "").strip() for r in stored):
        flags.append("empty_output")
    preds, golds = [r.get("prediction") for r in stored], [r.get("target") for r in stored]
    if len(preds) >= 10 and len(set(preds)) == 1 and len(set(golds)) > 1:
        flags.append("constant_prediction")
    return flags


TASK = GenerateTask()
