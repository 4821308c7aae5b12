"""Gate decisions on hand-built sides: pairing, misuse errors, crash / error / speed / RAM checks, reports.

These are unit tests of the decision logic; tests/test_gate_real.py runs the same
paths on real model runs stored in real DuckDB files.
"""

import json

import pytest

from evalkit.errors import ConfigError
from evalkit.gate import report
from evalkit.gate.compare import GateSettings, gate
from evalkit.gate.refs import Outcome, Side


def side(outcomes, *, suite="qa", version="1", suite_hash="h1", cell=None, run_id="r", host=None, status="complete"):
    items = [
        Outcome(suite, "sub", f"{suite}/{i}", f"p{i}", o if isinstance(o, bool) else None,
                float(o) if not isinstance(o, str) else None, o if isinstance(o, str) else None)
        for i, o in enumerate(outcomes)
    ]  # fmt: skip
    return Side(ref=run_id, source="run", run_id=run_id, run_status=status, model={"name": "m", "model_id": "abc"},
                suites={suite: {"version": version, "hash": suite_hash}}, items=items, cell=cell, host=host or {})  # fmt: skip


BASE = [True] * 60 + [False] * 40


def test_identical_sides_pass_with_zero_flips():
    rep = gate(side(BASE), side(BASE), GateSettings())
    assert rep.passed
    (s,) = rep.suites
    assert (s.result.lost, s.result.gained, s.result.p_value) == (0, 0, 1.0)
    assert s.kind == "binary" and s.verdict == "pass"


def test_real_drop_fails_with_figures_in_every_report():
    cand = [False] * 15 + [True] * 45 + [False] * 40
    rep = gate(side(BASE), side(cand), GateSettings())
    assert not rep.passed
    (s,) = rep.suites
    assert s.verdict == "fail" and s.result.lost == 15 and s.drop_pp == pytest.approx(15.0)
    md = report.to_markdown(rep)
    assert "FAIL" in md and "-15.0 pp" in md and "15 / 0" in md and "60.0%" in md and "45.0%" in md
    data = json.loads(report.dumps_json(rep))
    assert data["passed"] is False
    assert data["suites"][0]["result"]["lost"] == 15
    assert data["suites"][0]["drop_pp"] == pytest.approx(15.0)
    assert data["suites"][0]["result"]["ci_high"] < 0


def test_noise_sized_flips_pass():
    cand = [False] * 6 + [True] * 54 + [True] * 3 + [False] * 37  # lost 6, gained 3: 3 pp, p = 0.25
    rep = gate(side(BASE), side(cand), GateSettings())
    assert rep.passed and "not significant" in rep.suites[0].reason


def test_different_suite_version_is_an_error_naming_the_fix():
    with pytest.raises(ConfigError, match="version 1 in the baseline but 2 in the candidate.*--allow-suite-change"):
        gate(side(BASE), side(BASE, version="2"), GateSettings())
    rep = gate(side(BASE), side(BASE, version="2"), GateSettings(allow_suite_change=True))
    assert rep.passed and rep.suites[0].version == "1→2" and rep.notes


def test_a_changed_prompt_is_gated_and_reported():
    cand = side(BASE, suite_hash="h2")  # the suite file was edited (or its sampling seed changed)
    cand.items = [Outcome(o.suite, o.subset, o.item_id, "other", o.correct, o.score) for o in cand.items]
    rep = gate(side(BASE), cand, GateSettings())
    assert rep.passed and rep.suites[0].prompt_changed == 100
    assert "100 of 100 paired items have different prompts or generation settings (the suite file differs)" in rep.notes[0]
    assert "different prompts" in report.to_markdown(rep)


def test_some_prompts_changed_under_the_same_suite_file_is_an_error():
    cand = side(BASE)
    cand.items = [Outcome(o.suite, o.subset, o.item_id, "new" if i < 7 else o.prompt_hash, o.correct, o.score)
                  for i, o in enumerate(cand.items)]  # fmt: skip
    with pytest.raises(ConfigError, match="7 of 100 paired items of suite qa have different prompts although the suite file is the same"):
        gate(side(BASE), cand, GateSettings())
    assert gate(side(BASE), cand, GateSettings(allow_suite_change=True)).suites[0].prompt_changed == 7


def test_too_little_overlap_is_an_error():
    cand = side(BASE)
    cand.items = cand.items[:50]
    with pytest.raises(ConfigError, match=r"only 50 items of suite qa are in both runs \(50% of 100; need 90%\)"):
        gate(side(BASE), cand, GateSettings())


def test_too_few_items_is_an_error_not_a_pass():
    with pytest.raises(ConfigError, match="only 4 comparable paired items.*could not reach alpha 0.05"):
        gate(side(BASE[:4]), side(BASE[:4]), GateSettings(min_items=1))
    with pytest.raises(ConfigError, match="--min-items is 20"):
        gate(side(BASE[:12]), side(BASE[:12]), GateSettings())


def test_suite_missing_on_one_side_is_an_error():
    two = side(BASE)
    other = side(BASE, suite="other")
    two.items += other.items
    two.suites.update(other.suites)
    with pytest.raises(ConfigError, match="suite other is in the baseline but not in the candidate.*--suite qa"):
        gate(two, side(BASE), GateSettings())
    assert gate(two, side(BASE), GateSettings(suites=("qa",))).passed
    with pytest.raises(ConfigError, match="share no suite \\(baseline: qa; candidate: other\\)"):
        gate(side(BASE), other, GateSettings())
    with pytest.raises(ConfigError, match="suite nope is not in the baseline"):
        gate(side(BASE), side(BASE), GateSettings(suites=("nope",)))


def test_unfinished_run_is_an_error():
    with pytest.raises(ConfigError, match="did not finish \\(status running\\)"):
        gate(side(BASE), side(BASE, status="running"), GateSettings())


def test_new_item_errors_fail_the_error_check():
    cand = list(BASE)
    cand[3] = "RuntimeError: decode failed"
    rep = gate(side(BASE), side(cand), GateSettings())
    errors = next(c for c in rep.checks if c.name == "errors / crashes")
    assert errors.verdict == "fail" and "1 new item errors" in errors.reason
    assert rep.suites[0].excluded_errors == 1 and rep.suites[0].verdict == "pass"
    assert gate(side(BASE), side(cand), GateSettings(max_new_errors=1)).passed


def test_crashed_candidate_is_a_regression_not_a_usage_error():
    crashed = side(BASE[:30], cell={"status": "failed", "error": "killed by signal 11 (SIGSEGV)"})
    rep = gate(side(BASE), crashed, GateSettings())
    assert not rep.passed
    assert rep.suites[0].verdict == "not compared" and "crashed after 30 of 100" in rep.suites[0].reason
    errors = next(c for c in rep.checks if c.name == "errors / crashes")
    assert errors.verdict == "fail" and "SIGSEGV" in errors.reason


CELL = {"status": "complete", "cpu": "cpu-A", "threads": 2, "pp_tps": 1000.0, "tg_tps": 100.0, "peak_rss_bytes": 400 * 2**20}


def _checks(cand_cell, base_cell=CELL):
    rep = gate(side(BASE, cell=base_cell), side(BASE, cell=cand_cell), GateSettings())
    return {c.name.split(" (")[0]: c for c in rep.checks}, rep


def test_speed_and_ram_within_tolerance_pass():
    checks, rep = _checks({**CELL, "pp_tps": 900.0, "tg_tps": 95.0, "peak_rss_bytes": 420 * 2**20})
    assert rep.passed
    assert checks["prompt speed"].ratio == pytest.approx(0.9) and checks["peak RAM"].verdict == "pass"


def test_slowdown_fails_on_the_same_cpu_only():
    checks, rep = _checks({**CELL, "tg_tps": 60.0})
    assert not rep.passed and checks["generation speed"].verdict == "fail" and "0.60×" in checks["generation speed"].reason
    checks, rep = _checks({**CELL, "tg_tps": 60.0, "cpu": "cpu-B"})
    assert rep.passed and checks["generation speed"].verdict == "not comparable"
    checks, rep = _checks({**CELL, "tg_tps": 60.0, "threads": 4})
    assert checks["generation speed"].verdict == "not comparable"


def test_ram_rise_fails():
    checks, rep = _checks({**CELL, "peak_rss_bytes": 500 * 2**20})
    assert not rep.passed and checks["peak RAM"].verdict == "fail" and "+25.0%" in checks["peak RAM"].reason


def test_missing_measurements_are_reported_not_failed():
    checks, rep = _checks(None)
    assert rep.passed
    assert {c.verdict for n, c in checks.items() if n != "errors / crashes"} == {"not measured"}
    checks, rep = _checks({**CELL, "pp_tps": None, "tg_tps": float("nan")})
    assert checks["prompt speed"].verdict == "not measured" and checks["peak RAM"].verdict == "pass"
    json.loads(report.dumps_json(rep))  # NaN never reaches the JSON


def test_continuous_scores_use_the_paired_bootstrap():
    base = [0.5, 0.8, 0.2, 1.0, 0.6] * 8
    cand = [x - 0.2 if i % 2 else x for i, x in enumerate(base)]
    rep = gate(side(base), side(cand), GateSettings())
    (s,) = rep.suites
    assert s.kind == "continuous" and s.result.method == "paired_bootstrap"
    assert s.verdict == "fail" and s.result.ci_high < 0
    assert "paired bootstrap" in report.to_markdown(rep)
