"""The OpenAI-compatible backend against a real server: llama-cpp-python's own, with SmolLM2-135M.

The server is started once for this module (``python -m evalkit.backends.llamacpp_server ... --logits_all true``,
which is ``llama_cpp.server`` with evalkit's repacking guard).
Without a BOS override: llama-cpp-python's *echo* log-probabilities are shifted by one token
for models that add no BOS (SmolLM2), but next-token log-probabilities are right, and the
prompt tokens are then exactly those of evalkit's in-process backend.
"""

from __future__ import annotations

import math

import duckdb
import pytest
from lmeval_tasks import TASK, offline_env, write_task
from servers import FakeOllama, LlamaServer

from evalkit.runner import RunConfig, SuiteSelection, run

pytestmark = [pytest.mark.model, pytest.mark.slow]
SUBJECT = "high_school_geography"


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    srv = LlamaServer(smollm2_path, tmp_path_factory.mktemp("server")).start()
    yield srv
    srv.stop()


def _run(spec: str, db, data_dir, limit=6, subsets=(SUBJECT,)):
    cfg = RunConfig(models=[spec], suites=[SuiteSelection("mmlu", list(subsets), limit, 0)], db=db, data_dir=str(data_dir),
                    threads=1)  # one thread: on a busy 2-core machine, two llama.cpp threads are ~10x slower
    return run(cfg)


def _items(db, keep) -> dict:
    """item_id → row for error-free items whose model name passes *keep*."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT i.item_id, i.prediction, i.logprobs, i.prompt_tokens, i.completion_tokens, i.output, i.details, "
        "i.eval_key, m.name, m.model_id FROM items i JOIN models m USING (model_id) WHERE i.error IS NULL"
    ).fetchall()
    con.close()
    cols = "item_id prediction logprobs prompt_tokens completion_tokens output details eval_key name model_id".split()
    return {r[0]: dict(zip(cols, r)) for r in rows if keep(r[8])}


def on_server(name: str) -> bool:
    return name.startswith("smollm2@")


def test_mmlu_through_server_matches_in_process(server, data_dir, db_path):
    local = _run("smollm2-135m", db_path, data_dir)
    remote = _run(f"openai:smollm2?base_url={server.url}", db_path, data_dir)
    assert local.rows[0].errors == 0 and remote.rows[0].errors == 0
    mine, theirs = _items(db_path, lambda n: n == "smollm2-135m"), _items(db_path, on_server)
    assert len(mine) == len(theirs) == 6
    for item_id, row in theirs.items():
        ref = mine[item_id]
        assert row["name"] == f"smollm2@127.0.0.1:{server.port}"  # next-token: no method suffix
        assert '"method": "next-token"' in row["details"]
        assert row["prediction"] == ref["prediction"], item_id
        assert row["prompt_tokens"] == ref["prompt_tokens"]  # same tokens: no BOS on either side
        for lp_server, lp_local in zip(row["logprobs"], ref["logprobs"]):
            if math.isinf(lp_server):  # below the server's top-20 next tokens: only a bound is known
                assert lp_local <= max(x for x in row["logprobs"] if not math.isinf(x))
            else:
                assert abs(lp_server - lp_local) < 1e-3


def test_letter_method_is_recorded_apart(server, data_dir, db_path):
    logprob = _run(f"openai:smollm2?base_url={server.url}", db_path, data_dir, limit=3)
    letter = _run(f"openai:smollm2?base_url={server.url}&choice=letter", db_path, data_dir, limit=3)
    assert letter.rows[0].model.endswith("(letter)") and not logprob.rows[0].model.endswith(")")
    a = _items(db_path, lambda n: on_server(n) and n.endswith("(letter)"))
    b = _items(db_path, lambda n: on_server(n) and not n.endswith(")"))
    assert len(a) == len(b) == 3
    assert {r["model_id"] for r in a.values()}.isdisjoint({r["model_id"] for r in b.values()})
    assert {r["eval_key"] for r in a.values()}.isdisjoint({r["eval_key"] for r in b.values()})
    from evalkit.backends.openai_choice import parse_letter

    for row in a.values():
        assert '"method": "letter"' in row["details"]
        assert row["output"] is not None and row["completion_tokens"] is not None  # "" when the model stops at once
        expected = parse_letter(row["output"], ["A", "B", "C", "D"])
        assert row["prediction"] == (None if expected is None else "ABCD"[expected])
        assert row["logprobs"] is None
    from evalkit.leaderboard import leaderboard
    from evalkit.store import Store

    with Store(db_path, read_only=True) as store:
        board = leaderboard(store)
    assert sorted(board["n"]) == [3, 3]  # two rows, never pooled


def test_generation_streams_and_measures_ttft(server, smollm2_path):
    from evalkit.backends.factory import open_backend
    from evalkit.backends.llamacpp import LlamaCppBackend
    from evalkit.models import resolve_model
    from evalkit.types import GenerateRequest

    req = GenerateRequest("Question: Name a primary colour.\n", "Answer:", max_tokens=12, stop=("\n",))
    backend = open_backend(resolve_model(f"openai:smollm2?base_url={server.url}"))
    try:
        [res] = backend.generate([req])
    finally:
        backend.close()
    local = LlamaCppBackend(smollm2_path, n_ctx=512, threads=1)
    try:
        [ref] = local.generate([req])
    finally:
        local.close()
    assert res.error is None and res.text
    assert res.ttft_ms is not None and 0 < res.ttft_ms <= res.latency_ms
    assert res.completion_tokens >= 1
    assert res.text == ref.text  # greedy on both sides


def test_ollama_facts_from_api_show(server, data_dir, db_path, smollm2_path):
    from evalkit.gguf_info import file_sha256, read_gguf_info

    info = read_gguf_info(smollm2_path)
    show = {
        "details": {"format": "gguf", "family": info.architecture, "families": [info.architecture],
                    "parameter_size": f"{info.n_params / 1e6:.0f}M", "quantization_level": info.quant_type},
        "model_info": {"general.architecture": info.architecture, "general.parameter_count": info.n_params,
                       f"{info.architecture}.context_length": info.context_length},
    }  # fmt: skip
    fake = FakeOllama(server.url[: -len("/v1")], "smollm2", show, info.file_size, "sha256:" + file_sha256(smollm2_path))
    try:
        summary = _run(f"ollama:smollm2?base_url={fake.root}", db_path, data_dir, limit=2)
    finally:
        fake.close()
    assert summary.rows[0].n == 2 and summary.rows[0].errors == 0
    con = duckdb.connect(str(db_path), read_only=True)
    row = con.execute("SELECT name, architecture, n_params, quant_type, file_size, context_length FROM models").fetchone()
    con.close()
    port = fake.root.rsplit(":", 1)[1]
    assert row == (f"smollm2@127.0.0.1:{port}", info.architecture, info.n_params, info.quant_type, info.file_size, info.context_length)


def test_lm_eval_task_through_server_backend(server, data_dir, db_path, tmp_path, monkeypatch):
    for key, value in offline_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    from evalkit.lmeval.runtask import LmEvalRun, run_lm_eval

    folder = write_task(data_dir, tmp_path / "tasks")
    spec = f"openai:smollm2?base_url={server.url}"
    stored = run_lm_eval(LmEvalRun(models=[spec], tasks=[TASK], include_path=str(folder), limit=3, shots=0, db=db_path,
                                   threads=1))
    assert [(t.suite, t.task, t.n, t.new) for _, t in stored] == [(f"lmeval-{TASK}", TASK, 3, 3)]
    rows = _items(db_path, on_server)
    assert len(rows) == 3
    native = _run(spec, db_path, data_dir, limit=3)  # evalkit's own MMLU suite: the same prompt text
    assert native.rows[0].errors == 0
    con = duckdb.connect(str(db_path), read_only=True)
    pairs = con.execute(
        "SELECT a.prediction, b.prediction, a.latency_ms, a.prompt_tokens FROM items a JOIN items b "
        "ON split_part(a.item_id, '/', 2) = split_part(b.item_id, '/', 3) WHERE a.suite = ? AND b.suite = 'mmlu'",
        [f"lmeval-{TASK}"],
    ).fetchall()
    con.close()
    assert len(pairs) == 3
    for lm_pred, native_pred, latency, tokens in pairs:
        assert lm_pred == native_pred and latency > 0 and tokens > 0
