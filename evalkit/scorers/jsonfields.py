"""Field-level scoring of a JSON answer against a gold JSON object (document extraction).

Nested objects are flattened to dotted paths; a list is compared as a multiset of its
normalized elements. Values match when their normalized text is equal (case, spacing,
surrounding punctuation ignored) or, where the gold is a number, when the answer's
number is equal ('$1,234.50' = 1234.5). Gold fields that are null are not expected.
Per item: true positives (answered and right), false positives (answered and wrong,
or answered though not expected), false negatives (expected and not answered right).
Keys outside the expected field names are ignored.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from evalkit.scorers import Score
from evalkit.scorers.text import extract_json, normalize_text, parse_number


def flatten(obj, prefix: str = "") -> dict:
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    out[prefix[:-1]] = obj
    return out


def _norm(value):
    if isinstance(value, list):
        return sorted(json.dumps(_norm(v), sort_keys=True) for v in value)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in sorted(value.items())}
    if isinstance(value, bool) or value is None:
        return value
    return normalize_text(value)


def values_equal(gold, pred) -> bool:
    if pred is None:
        return False
    if isinstance(gold, bool):
        return pred is gold or (isinstance(pred, str) and normalize_text(pred) in (("true", "yes") if gold else ("false", "no")))
    g, p = parse_number(gold), parse_number(pred)
    if g is not None and p is not None:
        return abs(g - p) <= 1e-6 * max(1.0, abs(g))
    if isinstance(gold, list) != isinstance(pred, list):
        return False
    return _norm(gold) == _norm(pred)


class JsonFields:
    """Field precision / recall / F1, exact document match and valid-JSON rate."""

    class Args(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        fields_field: str = "field_names"  # item field listing the expected keys, if any

    metrics = ("field_f1", "accuracy", "valid_json", "field_precision", "field_recall")

    def __init__(self, suite, args: Args):
        self.args = args

    def score(self, output: str, item) -> Score:
        try:
            gold = flatten(json.loads(item.target))
        except ValueError:
            gold = {}
        obj, info = extract_json(output or "", want="object")
        pred = flatten(obj) if isinstance(obj, dict) else {}
        names = item.fields.get(self.args.fields_field)
        allowed = set(gold) | ({str(n) for n in names} if isinstance(names, list) else set())
        expected = {k for k, v in gold.items() if v is not None}
        answered = {k for k, v in pred.items() if k in allowed and v not in (None, "", [])}
        right = {k for k in answered & expected if values_equal(gold[k], pred[k])}
        tp, fp, fn = len(right), len(answered - right), len(expected - right)
        f1 = 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
        ok = obj is not None and fp == 0 and fn == 0
        wrong = sorted(answered - right)
        details = {"tp": tp, "fp": fp, "fn": fn, "wrong": wrong[:20], "missing": sorted(expected - answered)[:20],
                   "parsed": obj is not None, **info}  # fmt: skip
        shown = json.dumps(obj, sort_keys=True, ensure_ascii=False) if obj is not None else None
        return Score(f1, ok, shown, details)
