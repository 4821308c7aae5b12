"""Every shipped suite end to end on the real 135M model: `evalkit run --suite S --limit 2` writes items and metrics."""

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
SUITES = {  # suite → headline metric
    "ag_news": "accuracy",
    "banking77": "accuracy",
    "conll2003": "entity_f1",
    "wnut17": "entity_f1",
    "gsm8k": "accuracy",
}


@pytest.fixture(scope="module")
def run_db(tmp_path_factory, data_dir):
    """One `evalkit run` over all suites (one model load), as a user would type it."""
    db = tmp_path_factory.mktemp("e2e") / "results.duckdb"
    args = [sys.executable, "-m", "evalkit", "run", "-m", "smollm2-135m", "--limit", "2", "--db", str(db),
            "--data-dir", str(data_dir)]  # fmt: skip
    for s in SUITES:
        args += ["--suite", s]
    proc = subprocess.run(args, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return db


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("suite", list(SUITES))
def test_suite_writes_items_and_metrics(run_db, suite):
    con = duckdb.connect(str(run_db), read_only=True)
    rows = con.execute(
        "SELECT item_id, prediction, target, correct, score, output, details, suite_version, suite_hash "
        "FROM items WHERE suite = ? ORDER BY item_id", [suite]
    ).fetchall()  # fmt: skip
    assert len(rows) == 2
    assert all(r[7] == "1" and len(r[8]) == 16 for r in rows)  # suite version and content hash on every item
    assert all(r[2] for r in rows) and all(r[3] is not None for r in rows)
    if suite in ("conll2003", "wnut17", "gsm8k"):  # generated: raw output and scorer details kept
        for r in rows:
            details = json.loads(r[6])
            assert r[5] is not None and "scores" in details and details["max_tokens"] > 0
    metrics = con.execute("SELECT metric, value, n FROM metrics WHERE suite = ?", [suite]).fetchall()
    names = [m[0] for m in metrics]
    assert SUITES[suite] in names and all(m[2] == 2 for m in metrics)
    head = next(m for m in metrics if m[0] == SUITES[suite])
    assert 0.0 <= head[1] <= 1.0
    config = json.loads(con.execute("SELECT config FROM runs").fetchone()[0])
    info = next(s for s in config["suite_info"] if s["name"] == suite)
    assert info["hash"] == rows[0][8] and info["version"] == "1"
