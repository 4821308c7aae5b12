"""The hand-written support_intents classification data: format, balance, labels, no duplicates."""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "suites" / "data"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = (DATA / "support_intents.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def labels() -> list[str]:
    return json.loads((DATA / "support_intents.labels.json").read_text(encoding="utf-8"))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def test_rows_have_the_documented_format(rows, labels):
    assert len(rows) >= 300
    for row in rows:
        assert set(row) == {"id", "text", "label", "split"}, row
        assert row["label"] in labels and row["split"] in ("train", "test"), row
        assert row["text"] == row["text"].strip() and 2 <= len(row["text"]) <= 400, row
    assert len({r["id"] for r in rows}) == len(rows)


def test_label_file_lists_each_used_label_once(rows, labels):
    assert 8 <= len(labels) <= 10 and len(set(labels)) == len(labels)
    assert set(labels) == {r["label"] for r in rows}


def test_labels_are_balanced(rows, labels):
    counts = Counter(r["label"] for r in rows)
    mean = len(rows) / len(labels)
    assert all(0.8 * mean <= counts[lab] <= 1.2 * mean for lab in labels), counts


def test_few_shot_pool_covers_every_label_and_stays_small(rows, labels):
    train = [r for r in rows if r["split"] == "train"]
    assert 10 <= len(train) <= 40
    assert {r["label"] for r in train} == set(labels)


def test_no_duplicate_or_near_duplicate_texts(rows):
    normalised = [" ".join(r["text"].lower().split()) for r in rows]
    assert len(set(normalised)) == len(rows)
    words = [(r["id"], _words(r["text"])) for r in rows]
    close = [(a, b) for (a, wa), (b, wb) in combinations(words, 2) if len(wa & wb) / len(wa | wb) > 0.5]
    assert not close, close


def test_texts_vary_in_length_and_style(rows):
    lengths = sorted(len(r["text"]) for r in rows)
    assert lengths[0] < 40 and lengths[-1] > 150
    assert sum(r["text"] == r["text"].lower() for r in rows) >= 15  # all-lower-case messages
    assert sum("?" in r["text"] for r in rows) >= 60 and sum("?" not in r["text"] for r in rows) >= 60


def test_label_guide_defines_every_label(labels):
    guide = (DATA / "support_intents.md").read_text(encoding="utf-8")
    for lab in labels:
        assert f"### {lab}\n" in guide, lab
    assert "Licence" in guide and "How it was made" in guide
