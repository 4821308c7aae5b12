"""The pull-request gate (.github/workflows/gate.yml) and its committed baseline stay in step with the code."""

import json
import shlex
from pathlib import Path

import yaml

from evalkit.cli import cli
from evalkit.gate.refs import resolve
from evalkit.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "gate.yml"


def _steps() -> tuple[dict, list[dict]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    (job,) = doc["jobs"].values()
    return doc, job["steps"]


def _evalkit_args(steps, command: str) -> list[str]:
    for step in steps:
        for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            if words[:2] == ["evalkit", command]:
                return words
    raise AssertionError(f"no 'evalkit {command}' step in {WORKFLOW}")


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_workflow_runs_on_pull_requests_and_uploads_the_site():
    doc, steps = _steps()
    assert "pull_request" in doc[True]  # YAML 1.1 reads the key `on` as True
    site = _evalkit_args(steps, "site")
    assert site[2] == "build" and _option(site, "--out").rstrip("/") == "site"
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert any(str(s["with"]["path"]).rstrip("/") == "site" for s in uploads)


def test_committed_baseline_matches_the_workflow_command_and_the_current_suite():
    doc, steps = _steps()
    baseline = ROOT / doc["env"]["BASELINE"]
    side = resolve(str(baseline), ROOT / "unused.duckdb")
    run_words = _evalkit_args(steps, "run")
    recorded = shlex.split(json.loads(baseline.read_text())["run"]["command"])
    for opt in ("--model", "--suite", "--limit"):
        assert _option(run_words, opt) == _option(recorded, opt), f"gate.yml and the baseline differ in {opt}"
    suite = load_suite(_option(run_words, "--suite"))
    assert side.suites[suite.name]["version"] == suite.version, "suite version bumped: re-export the baseline"
    assert len(side.items) == int(_option(run_words, "--limit")) and all(o.error is None for o in side.items)
    gate_words = _evalkit_args(steps, "gate")
    assert _option(gate_words, "--baseline") == "$BASELINE"


def test_commands_used_by_the_workflow_exist():
    assert {"run", "gate", "baseline", "site"} <= set(cli.commands)
