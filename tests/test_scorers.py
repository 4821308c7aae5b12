"""Scorers on the outputs small models really emit, with hand-computed expected scores."""

from __future__ import annotations

import json

import pytest

from evalkit.scorers import build_scorers
from evalkit.scorers.entities import entities_json, spans_from_tags
from evalkit.scorers.text import extract_json, final_number
from evalkit.suite import Suite
from evalkit.types import Item


def _suite(kind: str, scorer: str, labels=None, args=None) -> Suite:
    data = {
        "suite": {"name": "t", "version": "1", "kind": kind},
        "source": {"type": "jsonl", "local": "x.jsonl"},
        "prompt": {"template": "{{ question }}"},
        "scorers": [{"name": scorer, "args": args or {}}],
    }
    if labels:
        data["choices"] = {"labels": labels}
    return Suite.model_validate(data)


def _score(suite: Suite, output: str, item: Item):
    return build_scorers(suite)[0][1].score(output, item)


# -- numeric final answer (GSM8K) ----------------------------------------------------------------

NUMERIC = _suite("generate", "numeric")
GOLD = Item("1", "default", {}, "1234")


@pytest.mark.parametrize(
    "output, expected",
    [
        ("She pays 1000 + 234 = 1234 dollars.\n#### 1234", True),  # GSM8K marker
        ("The total is 1,234.", True),  # thousands separator + trailing period
        ("So the answer is $1,234.00", True),  # currency and decimals
        ("1234 dollars", True),  # unit
        ("**Answer:** 1234", True),  # markdown around the marker
        ("First 12 + 34 = 46. The answer is 1234. Then 5 more.", True),  # explicit marker wins over the last number
        ("It is 1233.", False),
        ("", False),  # empty output
        ("I don't know.", False),
        ("The answer is 1234.\nQuestion: Tom has 7 apples... #### 7", True),  # runaway into the next question
        ("#### 1234\n\n\n" + "and 99 " * 200, True),  # runaway repetition after the answer
    ],
)
def test_numeric_extraction(output, expected):
    s = _score(NUMERIC, output, GOLD)
    assert s.correct is expected and s.value == float(expected)


def test_numeric_reads_gsm8k_style_gold_and_negative_numbers():
    assert _score(NUMERIC, "Answer: 2125", Item("1", "d", {}, "Some steps\n#### 2,125")).correct
    assert _score(NUMERIC, "it drops to -3 degrees", Item("1", "d", {}, "-3")).correct
    assert final_number("no numbers here") == (None, "none")
    assert final_number("5 - 3 = 2 apples")[0] == 2.0  # a minus between numbers is not a sign


# -- exact match and labels ------------------------------------------------------------------------


def test_exact_match_ignores_wrapping():
    s = _suite("generate", "exact_match")
    item = Item("1", "d", {}, "Paris")
    for out in ("Paris", " paris.", "Answer: Paris", '"Paris"', "**Paris**\nIt is the capital.", "```\nParis\n```"):
        assert _score(s, out, item).correct, out
    for out in ("", "Lyon", "The capital is Paris"):
        assert not _score(s, out, item).correct, out


LABELS = _suite("generate", "label_match", labels=["card_arrival", "card", "lost_or_stolen_card", "Sci/Tech"])


@pytest.mark.parametrize(
    "output, gold, expected_pred",
    [
        ("card_arrival", "card_arrival", "card_arrival"),
        (" Card arrival.", "card_arrival", "card_arrival"),  # case, spaces for underscores, period
        ("Intent: card arrival\nBecause the user asks where the card is.", "card_arrival", "card_arrival"),
        ("I think this is about a lost or stolen card, not card arrival.", "lost_or_stolen_card", "lost_or_stolen_card"),
        ("sci-tech", "Sci/Tech", "Sci/Tech"),
        ("card", "card_arrival", "card"),  # a shorter label is still a different label
        ("", "card_arrival", None),
        ("weather", "card_arrival", None),
    ],
)
def test_label_match(output, gold, expected_pred):
    s = _score(LABELS, output, Item("1", "d", {}, gold))
    assert s.prediction == expected_pred
    assert s.correct is (expected_pred == gold)


# -- JSON extraction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "output, value, valid",
    [
        ('{"a": 1}', {"a": 1}, True),
        ('Sure! Here is the JSON:\n```json\n{"a": 1}\n```\nLet me know.', {"a": 1}, True),  # prose + fences
        ('{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}, False),  # trailing commas
        ("{'a': 'O\\'Neil', 'b': None, 'c': true}", {"a": "O'Neil", "b": None, "c": True}, False),  # single quotes
        ('{"a": "x", "b": "unfinished', {"a": "x", "b": "unfinished"}, False),  # cut off by the token limit
        ('{"a": 1, "b":', {"a": 1}, False),  # cut off after a key
        ("", None, False),
        ("no json at all", None, False),
    ],
)
def test_extract_json(output, value, valid):
    got, info = extract_json(output)
    assert got == value
    assert info["valid_json"] is valid


def test_json_fields_scores_by_field():
    s = _suite("json", "json_fields")
    gold = {"invoice_number": "INV-0042", "total": 1234.5, "currency": "EUR", "due": None, "items": ["a", "b"]}
    item = Item("1", "d", {"field_names": list(gold)}, json.dumps(gold))
    perfect = _score(s, "```json\n" + json.dumps({**gold, "total": "€1,234.50", "items": ["b", "a"]}) + "\n```", item)
    assert perfect.correct and perfect.value == 1.0
    # 3 right (number, currency case-insensitive, items), 1 wrong (invoice number), 1 missing... none; 1 extra (due)
    out = "{'invoice_number': 'INV-0043', 'total': 1234.50, 'currency': 'eur', 'items': ['a', 'b'], 'due': '2024-01-01', 'note': 'x',}"
    sc = _score(s, out, item)
    d = sc.details
    assert (d["tp"], d["fp"], d["fn"]) == (3, 2, 1)  # wrong invoice number counts as fp and fn; 'due' not expected: fp
    assert sc.value == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert not sc.correct and d["valid_json"] is False and d["repaired"] is True
    empty = _score(s, "", item)
    assert (empty.details["tp"], empty.details["fp"], empty.details["fn"]) == (0, 0, 4) and empty.value == 0.0
    assert empty.details["valid_json"] is False


# -- entities (CoNLL evaluation) ---------------------------------------------------------------------

TOKENS = "U.N. official Ekeus heads for Baghdad and New York .".split()
TAGS = ["B-ORG", "O", "B-PER", "O", "O", "B-LOC", "O", "B-LOC", "I-LOC", "O"]


def test_spans_follow_conlleval():
    assert spans_from_tags(TAGS) == [("ORG", 0, 1), ("PER", 2, 3), ("LOC", 5, 6), ("LOC", 7, 9)]
    # conlleval: I- after O or after another type starts a chunk (IOB1 input)
    assert spans_from_tags(["I-PER", "I-PER", "I-LOC", "O", "I-LOC"]) == [("PER", 0, 2), ("LOC", 2, 3), ("LOC", 4, 5)]
    assert spans_from_tags(["B-PER", "B-PER"]) == [("PER", 0, 1), ("PER", 1, 2)]
    assert json.loads(entities_json(TOKENS, TAGS)) == {"LOC": ["Baghdad", "New York"], "ORG": ["U.N."], "PER": ["Ekeus"]}


ENT = _suite("json", "entity_f1", args={"types": {"PER": ["person"], "ORG": [], "LOC": ["location"], "MISC": []}})
SENT = Item("1", "d", {"tokens": TOKENS, "tags": TAGS}, "")


@pytest.mark.parametrize(
    "output, tp, n_pred, n_gold",
    [
        ('{"ORG": ["U.N."], "PER": ["Ekeus"], "LOC": ["Baghdad", "New York"]}', 4, 4, 4),
        # wrong type for Ekeus, partial span "New" (no such span of its own... it is a token: wrong span), extra MISC
        ('{"ORG": ["U.N."], "LOC": ["Ekeus", "Baghdad", "New"], "MISC": ["official"]}', 2, 5, 4),
        # list-of-objects shape, type aliases, markdown fence, trailing comma
        ('```json\n[{"text": "Ekeus", "type": "person"}, {"text": "New York", "type": "location"},]\n```', 2, 2, 4),
        # an entity that is not in the sentence counts as a false positive
        ('{"PER": ["Rolf Ekeus"]}', 0, 1, 4),
        ("", 0, 0, 4),  # empty output: recall 0
        ('{"LOC": ["Baghdad", "Baghdad"]}', 1, 1, 4),  # a repeated mention is one prediction
    ],
)
def test_entity_counts(output, tp, n_pred, n_gold):
    s = _score(ENT, output, SENT)
    assert (s.details["tp"], s.details["n_pred"], s.details["n_gold"]) == (tp, n_pred, n_gold)
    expected_f1 = 2 * tp / (n_pred + n_gold)
    assert s.value == pytest.approx(expected_f1)


def test_entity_f1_micro_average_matches_hand_computation():
    from evalkit.tasks.summary import summarize_rows

    outputs = [
        '{"ORG": ["U.N."], "PER": ["Ekeus"], "LOC": ["Baghdad", "New York"]}',  # 4/4/4
        '{"ORG": ["U.N."], "LOC": ["Ekeus", "Baghdad", "New"], "MISC": ["official"]}',  # 2/5/4
        "",  # 0/0/4
    ]
    rows = []
    for out in outputs:
        s = _score(ENT, out, SENT)
        rows.append({"correct": s.correct, "score": s.value, "prediction": s.prediction, "target": "",
                     "details": json.dumps({"scores": {"entity_f1": {"valid_json": s.details["valid_json"], **s.details}}})})  # fmt: skip
    metrics = {m["metric"]: m for m in summarize_rows(ENT, rows)}
    # tp = 6, predicted = 9, gold = 12: P = 6/9, R = 6/12, F1 = 2*6/21
    assert metrics["entity_precision"]["value"] == pytest.approx(6 / 9)
    assert metrics["entity_recall"]["value"] == pytest.approx(0.5)
    assert metrics["entity_f1"]["value"] == pytest.approx(12 / 21)
    assert metrics["entity_f1"]["ci_low"] <= 12 / 21 <= metrics["entity_f1"]["ci_high"]
    assert metrics["valid_json"]["value"] == pytest.approx(2 / 3)
    assert metrics["accuracy"]["value"] == pytest.approx(1 / 3)


def test_macro_f1_and_confusion():
    from evalkit.tasks.summary import summarize_rows

    suite = Suite.model_validate({
        "suite": {"name": "c", "version": "1", "kind": "choice", "metrics": ["accuracy", "macro_f1"]},
        "source": {"type": "jsonl", "local": "x.jsonl"}, "prompt": {"template": "x"},
        "choices": {"labels": ["a", "b", "c"]},
    })  # fmt: skip
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("c", None)]
    rows = [{"target": g, "prediction": p, "correct": g == p, "score": None, "details": "{}"} for g, p in pairs]
    acc, mf1 = summarize_rows(suite, rows)
    assert acc["value"] == 0.5
    # F1: a = 2*1/(1+2) = 2/3, b = 2*1/(2+1) = 2/3, c = 0 → mean 4/9
    assert mf1["value"] == pytest.approx(4 / 9)
    assert sorted(mf1["confusion"]) == [["a", "a", 1], ["a", "b", 1], ["b", "b", 1], ["c", "<none>", 1]]


def test_entity_f1_metric_details_per_type():
    from evalkit.tasks.summary import summarize_rows

    s = _score(ENT, '{"ORG": ["U.N."], "LOC": ["Ekeus", "Baghdad"]}', SENT)
    row = {"correct": s.correct, "score": s.value, "prediction": s.prediction, "target": "",
           "details": json.dumps({"scores": {"entity_f1": s.details}})}  # fmt: skip
    f1 = summarize_rows(ENT, [row])[0]
    # LOC: Baghdad right, Ekeus wrong type, New York missed → tp 1, predicted 2, gold 2
    assert f1["details"]["per_type"]["LOC"] == [1, 2, 2, 0.5]
    assert f1["details"]["per_type"]["PER"] == [0, 0, 1, 0.0] and f1["details"]["per_type"]["ORG"] == [1, 1, 1, 1.0]
