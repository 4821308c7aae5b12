"""`evalkit gate` and `evalkit baseline export` on real runs: smollm2-135m through llama.cpp on real MMLU items,
stored in real DuckDB files, driven through the real command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evalkit.cli import main
from evalkit.runner import RunConfig, SuiteSelection, run

pytestmark = pytest.mark.model

SUBSETS = ["high_school_geography", "sociology"]
LIMIT = 15  # 30 items: above the default --min-items of 20


def evalkit(*args: str) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _run(db: Path, data_dir: Path, suite: str = "mmlu", subsets=SUBSETS, limit: int = LIMIT) -> str:
    # one thread: identical results run to run, and no spinning llama.cpp threads on a busy machine
    config = RunConfig(models=["smollm2-135m"], suites=[SuiteSelection(suite, list(subsets), limit, 0)], db=db,
                       data_dir=str(data_dir), threads=1)  # fmt: skip
    return run(config).run_id


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir):
    """Two identical runs of the same model on the same items, each in its own results file."""
    d = tmp_path_factory.mktemp("gate")
    return d, _run(d / "a.duckdb", data_dir), _run(d / "b.duckdb", data_dir)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("evalkit: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_identical_runs_pass(runs, capsys):
    d, _, _ = runs
    code = evalkit("gate", "--baseline", d / "a.duckdb", "--candidate", d / "b.duckdb", "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["passed"] is True
    (suite,) = out["suites"]
    assert suite["suite"] == "mmlu" and suite["n_paired"] == 2 * LIMIT
    assert (suite["result"]["lost"], suite["result"]["gained"], suite["result"]["p_value"]) == (0, 0, 1.0)
    assert 0 <= suite["result"]["baseline"] == suite["result"]["candidate"] <= 1


def test_baseline_export_round_trip_and_reports(runs, tmp_path, monkeypatch, capsys):
    d, run_a, _ = runs
    out = tmp_path / "baselines" / "smollm2-mmlu.json"
    assert evalkit("baseline", "export", run_a, "--db", d / "a.duckdb", "--out", out) == 0
    doc = json.loads(out.read_text())
    assert doc["run"]["run_id"] == run_a and doc["model"]["quant_type"] == "Q4_1" and "path" not in doc["model"]
    assert doc["suites"]["mmlu"]["version"] == "1" and doc["suites"]["mmlu"]["n"] == 2 * LIMIT
    assert len(doc["items"]) == 2 * LIMIT and out.stat().st_size < 10_000
    item = dict(zip(doc["columns"], doc["items"][0]))
    assert item["item_id"].startswith(("high_school_geography/test/", "sociology/test/")) and len(item["prompt_hash"]) == 32
    assert isinstance(item["correct"], bool)

    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    md, js = tmp_path / "gate.md", tmp_path / "gate.json"
    capsys.readouterr()
    code = evalkit("gate", "--baseline", out, "--candidate", f"{d / 'b.duckdb'}:latest", "--markdown", md, "--json", js)
    table = capsys.readouterr().out
    assert code == 0 and "PASS" in table and "mmlu" in table
    report = json.loads(js.read_text())
    acc = report["suites"][0]["result"]["baseline"]
    assert report["baseline"]["source"] == "baseline file" and report["candidate"]["source"] == "run"
    assert f"{100 * acc:.1f}%" in md.read_text() and "| mmlu (v1, McNemar)" in md.read_text()
    assert summary.read_text() == md.read_text() + "\n"


def test_rerun_that_reused_every_item_is_gated_on_them(runs, data_dir, capsys):
    d, run_a, _ = runs
    db = d / "reused.duckdb"
    shutil.copy(d / "a.duckdb", db)
    rerun = _run(db, data_dir)  # stores nothing new: every item is already in the file
    code = evalkit("gate", "--baseline", run_a, "--candidate", rerun, "--db", db, "--format", "json")
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["candidate"]["run_id"] == rerun and out["suites"][0]["n_paired"] == 2 * LIMIT


def test_different_suite_version_and_item_sets_are_usage_errors(runs, data_dir, tmp_path, capsys):
    d, _, _ = runs
    from evalkit.suite import load_suite

    suite_file = tmp_path / "mmlu_v2.toml"
    text = Path(load_suite("mmlu").path).read_text()
    suite_file.write_text(text.replace('version = "1"', 'version = "2"', 1))
    _run(tmp_path / "v2.duckdb", data_dir, str(suite_file), ["marketing"], LIMIT)
    capsys.readouterr()
    assert evalkit("gate", "--baseline", d / "a.duckdb", "--candidate", tmp_path / "v2.duckdb") == 2
    assert "version 1 in the baseline but 2 in the candidate" in _one_line_error(capsys)
    assert evalkit("gate", "--baseline", d / "a.duckdb", "--candidate", tmp_path / "v2.duckdb", "--allow-suite-change") == 2
    assert "only 0 items of suite mmlu are in both runs" in _one_line_error(capsys)


def test_too_few_items_is_a_usage_error(runs, data_dir, tmp_path, capsys):
    _run(tmp_path / "few.duckdb", data_dir, limit=2)
    db = tmp_path / "few.duckdb"
    capsys.readouterr()
    assert evalkit("gate", "--baseline", db, "--candidate", db) == 2
    err = _one_line_error(capsys)
    assert "only 4 comparable paired items" in err and "could not reach alpha 0.05" in err and "--limit" in err


def test_unknown_refs_are_usage_errors(runs, tmp_path, capsys):
    d, run_a, _ = runs
    assert evalkit("gate", "--baseline", run_a[:-2] + "zz", "--candidate", "latest", "--db", d / "a.duckdb") == 2
    assert f"Did you mean: {run_a}" in _one_line_error(capsys)
    assert evalkit("gate", "--baseline", tmp_path / "missing.json", "--candidate", "latest", "--db", d / "a.duckdb") == 2
    assert "baseline file not found" in _one_line_error(capsys)
    assert evalkit("gate", "--baseline", "latest", "--candidate", "latest", "--db", tmp_path / "none.duckdb") == 2
    assert "no results database" in _one_line_error(capsys)


def _write_suite(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _gate_json(capsys, *args) -> tuple[int, dict]:
    capsys.readouterr()
    code = evalkit("gate", *args, "--format", "json")
    return code, json.loads(capsys.readouterr().out)


def test_broken_prompt_template_is_caught(tmp_path, data_dir, capsys):
    """A real regression: a copy of the AG News suite whose template lost the article text (a plausible template
    bug). smollm2-135m drops from well above chance to its label prior; the gate must fail with exit 1."""
    from evalkit.suite import load_suite

    text = Path(load_suite("ag_news").path).read_text()
    good_line = next(line for line in text.splitlines() if line.startswith("template = "))
    broken = _write_suite(tmp_path / "ag_news_broken.toml", text.replace(good_line, 'template = "Article:\\nTopic:"'))
    _run(tmp_path / "good.duckdb", data_dir, "ag_news", ["default"], 60)
    _run(tmp_path / "broken.duckdb", data_dir, broken, ["default"], 60)
    md = tmp_path / "gate.md"
    code, out = _gate_json(capsys, "--baseline", tmp_path / "good.duckdb", "--candidate", tmp_path / "broken.duckdb",
                           "--markdown", md)  # fmt: skip
    assert code == 1 and out["passed"] is False
    (suite,) = out["suites"]
    r = suite["result"]
    assert suite["verdict"] == "fail" and r["p_value"] < 0.05 and suite["drop_pp"] > 1.0
    assert r["lost"] > r["gained"] and r["ci_high"] < 0 and r["n"] == 60
    assert "gating the change" in out["notes"][0]  # every prompt changed: reported, and compared
    text_md = md.read_text()
    assert "FAIL" in text_md and f"{r['lost']} / {r['gained']}" in text_md and f"{100 * r['diff']:+.1f} pp" in text_md


SAMPLED = """
[suite]
name = "ag_news_sampled"
version = "1"
description = "AG News answered in free text, sampled at temperature 0.8."
kind = "generate"

[source]
type = "csv"
local = "ag_news"
split = "test"
header = false
columns = ["class_index", "title", "description"]

[fields]
text = "{{ title }} {{ description }}"
target = "{{ labels[class_index | int - 1] }}"

[prompt]
header = "Classify each news article into one of four topics: World, Sports, Business or Sci/Tech.\\n\\n"
template = "Article: {{ text | trim }}\\nTopic:"

[choices]
labels = ["World", "Sports", "Business", "Sci/Tech"]

[params]
max_tokens = 4
temperature = 0.8
seed = SEED
stop = ["\\n"]

[[scorers]]
name = "label_match"
"""


def test_different_sampling_seeds_pass_at_default_settings(tmp_path, data_dir, capsys):
    """Noise is not a regression: the same model sampled with two seeds differs item by item, and the gate passes."""
    for seed in (1, 2):
        suite = _write_suite(tmp_path / f"sampled{seed}.toml", SAMPLED.replace("SEED", str(seed)))
        _run(tmp_path / f"seed{seed}.duckdb", data_dir, suite, ["default"], 40)
    code, out = _gate_json(capsys, "--baseline", tmp_path / "seed1.duckdb", "--candidate", tmp_path / "seed2.duckdb")
    (suite,) = out["suites"]
    r = suite["result"]
    assert code == 0 and out["passed"] is True and suite["verdict"] == "pass"
    assert r["lost"] + r["gained"] > 0  # the seeds really changed answers: this is noise, and it passed
    assert {c["verdict"] for c in out["checks"] if "speed" in c["name"]} == {"not measured"}  # no --bench


def test_crashed_candidate_is_a_regression(runs, data_dir, tmp_path, monkeypatch, capsys):
    """A worker killed mid-run (the matrix runner's own kill hook: SIGKILL after the first batch) leaves a failed
    cell and half the items: the gate fails with exit 1 and names the crash, not a usage error."""
    d, _, _ = runs
    monkeypatch.setenv("EVALKIT_WORKER_KILL", "smollm2-135m:1")
    _run(tmp_path / "crashed.duckdb", data_dir)
    monkeypatch.delenv("EVALKIT_WORKER_KILL")
    code, out = _gate_json(capsys, "--baseline", d / "a.duckdb", "--candidate", tmp_path / "crashed.duckdb")
    assert code == 1 and out["passed"] is False
    (suite,) = out["suites"]
    assert suite["verdict"] == "not compared" and "candidate crashed after" in suite["reason"]
    assert suite["n_candidate"] < 2 * LIMIT
    errors = next(c for c in out["checks"] if c["name"] == "errors / crashes")
    assert errors["verdict"] == "fail" and "killed by signal 9" in errors["reason"]
