"""lm-eval results and ``--log_samples`` samples → evalkit item and metric rows.

Mapping (lm-eval 0.4.x):
- suite = ``lmeval-<group or task>``, subset = the task, suite_version = the task's version,
  suite_hash = lm-eval's task hash;
- one item per (task, doc_id) for the task's first filter (e.g. gsm8k's ``strict-match``);
  the other filters' values are kept in the metrics table;
- multiple choice: prediction = the choice with the highest log-likelihood, target = the gold
  choice, probs/logprobs over the choices; generation: output = the filtered answer;
- correct = the sample's first metric when it is a 0/1 metric (acc, acc_norm, exact_match, …),
  else NULL; score = that metric's value.
No imports of lm-eval here: importing results needs only the files.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

from evalkit.backends.secrets import redact_url
from evalkit.metrics import Z95, softmax
from evalkit.store import ItemRow

BINARY = {"acc", "acc_norm", "exact_match", "em", "acc_mutual_info", "mcc_binary"}
SECRET_ARG = re.compile(r"key|token|secret|passw|auth", re.IGNORECASE)


def suite_of(task: str, results: dict) -> str:
    """``lmeval-<top group>`` for a task inside a group, else ``lmeval-<task>``."""
    parents = {sub: group for group, subs in (results.get("group_subtasks") or {}).items() for sub in subs}
    root, seen = task, set()
    while root in parents and root not in seen:
        seen.add(root)
        root = parents[root]
    return f"lmeval-{root}"


def clean_model_args(args) -> str:
    """model_args without anything that looks like a credential; URLs redacted."""
    if isinstance(args, dict):
        pairs = list(args.items())
    else:
        pairs = [p.split("=", 1) if "=" in p else [p, ""] for p in str(args or "").split(",") if p]
    kept = []
    for key, value in pairs:
        if SECRET_ARG.search(str(key)):
            continue
        value = str(value)
        kept.append(f"{key}={redact_url(value) if '://' in value else value}")
    return ",".join(kept)


def _arguments(sample: dict) -> list[tuple]:
    args = sample.get("arguments") or []
    if isinstance(args, dict):  # {"gen_args_0": {"arg_0": ctx, "arg_1": cont}, ...}
        keys = sorted(args, key=lambda k: int(k.rsplit("_", 1)[-1]))
        return [tuple(args[k][a] for a in sorted(args[k], key=lambda a: int(a.rsplit("_", 1)[-1]))) for k in keys]
    return [tuple(a) for a in args]


def _loglik(resp) -> float:
    value = resp[0] if isinstance(resp, list | tuple) else resp
    return float(value)


def sample_row(sample: dict, task: str, meta: dict) -> ItemRow:
    """One evalkit row for one lm-eval sample. *meta*: model_id, fingerprint, suite, version, task_hash."""
    args = _arguments(sample)
    doc_id = sample.get("doc_id")
    names = sample.get("metrics") or []
    first = names[0] if names else None
    value = sample.get(first) if first else None
    score = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    correct = bool(score) if first in BINARY and score in (0.0, 1.0) else None
    p_hash = str(sample.get("prompt_hash") or sample.get("doc_hash") or "")[:32]
    raw_key = json.dumps([meta["model_id"], meta["fingerprint"], "lm-eval", task, meta["version"], doc_id, p_hash], sort_keys=True)
    base = dict(
        model_id=meta["model_id"], eval_key=hashlib.sha256(raw_key.encode()).hexdigest()[:32], suite=meta["suite"],
        suite_version=meta["version"], suite_hash=meta.get("task_hash"), subset=task, item_id=f"{task}/{doc_id}",
        prompt_hash=p_hash, score=score, correct=correct,
        details={"lm_eval": {"filter": sample.get("filter"), "metrics": {n: sample.get(n) for n in names}}},
    )  # fmt: skip
    extra = meta.get("stats", {}).get(args[0][0] if args and args[0] else None) or {}
    base |= {k: extra[k] for k in ("latency_ms", "prompt_tokens", "completion_tokens") if extra.get(k) is not None}
    if len(args) > 1 and all(len(a) == 2 and isinstance(a[1], str) for a in args):
        return ItemRow(**base, **_choice_fields(sample, args))
    return ItemRow(**base, **_generation_fields(sample))


def _choice_fields(sample: dict, args: list[tuple]) -> dict:
    choices = [a[1].strip() for a in args]
    resps = sample.get("filtered_resps") or [r[0] for r in sample.get("resps") or []]
    logprobs = [_loglik(r) for r in resps]
    best = max(range(len(logprobs)), key=lambda j: logprobs[j]) if logprobs else None
    target = sample.get("target")
    try:
        gold = choices[int(target)]
    except (TypeError, ValueError, IndexError):
        gold = str(target).strip() if target is not None else None
    finite = [x if math.isfinite(x) else -1e30 for x in logprobs]
    return {"prediction": choices[best] if best is not None else None, "target": gold, "choices": choices,
            "logprobs": logprobs, "probs": softmax(finite) if finite else None}  # fmt: skip


def _generation_fields(sample: dict) -> dict:
    resp = sample.get("filtered_resps")
    while isinstance(resp, list) and resp:
        resp = resp[0]
    target = sample.get("target")
    if isinstance(target, list):
        target = target[0] if target else None
    text = None if resp is None else str(resp)
    return {"prediction": text.strip() if text is not None else None, "target": None if target is None else str(target),
            "output": text}  # fmt: skip


def metric_rows(results: dict, task: str, suite: str, version: str) -> list[dict]:
    """Metric rows for one task from lm-eval's ``results[task]`` ("acc,none", "acc_stderr,none", …)."""
    block = (results.get("results") or {}).get(task) or {}
    n = ((results.get("n-samples") or {}).get(task) or {}).get("effective")
    rows = []
    for key, value in block.items():
        if "," not in key or "_stderr" in key or not isinstance(value, int | float):
            continue
        metric, flt = key.split(",", 1)
        stderr = block.get(f"{metric}_stderr,{flt}")
        half = Z95 * stderr if isinstance(stderr, int | float) else None
        rows.append({"suite": suite, "suite_version": version, "subset": task,
                     "metric": metric if flt == "none" else f"{metric}/{flt}", "value": float(value),
                     "ci_low": value - half if half is not None else None,
                     "ci_high": value + half if half is not None else None, "n": n, "flags": []})  # fmt: skip
    return rows


def first_filter_samples(samples: list[dict]) -> list[dict]:
    """Samples of the task's first filter only (one item per document)."""
    if not samples:
        return []
    first = samples[0].get("filter")
    return [s for s in samples if s.get("filter") == first]
