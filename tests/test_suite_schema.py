"""The strict suite schema: every shipped suite loads; mistakes fail at load time on one line, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.errors import ConfigError, SuiteNotFound
from evalkit.suite import available_suites, load_suite

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

GOOD = """
[suite]
name = "mine"
version = "1"
kind = "json"

[source]
type = "jsonl"
local = "items.jsonl"

[prompt]
template = "{{ question }}"

[[scorers]]
name = "json_fields"

[variants.grammar]
params = { grammar = "json" }
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mine.toml"
    p.write_text(text)
    return p


def test_every_shipped_suite_loads():
    names = set(available_suites())
    assert {"mmlu", "ag_news", "banking77", "sst2", "conll2003", "wnut17", "gsm8k"} <= names
    for name in names:
        suite = load_suite(name)
        assert suite.content_hash and suite.version
        assert suite.params.max_tokens >= 1  # a token limit is always set
        for variant in suite.variants:
            v = load_suite(f"{name}+{variant}")
            assert v.name == f"{name}+{variant}" and v.content_hash != suite.content_hash


@pytest.mark.parametrize(
    "old, new, key, allowed",
    [
        ('kind = "json"', 'kind = "json"\ncolour = "red"', "suite.colour", "name, version, description, kind"),
        ('local = "items.jsonl"', 'local = "items.jsonl"\nsplitt = "test"', "source.splitt", "fewshot_split"),
        ('name = "json_fields"', 'name = "json_fields"\nweight = 2', "scorers.0.weight", "name, args"),
        ('template = "{{ question }}"', 'template = "x"\nshots = 3', "prompt.shots", "fewshot"),
        ("[[scorers]]", "[params]\nmax_token = 5\n\n[[scorers]]", "params.max_token", "max_tokens"),
        ('params = { grammar = "json" }', 'params = { grammer = "json" }', "variants.grammar: params.grammer", "grammar"),
    ],
)
def test_unknown_key_names_file_key_and_allowed_keys(tmp_path, old, new, key, allowed):
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as exc:
        load_suite(str(path))
    msg = str(exc.value)
    assert str(path) in msg and f"unknown key '{key}'" in msg and allowed in msg and "\n" not in msg


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('name = "json_fields"', 'name = "json_feilds"', "Did you mean: json_fields"),
        ('name = "json_fields"', 'name = "json_fields"\nargs = { fields = "x" }', "unknown argument 'fields'"),
        ('kind = "json"', 'kind = "json"\nmetrics = ["f1"]', "unknown metric 'f1'"),
        ('kind = "json"', 'kind = "generat"', "suite.kind"),
        ("[[scorers]]\nname = \"json_fields\"", "", "needs at least one [[scorers]]"),
        ('params = { grammar = "json" }', 'params = { max_tokens = 0 }', "max_tokens"),
    ],
)
def test_bad_values_fail_at_load(tmp_path, old, new, expected):
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as exc:
        load_suite(str(path))
    assert expected in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_variant_and_suite():
    with pytest.raises(SuiteNotFound, match="Did you mean: grammar"):
        load_suite("conll2003+grammer")
    with pytest.raises(SuiteNotFound, match="Did you mean: gsm8k"):
        load_suite("gsm8")


def test_yaml_suite(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text(
        "suite: {name: mine, version: '1', kind: choice}\nsource: {type: jsonl, local: items.jsonl}\n"
        "prompt: {template: '{{ question }}'}\nchoices: {labels: [A, B]}\n"
    )
    assert load_suite(str(p)).name == "mine"


def test_cli_unknown_key_is_one_line_exit_2(tmp_path):
    path = _write(tmp_path, GOOD.replace('kind = "json"', 'kind = "json"\ncolour = "red"'))
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "run", "--suite", str(path), "--db", str(tmp_path / "x.duckdb")],
        capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown key 'suite.colour'" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.duckdb").exists()  # nothing written for a suite that does not load


def test_cli_suites_lists_every_suite():
    proc = subprocess.run([sys.executable, "-m", "evalkit", "suites"], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("mmlu", "ag_news", "banking77", "sst2", "conll2003", "wnut17", "gsm8k", "conll2003+grammar"):
        assert name in proc.stdout


def test_docs_document_every_key():
    """docs/suites.md names every key of every table of the schema and every scorer argument."""
    from evalkit.scorers import REGISTRY, scorer_class
    from evalkit.suite import ChoiceSpec, DefaultsSpec, ParamsSpec, PromptSpec, SourceSpec, Suite, SuiteMeta

    import re

    text = (ROOT / "docs" / "suites.md").read_text()
    hidden = {"path", "content_hash", "variant"}
    for model in (Suite, SuiteMeta, SourceSpec, PromptSpec, ChoiceSpec, ParamsSpec, DefaultsSpec):
        for key in set(model.model_fields) - hidden:
            assert re.search(rf"[`.\[]{key}[`\]]", text), f"{model.__name__}.{key}"
    for name in REGISTRY:
        assert f"`{name}`" in text
        for arg in scorer_class(name).Args.model_fields:
            assert re.search(rf"[`.]{arg}`", text), f"{name}.{arg}"
