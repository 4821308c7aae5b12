"""Every shipped suite end to end on the real 135M model through llama.cpp, writing items and metrics to DuckDB.

One run (one model load) over all suites, at 1-2 items each, the way `evalkit run --suite S --limit N` runs them.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from evalkit.runner import RunConfig, SuiteSelection, run

SUITES = {  # suite → (subsets, limit, headline metric)
    "ag_news": ([], 2, "accuracy"),
    "banking77": ([], 1, "accuracy"),  # 77 multi-token labels: the costliest choice suite
    "conll2003": ([], 2, "entity_f1"),
    "wnut17": ([], 2, "entity_f1"),
    "gsm8k": ([], 1, "accuracy"),
    "support_intents": ([], 2, "accuracy"),
    "documents": (["ctx_0"], 1, "field_f1"),
    "documents+grammar": (["ctx_0"], 1, "field_f1"),
    "reasoning": (["steps_01", "steps_04"], 1, "accuracy"),
}


@pytest.fixture(scope="module")
def run_db(tmp_path_factory, data_dir):
    db = tmp_path_factory.mktemp("e2e") / "results.duckdb"
    selections = [SuiteSelection(name, subsets, limit) for name, (subsets, limit, _) in SUITES.items()]
    summary = run(RunConfig(models=["smollm2-135m"], suites=selections, db=db, data_dir=str(data_dir), command="test"))
    assert summary.status == "complete" and not [w for w in summary.warnings if "skipped" in w]
    return db


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("suite", list(SUITES))
def test_suite_writes_items_and_metrics(run_db, suite):
    subsets, limit, headline = SUITES[suite]
    con = duckdb.connect(str(run_db), read_only=True)
    rows = con.execute(
        "SELECT item_id, prediction, target, correct, score, output, details, suite_version, suite_hash, subset "
        "FROM items WHERE suite = ? ORDER BY item_id", [suite]
    ).fetchall()  # fmt: skip
    assert len(rows) == limit * max(1, len(subsets))
    assert all(r[7] == "1" and len(r[8]) == 16 for r in rows)  # suite version and content hash on every item
    assert all(r[2] for r in rows) and all(r[3] is not None for r in rows)
    kind = "choice" if suite in ("ag_news", "banking77", "support_intents") else "gen"
    for r in rows:
        details = json.loads(r[6])
        if kind == "gen":  # raw output, extracted answer and the scorer's findings are kept
            assert r[5] is not None and "scores" in details and details["max_tokens"] > 0
    metrics = con.execute("SELECT subset, metric, value, n FROM metrics WHERE suite = ?", [suite]).fetchall()
    for subset in subsets or ["default"]:
        head = [m for m in metrics if m[0] == subset and m[1] == headline]
        assert len(head) == 1 and 0.0 <= head[0][2] <= 1.0 and head[0][3] == limit
    if kind == "choice":
        assert con.execute("SELECT sum(n) FROM confusion WHERE suite = ?", [suite]).fetchone()[0] == limit
    config = json.loads(con.execute("SELECT config FROM runs").fetchone()[0])
    info = next(s for s in config["suite_info"] if s["name"] == suite)
    assert info["hash"] == rows[0][8] and info["version"] == "1"
    if suite.startswith(("documents", "reasoning")):  # generated: seed and generator version recorded
        meta = json.loads(rows[0][6])["meta"]
        assert info["seed"] == meta["seed"] == 0 and info["generator_version"] == meta["generator_version"]


@pytest.mark.model
def test_grammar_run_is_a_separate_configuration(run_db):
    con = duckdb.connect(str(run_db), read_only=True)
    keys = con.execute("SELECT suite, eval_key, details->>'grammar' FROM items WHERE suite LIKE 'documents%'").fetchall()
    assert {(s, g) for s, _, g in keys} == {("documents", "none"), ("documents+grammar", "schema")}
    assert len({k for _, k, _ in keys}) == 2
