"""Built-in generators: deterministic, fresh per seed, gold answers recomputed independently here."""

from __future__ import annotations

import hashlib
import json
import operator
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.errors import ConfigError, SuiteNotFound
from evalkit.generators import GENERATORS, get_generator

ROOT = Path(__file__).resolve().parent.parent
REASONING = get_generator("reasoning")
DOCUMENTS = get_generator("documents")

# ---------------------------------------------------------------- shared contract


@pytest.mark.parametrize("gen,subset", [(REASONING, "steps_05"), (DOCUMENTS, "ctx_500")])
def test_same_arguments_give_the_same_items_and_a_longer_run_extends_a_shorter_one(gen, subset):
    first = gen.generate(subset, 7, 12, {})
    assert first == gen.generate(subset, 7, 12, {})
    assert gen.generate(subset, 7, 5, {}) == first[:5]


@pytest.mark.parametrize("gen,subset,key", [(REASONING, "steps_04", "question"), (DOCUMENTS, "ctx_0", "document")])
def test_another_seed_gives_fresh_items(gen, subset, key):
    a = [it.fields[key] for it in gen.generate(subset, 1, 30, {})]
    b = [it.fields[key] for it in gen.generate(subset, 2, 30, {})]
    assert len(set(a)) == 30 and not set(a) & set(b)
    assert [json.loads(json.dumps(it.meta))["seed"] for it in gen.generate(subset, 2, 3, {})] == [2, 2, 2]


@pytest.mark.parametrize("gen", [REASONING, DOCUMENTS])
def test_ids_are_unique_across_subsets_and_seeds(gen):
    ids = [it.id for s in gen.default_subsets({}) for seed in (0, 1) for it in gen.generate(s, seed, 8, {})]
    assert len(ids) == len(set(ids))
    assert all(it.meta["generator"] == gen.name and it.meta["generator_version"] == gen.version
               for it in gen.generate(gen.default_subsets({})[0], 3, 4, {}))


def _digest(name: str) -> str:
    gen = GENERATORS[name]
    items = [it for s in gen.default_subsets({}) for it in gen.generate(s, 11, 6, {})]
    blob = json.dumps([[it.id, it.subset, it.fields, it.target, it.meta] for it in items], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_output_does_not_depend_on_python_hash_salt():
    code = ("import sys; sys.path.insert(0, 'tests'); from test_generators import _digest; "
            "print(_digest('documents'), _digest('reasoning'))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [_digest("documents"), _digest("reasoning")]


# The output of each released generator version, pinned. If this fails you changed what a
# generator produces: bump its VERSION (so stored results are not mixed) and update the digest.
PINNED = {
    ("documents", "1"): "57d48cc8fe1e3d74ef5cddf2993d74ba00dba1b7130b378da15d624e4de47702",
    ("reasoning", "1"): "e885761c54db4cb62090c2565c36323b9bbc65981c0d62d600c60e945870dd3b",
}


@pytest.mark.parametrize("name", ["documents", "reasoning"])
def test_output_changes_only_with_a_version_bump(name):
    key = (name, GENERATORS[name].version)
    if key not in PINNED:
        pytest.fail(f"new version {key}: add its digest {_digest(name)} to PINNED")
    assert _digest(name) == PINNED[key], f"{name} output changed: bump its VERSION and pin the new digest"


def test_unknown_names_and_options_are_rejected_with_the_fix():
    with pytest.raises(ConfigError, match="Did you mean: documents"):
        get_generator("documnets")
    with pytest.raises(ConfigError, match="Did you mean: steps"):
        REASONING.generate("steps_02", 0, 2, {"step": [2]})
    with pytest.raises(SuiteNotFound, match="steps_05"):
        REASONING.generate("steps_x", 0, 2, {})
    with pytest.raises(SuiteNotFound, match="ctx_1000"):
        DOCUMENTS.generate("context_1000", 0, 2, {})
    with pytest.raises(ConfigError, match="must lie in"):
        REASONING.default_subsets({"steps": [0, 3]})
    with pytest.raises(ConfigError, match="Did you mean: receipt"):
        DOCUMENTS.generate("ctx_0", 0, 2, {"doc_types": ["reciept"]})


def test_default_subsets_follow_the_knobs():
    assert REASONING.default_subsets({}) == [f"steps_{s:02d}" for s in range(1, 13)]
    assert REASONING.default_subsets({"steps": [1, 6, 12]}) == ["steps_01", "steps_06", "steps_12"]
    assert DOCUMENTS.default_subsets({})[0] == "ctx_0" and len(DOCUMENTS.default_subsets({})) >= 3
    assert DOCUMENTS.default_subsets({"context_tokens": [0, 4000]}) == ["ctx_0", "ctx_4000"]


# ---------------------------------------------------------------- reasoning: an independent interpreter

OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}


def _op(name: str, a: int, b: int) -> int:
    if name == "div":
        assert b != 0 and a % b == 0, f"inexact division {a} / {b}"
        return a // b
    return OPS[name](a, b)


def _run_recorded_ops(meta: dict) -> int:
    if meta["family"] == "arithmetic":
        value = meta["start"]
        for name, k in meta["ops"]:
            value = _op(name, value, k)
            assert value >= 0
        return value
    env = dict(meta["init"])
    for name, target, left, right in meta["ops"]:
        val = [env[x] if isinstance(x, str) else x for x in (left, right)]
        env[target] = _op(name, *val)
        assert env[target] >= 0
    return env[meta["ask"]]


def _read_word_problem(question: str) -> tuple[int, list[tuple[str, int]]]:
    """Parse the arithmetic story from its text alone: start value and one (op, k) per sentence."""
    sentences = re.split(r"(?<=[.?])\s+", question.strip())
    assert sentences[-1].endswith("?")
    start = int(re.search(r"\d+", sentences[0]).group())
    ops = []
    for s in sentences[1:-1]:
        if "half" in s:
            ops.append(("div", 2))
        elif "equal" in s:
            ops.append(("div", int(re.search(r"\d+", s).group())))
        elif "twice" in s or "doubles" in s:
            ops.append(("mul", 2))
        elif "triples" in s or "three times" in s:
            ops.append(("mul", 3))
        elif "four times" in s:
            ops.append(("mul", 4))
        else:
            k = int(re.search(r"\d+", s).group())
            taken = re.search(r"gives \d+|sells|loses|donates|trades away|broken", s)
            ops.append(("sub" if taken else "add", k))
    return start, ops


def _read_program(question: str) -> tuple[int, int]:
    """Run the variable-tracking text itself: returns (answer, number of operations)."""
    env, n_ops = {}, 0
    for target, left, sym, right in re.findall(r"\b([a-z]) = (\w+)(?: ([-+*/]) (\w+))?", question):
        val = lambda x: int(x) if x.isdigit() else env[x]  # noqa: E731
        if not sym:
            env[target] = val(left)
            continue
        n_ops += 1
        env[target] = _op({"+": "add", "-": "sub", "*": "mul", "/": "div"}[sym], val(left), val(right))
    asked = re.search(r"value of ([a-z])\b", question).group(1)
    return env[asked], n_ops


@pytest.mark.parametrize("steps", range(1, 13))
def test_reasoning_gold_is_recomputed_from_ops_and_text_and_steps_sets_the_operation_count(steps):
    items = REASONING.generate(f"steps_{steps:02d}", 3, 10, {})
    assert {it.meta["family"] for it in items} == {"arithmetic", "variables"}
    for it in items:
        q, answer = it.fields["question"], int(it.target)
        assert it.target == str(answer) and answer >= 0
        assert it.meta["steps"] == steps and len(it.meta["ops"]) == steps
        assert _run_recorded_ops(it.meta) == answer
        if it.meta["family"] == "arithmetic":
            start, ops = _read_word_problem(q)
            assert len(ops) == steps
            assert [tuple(o) for o in it.meta["ops"]] == ops and start == it.meta["start"]
        else:
            from_text, n_ops = _read_program(q)
            assert (from_text, n_ops) == (answer, steps)


def test_reasoning_meta_survives_json_and_families_can_be_restricted():
    it = REASONING.generate("steps_03", 0, 1, {"families": ["variables"]})[0]
    assert it.meta["family"] == "variables"
    assert _run_recorded_ops(json.loads(json.dumps(it.meta))) == int(it.target)
    only = REASONING.generate("steps_03", 0, 6, {"families": ["arithmetic"]})
    assert {x.meta["family"] for x in only} == {"arithmetic"}


def test_reasoning_steps_beyond_twelve_work():
    for it in REASONING.generate("steps_20", 0, 4, {}):
        assert len(it.meta["ops"]) == 20 and _run_recorded_ops(it.meta) == int(it.target)


# ---------------------------------------------------------------- documents


def _printed(key: str, value) -> list[str]:
    """How a gold value may be printed: strings verbatim, amounts as 1,234.50, counts as digits."""
    if isinstance(value, str):
        return [value]
    return [f"{value:,.2f}"] if isinstance(value, float) else [str(value)]


def _gold_strings(gold: dict) -> set[str]:
    return {p for k, v in gold.items() for p in _printed(k, v)}


def test_documents_gold_is_printed_and_distractors_sit_beside_it():
    items = DOCUMENTS.generate("ctx_0", 5, 120, {})
    assert {it.fields["doc_type"] for it in items} == set(DOCUMENTS_TYPES)
    layouts: dict[str, set] = {}
    for it in items:
        doc, gold = it.fields["document"], json.loads(it.target)
        assert it.target == json.dumps(gold, sort_keys=True)
        assert list(gold) == sorted(it.fields["field_names"])
        for key, value in gold.items():
            assert any(p in doc for p in _printed(key, value)), (it.id, key, value)
        assert len(it.meta["distractors"]) >= 3
        for name, value in it.meta["distractors"].items():
            assert value in doc, (it.id, name, value)
            assert value not in _gold_strings(gold), (it.id, name, value)
        layouts.setdefault(it.fields["doc_type"], set()).add(it.meta["layout"])
    assert all(len(v) >= 2 for v in layouts.values()), layouts


DOCUMENTS_TYPES = ["invoice", "shipping_notice", "meeting_invite", "email_signature", "purchase_order", "receipt"]


def test_documents_schema_matches_gold_and_compiles_to_a_llama_grammar():
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    seen = set()
    for it in DOCUMENTS.generate("ctx_0", 9, 12, {}):
        schema, gold = it.fields["schema"], json.loads(it.target)
        assert schema["required"] == it.fields["field_names"] == list(schema["properties"])
        for key, value in gold.items():
            assert schema["properties"][key]["type"] == ("string" if isinstance(value, str) else "number")
            assert not isinstance(value, str) or len(value) <= schema["properties"][key]["maxLength"]
        assert all(f"- {k} (" in it.fields["field_guide"] for k in gold)
        if it.fields["doc_type"] not in seen:
            seen.add(it.fields["doc_type"])
            LlamaGrammar.from_string(json_schema_to_gbnf(json.dumps(schema)), verbose=False)
    assert len(seen) == 6


@pytest.mark.parametrize("tokens", [500, 1000, 2000])
def test_context_padding_reaches_the_target_and_keeps_the_document_intact(tokens):
    bare = DOCUMENTS.generate("ctx_0", 4, 12, {})
    padded = DOCUMENTS.generate(f"ctx_{tokens}", 4, 12, {})
    offsets = set()
    for b, p in zip(bare, padded):
        text, doc, m = p.fields["document"], b.fields["document"], p.meta
        assert b.target == p.target and p.id != b.id
        assert abs(len(text) / 4 - tokens) <= max(0.05 * tokens, 25), (p.id, len(text))
        assert m["context_chars"] == len(text) and m["context_tokens_est"] == round(len(text) / 4)
        assert text[m["document_offset"]: m["document_offset"] + len(doc)] == doc
        filler = text[: m["document_offset"]] + text[m["document_offset"] + len(doc):]
        for value in json.loads(p.target).values():
            assert not isinstance(value, str) or value not in filler, (p.id, value)  # filler never competes
        offsets.add(m["document_offset"])
    assert len(offsets) > 3  # the document sits at varied positions


def test_doc_types_option_restricts_the_mix():
    items = DOCUMENTS.generate("ctx_0", 0, 6, {"doc_types": ["invoice", "receipt"]})
    assert {it.fields["doc_type"] for it in items} == {"invoice", "receipt"}
