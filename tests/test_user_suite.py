"""A suite written by a user (their JSONL + a short TOML in their own folder) runs with no code change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

QUIZ = [
    {"question": "What is the capital of France?", "options": ["Berlin", "Paris", "Rome", "Madrid"], "answer": "B"},
    {"question": "How many legs does a spider have?", "options": ["Six", "Four", "Eight", "Ten"], "answer": "C"},
    {"question": "Which planet is closest to the Sun?", "options": ["Mercury", "Venus", "Earth", "Mars"], "answer": "A"},
    {"question": "What colour is the sky on a clear day?", "options": ["Green", "Red", "Yellow", "Blue"], "answer": "D"},
]

QUIZ_TOML = """
[suite]
name = "my_quiz"
version = "1"
description = "A user's own multiple-choice quiz."
kind = "choice"

[source]
type = "jsonl"
local = "quiz.jsonl"

[fields]
question = "question"
choices = "options"
target = "answer"

[prompt]
template = "{{ question }}\\n{% for c in choices %}{{ 'ABCD'[loop.index0] }}. {{ c }}\\n{% endfor %}Answer:"

[choices]
labels = ["A", "B", "C", "D"]
"""

REVIEWS = [
    ("I loved every minute of it, wonderful!", "positive"),
    ("Terrible service and cold food.", "negative"),
    ("Absolutely fantastic, would buy again.", "positive"),
    ("It broke after one day. Awful.", "negative"),
]

REVIEWS_TOML = """
[suite]
name = "my_reviews"
version = "1"
kind = "generate"
metrics = ["accuracy", "macro_f1"]

[source]
type = "csv"
local = "reviews.csv"

[prompt]
header = "Say whether each review is positive or negative.\\n\\n"
template = "Review: {{ text }}\\nSentiment:"

[choices]
labels = ["positive", "negative"]

[params]
max_tokens = 8
stop = ["\\n"]

[[scorers]]
name = "label_match"
"""


@pytest.mark.model
def test_user_suites_run_from_their_own_folder(tmp_path):
    folder = tmp_path / "my_suites"
    folder.mkdir()
    (folder / "quiz.jsonl").write_text("".join(json.dumps(r) + "\n" for r in QUIZ))
    (folder / "quiz.toml").write_text(QUIZ_TOML)
    (folder / "reviews.csv").write_text("text,target\n" + "".join(f'"{t}",{lab}\n' for t, lab in REVIEWS))
    (folder / "reviews.toml").write_text(REVIEWS_TOML)
    db = tmp_path / "results.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "run", "-m", "smollm2-135m", "--suite", str(folder / "quiz.toml"),
         "--suite", str(folder / "reviews.toml"), "--limit", "3", "--db", str(db)],
        capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(db), read_only=True)
    items = con.execute("SELECT suite, item_id, prediction, target, suite_hash FROM items ORDER BY suite, item_id").fetchall()
    assert [(s, i) for s, i, *_ in items] == [("my_quiz", f"test/{k}") for k in range(3)] + [
        ("my_reviews", f"test/{k}") for k in range(3)]  # fmt: skip
    assert all(t in "ABCD" for s, _, _, t, _ in items if s == "my_quiz")
    assert all(p in (None, "positive", "negative") for s, _, p, _, _ in items if s == "my_reviews")
    assert all(h for *_, h in items)
    metrics = {(s, m) for s, m in con.execute("SELECT suite, metric FROM metrics").fetchall()}
    assert {("my_quiz", "accuracy"), ("my_reviews", "accuracy"), ("my_reviews", "macro_f1")} <= metrics
    assert con.execute("SELECT sum(n) FROM confusion WHERE suite = 'my_reviews'").fetchone()[0] == 3


def _blocks(lang: str) -> list[str]:
    import re

    text = (ROOT / "docs" / "suites.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def test_the_documented_example_loads(tmp_path):
    """The worked example of docs/suites.md, as written there, loads its items and few-shot pool."""
    from evalkit.prompt import build_body, build_prefix
    from evalkit.sources import load_subsets
    from evalkit.suite import load_suite

    (tmp_path / "tickets.jsonl").write_text(_blocks("json")[0])
    (tmp_path / "tickets.toml").write_text(_blocks("toml")[0])
    suite = load_suite(str(tmp_path / "tickets.toml"))
    data = load_subsets(suite, ["default"], None)["default"]
    assert [it.id for it in data.items] == ["t1", "t2", "t3"] and [it.id for it in data.fewshot_pool] == ["t4", "t5"]
    assert data.items[0].target == "billing"
    prompt = build_prefix(suite, data) + build_body(suite, data.items[0])
    assert prompt.startswith("Classify each support ticket as billing, bug, feature_request.\n\n")
    assert prompt.endswith("Ticket: I was charged twice for my order\nCategory:")
