"""Named-entity extraction scored as in the CoNLL evaluation (conlleval).

Gold entities are the chunks of the IOB tags: a chunk starts at ``B-X``, or at ``I-X``
after a different type or ``O`` (conlleval's rule, so IOB1 and IOB2 both work). The model
answers with JSON, ``{"TYPE": ["entity text", ...]}`` or ``[{"text": ..., "type": ...}]``;
each predicted mention is placed on the first unused token span of the sentence whose
text equals it (spaces ignored). A predicted entity is correct only if its type and its
exact span match a gold one. Precision, recall and F1 are micro-averaged over entities.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict

from evalkit.scorers import Score
from evalkit.scorers.text import extract_json

Span = tuple[str, int, int]  # (type, start token, end token exclusive)

ALIASES = {
    "per": "PER", "person": "PER", "people": "PER", "persons": "PER",
    "org": "ORG", "organization": "ORG", "organisation": "ORG", "organizations": "ORG",
    "loc": "LOC", "location": "LOC", "locations": "LOC", "place": "LOC",
    "misc": "MISC", "miscellaneous": "MISC", "other": "MISC",
}  # fmt: skip


def spans_from_tags(tags: list[str]) -> list[Span]:
    """Entity chunks of an IOB tag sequence, conlleval's way."""
    spans: list[Span] = []
    start, kind = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, t = tag.partition("-") if tag != "O" else ("O", "", "")
        begins = prefix == "B" or (prefix == "I" and t != kind)
        if start is not None and (prefix == "O" or begins):
            spans.append((kind, start, i))
            start, kind = None, None
        if begins:
            start, kind = i, t
    return spans


def entities_json(tokens: list[str], tags: list[str]) -> str:
    """The gold answer as the model is asked to write it: {"TYPE": ["text", ...]} in order of types."""
    out: dict[str, list[str]] = {}
    for kind, a, b in spans_from_tags(tags):
        out.setdefault(kind, []).append(" ".join(tokens[a:b]))
    return json.dumps(dict(sorted(out.items())), ensure_ascii=False)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).casefold()


def _mentions(obj) -> list[tuple[str, str]]:
    """(type, text) pairs from the shapes small models use."""
    pairs: list[tuple[str, str]] = []
    if isinstance(obj, dict):
        if "entities" in obj and isinstance(obj["entities"], list | dict) and len(obj) == 1:
            return _mentions(obj["entities"])
        for kind, values in obj.items():
            for v in values if isinstance(values, list) else [values]:
                if isinstance(v, str | int | float) and str(v).strip():
                    pairs.append((str(kind), str(v)))
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict):
                text = next((v[k] for k in ("text", "entity", "name", "span", "value") if k in v), None)
                kind = next((v[k] for k in ("type", "label", "category", "entity_type", "tag") if k in v), None)
                if text is not None and kind is not None:
                    pairs.append((str(kind), str(text)))
            elif isinstance(v, list | tuple) and len(v) == 2:
                pairs.append((str(v[1]), str(v[0])))
    return pairs


class EntityF1:
    """Entity-level precision / recall / F1 (conlleval) of a JSON answer against the IOB tags."""

    class Args(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        tokens_field: str = "tokens"
        tags_field: str = "tags"
        types: dict[str, list[str]] = {}  # canonical type → extra aliases

    metrics = ("entity_f1", "entity_precision", "entity_recall", "valid_json", "accuracy")

    def __init__(self, suite, args: Args):
        self.args = args
        self.aliases = {k: v for k, v in ALIASES.items()}
        for canon, extra in args.types.items():
            for name in [canon, *extra]:
                self.aliases[self._key(name)] = canon

    @staticmethod
    def _key(kind: str) -> str:
        return re.sub(r"[\s_\-]+", "", kind.casefold())

    def canonical(self, kind: str, known: set[str]) -> str:
        k = self._key(kind)
        for t in known:
            if self._key(t) == k:
                return t
        return self.aliases.get(k, kind)

    @staticmethod
    def place(tokens: list[str], text: str, taken: set[tuple[int, int]]) -> tuple[int, int] | None:
        """The first unused token span whose text (spaces ignored) equals *text*."""
        want = _squash(text)
        if not want:
            return None
        for a in range(len(tokens)):
            acc = ""
            for b in range(a, len(tokens)):
                acc += _squash(tokens[b])
                if acc == want and (a, b + 1) not in taken:
                    return (a, b + 1)
                if not want.startswith(acc):
                    break
        return None

    def score(self, output: str, item) -> Score:
        tokens = list(item.fields[self.args.tokens_field])
        gold = set(spans_from_tags(list(item.fields[self.args.tags_field])))
        known = {k for k, _, _ in gold} | set(self.args.types)
        obj, info = extract_json(output or "")
        predicted: set[Span] = set()
        unplaced = 0
        taken: dict[str, set] = {}
        for kind, text in _mentions(obj):
            kind = self.canonical(kind, known)
            span = self.place(tokens, text, taken.setdefault(kind, set()))
            if span is None:
                unplaced += 0 if any(_squash(text) == _squash(" ".join(tokens[a:b])) for k, a, b in predicted if k == kind) else 1
                continue
            taken[kind].add(span)
            predicted.add((kind, *span))
        tp = len(predicted & gold)
        n_pred, n_gold = len(predicted) + unplaced, len(gold)
        f1 = 1.0 if n_pred == n_gold == 0 else 2 * tp / (n_pred + n_gold)
        per_type = {}
        for k in sorted({s[0] for s in gold | predicted}):
            per_type[k] = [len({s for s in predicted & gold if s[0] == k}), len({s for s in predicted if s[0] == k}),
                           len({s for s in gold if s[0] == k})]  # fmt: skip
        pred_json = json.dumps(sorted([k, " ".join(tokens[a:b])] for k, a, b in predicted), ensure_ascii=False)
        details = {"tp": tp, "n_pred": n_pred, "n_gold": n_gold, "unplaced": unplaced, "per_type": per_type,
                   "parsed": obj is not None, **info}  # fmt: skip
        return Score(f1, tp == n_pred == n_gold, pred_json, details)
