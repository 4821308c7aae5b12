"""Faults between evalkit and a real server (llama-cpp-python + a fault-injecting proxy on 127.0.0.1).

Design under test: a request that fails is retried with backoff; one that still fails
counts against the circuit breaker (here ``breaker=1``: the first one opens it). Once open,
no request is sent; the batch in flight returns (finished items are stored, the rest carry
an error) and the next batch ends the run with one line. The same command then resumes:
only the items without an error-free result are evaluated.
"""

from __future__ import annotations

import duckdb
import pytest
from servers import FaultProxy, LlamaServer

from evalkit.errors import BackendUnavailable
from evalkit.runner import RunConfig, SuiteSelection, run

pytestmark = [pytest.mark.model, pytest.mark.slow]
SUBSETS = ["high_school_geography", "world_religions", "computer_security"]


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    srv = LlamaServer(smollm2_path, tmp_path_factory.mktemp("server")).start()
    yield srv
    srv.stop()


@pytest.fixture
def proxy(server):
    p = FaultProxy(server.url[: -len("/v1")])
    yield p
    p.close()


def _spec(proxy: FaultProxy, **extra) -> str:
    opts = {"base_url": proxy.root + "/v1", "choice": "next-token", "concurrency": 1, "retries": 1, "backoff": 0.05,
            "breaker": 1, "timeout": 60} | extra  # fmt: skip
    return "openai:smollm2?" + "&".join(f"{k}={v}" for k, v in opts.items())


def _run(spec, db, data_dir, subsets, limit=2):
    return run(RunConfig(models=[spec], suites=[SuiteSelection("mmlu", subsets, limit, 0)], db=db, data_dir=str(data_dir)))


def _counts(db) -> tuple[int, int, list[str]]:
    con = duckdb.connect(str(db), read_only=True)
    ok = con.execute("SELECT count(DISTINCT eval_key) FROM items WHERE error IS NULL").fetchone()[0]
    errors = [r[0] for r in con.execute("SELECT error FROM items WHERE error IS NOT NULL").fetchall()]
    statuses = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    con.close()
    return ok, len(errors), statuses + errors


@pytest.mark.parametrize(
    "mode, message",
    [("500", "HTTP 500"), ("slow", "no answer from"), ("malformed", "malformed JSON")],
)
def test_persistent_fault_ends_run_and_resume_completes(mode, message, proxy, data_dir, db_path):
    proxy.reset(mode=mode, after=2, delay=9.0)  # subset 1 (2 items) answered, then every request fails
    spec = _spec(proxy, timeout=6 if mode == "slow" else 60)  # a busy machine can take seconds for a real answer
    with pytest.raises(BackendUnavailable) as err:
        _run(spec, db_path, data_dir, SUBSETS[:2])
    text = str(err.value)
    assert "\n" not in text and message in text and "run the same command again" in text
    ok, n_err, info = _counts(db_path)
    assert ok == 2 and n_err == 0 and info == ["failed"], info  # subset 1 kept; the all-failed batch was not stored
    proxy.reset()  # the server behaves again
    summary = _run(spec, db_path, data_dir, SUBSETS[:2])
    assert [(r.subset, r.new, r.reused, r.errors) for r in summary.rows[:2]] == [(SUBSETS[0], 0, 2, 0), (SUBSETS[1], 2, 0, 0)]
    assert _counts(db_path)[0] == 4


def test_transient_faults_are_retried(proxy, data_dir, db_path):
    proxy.reset(mode="500", after=0, every=2)  # every other request fails: one retry each time is enough
    summary = _run(_spec(proxy, retries=2, breaker=3), db_path, data_dir, SUBSETS[:1], limit=3)
    assert summary.rows[0].errors == 0 and summary.rows[0].n == 3
    assert proxy.injected >= 2
    proxy.reset(mode="malformed", after=0, every=2)
    summary = _run(_spec(proxy, retries=2, breaker=3), db_path, data_dir, SUBSETS[1:2], limit=2)
    assert summary.rows[0].errors == 0 and proxy.injected >= 1


def test_server_killed_mid_run_keeps_finished_items_and_resumes(server, proxy, data_dir, db_path):
    proxy.reset(mode="kill", after=3, on_kill=server.kill)  # dies while subset 2's batch is in flight
    spec = _spec(proxy)
    with pytest.raises(BackendUnavailable) as err:
        _run(spec, db_path, data_dir, SUBSETS)
    assert "stopped answering" in str(err.value) and "cannot reach" in str(err.value)
    ok, n_err, info = _counts(db_path)
    assert ok == 3 and n_err == 1 and info[0] == "failed", info  # subset 2's finished item kept from the broken batch
    server.start()
    summary = _run(spec, db_path, data_dir, SUBSETS)
    assert sum(r.new for r in summary.rows[:3]) == 3 and sum(r.reused for r in summary.rows[:3]) == 3
    assert all(r.errors == 0 for r in summary.rows) and _counts(db_path)[0] == 6
