"""`evalkit site build` / `serve` without a browser: bad input, safe output folders, escaping, empty databases.

The databases here are real DuckDB files written through evalkit's Store, with hand-written rows (unit tests
of the site's logic). The browser test in test_site_browser.py builds from real model runs.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from evalkit.cli import main
from evalkit.site import build_site
from evalkit.site.figures import pareto
from evalkit.site.fmt import redact, safe_json
from evalkit.site.output import MARKER
from evalkit.site.queries import family_name
from evalkit.store import ItemRow, Store

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
PAGES = ["index.html", "tradeoffs.html", "ladder.html", "reasoning.html", "context.html", "mmlu.html", "runs.html", "method.html"]


def write_db(path: Path, hostile: bool = False) -> Path:
    """A small results database: one run, one model, four MMLU items (two subjects), one metric row."""
    text = HOSTILE if hostile else "plain"
    with Store(path) as store:
        store.start_run("run-1", f"evalkit run {text}", {"models": ["m"], "db": "/home/someone/private/x.duckdb", "api_key": "sk-secret"},
                        {"cpu": "Test CPU", "cores": 2}, "0.1.0")  # fmt: skip
        store.upsert_model("a" * 64, "tiny", f"tiny {text}" if hostile else "tiny",
                           {"quant_type": "Q4_0", "n_params": 1000, "file_size": 2000, "bits_per_weight": 4.5,
                            "architecture": "llama", "path": "/home/someone/models/tiny.gguf"})  # fmt: skip
        rows = [
            ItemRow(model_id="a" * 64, eval_key=f"k{i}", suite="mmlu", suite_version="1", suite_hash="h",
                    subset=("anatomy", "virology")[i % 2], item_id=f"it{i}", prompt_hash=f"p{i}", prediction="A",
                    target="A" if i < 3 else "B", correct=i < 3, score=float(i < 3), choices=list("ABCD"),
                    probs=[0.4, 0.3, 0.2, 0.1], output=text, details={"shots": 0})
            for i in range(4)
        ]  # fmt: skip
        store.add_items("run-1", rows)
        store.add_metrics("run-1", "a" * 64, [{"suite": "mmlu", "suite_version": "1", "subset": "all", "metric": "accuracy",
                                              "value": 0.75, "ci_low": 0.3, "ci_high": 0.95, "n": 4}])  # fmt: skip
        store.con.execute(
            "INSERT INTO reference_points (ref_id, model, suite, subset, metric, value, source) VALUES (?, ?, 'mmlu', 'all', 'accuracy', 86.4, ?)",
            ["r1", f"Frontier {text}", f"a report {text}"],
        )
        store.finish_run("run-1", "complete", [f"warning {text}"])
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_safe_json_cannot_end_a_script_block():
    text = safe_json({"a": "</script><!-- & \u2028", "b": float("nan")})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028", "b": None}


def test_pareto_frontier_keeps_only_undominated_points():
    pts = [{"x": 1, "y": 0.3}, {"x": 2, "y": 0.5}, {"x": 3, "y": 0.4}, {"x": 4, "y": 0.7}, {"x": 4, "y": 0.6}]
    assert [(p["x"], p["y"]) for p in pareto(pts, minimize_x=True)] == [(1, 0.3), (2, 0.5), (4, 0.7)]
    # higher x is better (tokens/s): (4, 0.7) beats everything at or below 0.7
    assert [(p["x"], p["y"]) for p in pareto(pts, minimize_x=False)] == [(4, 0.7)]


def test_family_name_and_redaction():
    assert family_name(["smollm2-135m", "SmolLM2-135M-Instruct.Q4_0"]) == "smollm2-135m"
    assert family_name(["Qwen2.5-0.5B-Instruct-Q4_K_M", "Qwen2.5-0.5B-Instruct-Q8_0"]) == "Qwen2.5-0.5B-Instruct"
    public = redact({"path": "/home/u/m.gguf", "api_key": "sk-1", "argv": ["--db=/home/u/x.duckdb", "run"], "n": 3})
    assert public == {"path": "m.gguf", "api_key": "(redacted)", "argv": ["--db=x.duckdb", "run"], "n": 3}


def test_empty_database_builds_every_page_with_no_data_notes(tmp_path):
    db = tmp_path / "empty.duckdb"
    Store(db).close()
    report = build_site(db, tmp_path / "site")
    assert report.pages == len(PAGES) and report.items == 0
    for page in PAGES:
        html = (tmp_path / "site" / page).read_text()
        assert 'class="empty"' in html, page
    assert "No data yet: run <code>evalkit run</code>" in (tmp_path / "site" / "index.html").read_text()
    assert (tmp_path / "site" / "assets" / "plotly.min.js").stat().st_size > 1_000_000


def test_hostile_strings_are_escaped_everywhere(tmp_path):
    db = write_db(tmp_path / "r.duckdb", hostile=True)
    build_site(db, tmp_path / "site")
    site = tmp_path / "site"
    for path in list(site.rglob("*.html")) + list((site / "items").rglob("*.js")):
        text = path.read_text()
        assert "<script>window" not in text and "<img src=x" not in text, path
    html = (site / "runs" / "run-1.html").read_text()
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # the command, shown as text
    items = next((site / "items").rglob("*.js")).read_text()
    assert "\\u003cscript>window.__pwned=1" in items
    # local paths and secrets from the run configuration are not published
    everything = "".join(p.read_text() for p in site.rglob("*.html"))
    assert "/home/someone" not in everything and "sk-secret" not in everything


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    cases = [
        ["site", "build", "--db", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "s1")],
        ["site", "build", "--db", str(text_file), "--out", str(tmp_path / "s2")],
        ["site", "build", "--db", str(tmp_path), "--out", str(tmp_path / "s3")],
    ]
    other = tmp_path / "other.duckdb"
    import duckdb

    duckdb.connect(str(other)).execute("CREATE TABLE t (x INT)").close()
    cases.append(["site", "build", "--db", str(other), "--out", str(tmp_path / "s4")])
    for args in cases:
        code, out, err = run_cli(args, capsys)
        assert code == 2, (args, err)
        assert err.startswith("evalkit: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert text_file.read_text() == "not a database"
    assert not any(p.name.startswith(".s") for p in tmp_path.iterdir())  # no staging folders left behind


def test_refuses_to_overwrite_a_folder_that_is_not_a_site(tmp_path, capsys):
    db = write_db(tmp_path / "r.duckdb")
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    code, _, err = run_cli(["site", "build", "--db", str(db), "--out", str(precious)], capsys)
    assert code == 2 and "refusing to overwrite" in err
    assert [p.name for p in precious.iterdir()] == ["thesis.tex"]
    # a regular file as --out, or an --out whose parent is a file, are refused too
    code, _, err = run_cli(["site", "build", "--db", str(db), "--out", str(precious / "thesis.tex")], capsys)
    assert code == 2 and "not a folder" in err
    code, _, err = run_cli(["site", "build", "--db", str(db), "--out", str(precious / "thesis.tex" / "site")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_rebuild_replaces_a_site_and_a_failed_build_keeps_the_old_one(tmp_path, capsys, monkeypatch):
    db = write_db(tmp_path / "r.duckdb")
    out = tmp_path / "site"
    code, stdout, _ = run_cli(["site", "build", "--db", str(db), "--out", str(out)], capsys)
    assert code == 0 and "site built" in stdout and (out / MARKER).is_file()
    (out / "stale.html").write_text("from an older build")
    build_site(db, out)
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    before = (out / "index.html").read_text()

    from evalkit.site import build as build_mod

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash half-way")

    monkeypatch.setattr(build_mod.tables, "runs_list", boom)
    with pytest.raises(RuntimeError):
        build_site(db, out)
    assert (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.duckdb", "site"]  # no staging or old folders


def test_build_reads_the_database_without_changing_it(tmp_path):
    db = write_db(tmp_path / "r.duckdb")
    before = db.read_bytes()
    build_site(db, tmp_path / "site")
    assert db.read_bytes() == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_http_on_localhost(tmp_path, capsys):
    db = write_db(tmp_path / "r.duckdb")
    out = tmp_path / "site"
    build_site(db, out)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalkit", "site", "serve", "--dir", str(out), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line
        deadline, resp = time.time() + 20, None
        while time.time() < deadline:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert resp is not None and resp.status_code == 200 and "Leaderboard" in resp.text
        js = httpx.get(f"http://127.0.0.1:{port}/assets/site.js", timeout=5)
        assert js.status_code == 200 and "EVALKIT_ITEMS" in js.text
        # the same port again: one-line error, exit 2
        code, _, err = run_cli(["site", "serve", "--dir", str(out), "--port", str(port)], capsys)
        assert code == 2 and "in use" in err
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    code, _, err = run_cli(["site", "serve", "--dir", str(tmp_path), "--port", "0"], capsys)
    assert code == 2 and "not a built site" in err


def test_pages_link_only_to_local_files(tmp_path):
    build_site(write_db(tmp_path / "r.duckdb"), tmp_path / "site")
    for path in (tmp_path / "site").rglob("*.html"):
        refs = re.findall(r'(?:src|href)="([^"]+)"', path.read_text())
        assert refs and all(not r.startswith(("http:", "https:", "//")) for r in refs), (path, refs)


def test_measurements_reach_leaderboard_model_and_run_pages(tmp_path):
    db = write_db(tmp_path / "r.duckdb")
    with Store(db) as store:
        store.con.execute("ALTER TABLE cells ADD COLUMN joules_per_item DOUBLE")  # as a later migration might
        store.con.execute(
            "INSERT INTO cells (run_id, model_id, status, peak_rss_bytes, pp_tps, tg_tps, ttft_ms_median, usd_per_mtok_in, "
            "usd_per_mtok_out, usd_per_1k_items, joules_per_item) "
            "VALUES ('run-1', ?, 'complete', 123456789, 250.5, 42.25, 87.0, 0.01, 0.05, 0.321, 7.125)",
            ["a" * 64],
        )
    build_site(db, tmp_path / "site")
    board = (tmp_path / "site" / "index.html").read_text()
    for shown in ("123 MB", "250", "42.2", "87", "$0.0200", "75.0%"):  # blend: (3 × 0.01 + 0.05) / 4 = 0.02
        assert shown in board, shown
    model = next((tmp_path / "site" / "models").glob("*.html")).read_text()
    assert "usd per 1k items" in model and "0.321" in model and "joules per item" in model and "7.125" in model
    assert "joules per item" in (tmp_path / "site" / "runs" / "run-1.html").read_text()


def test_a_folder_holding_only_a_readme_is_built_into_and_the_readme_kept(tmp_path):
    db = write_db(tmp_path / "r.duckdb")
    out = tmp_path / "site"
    out.mkdir()
    (out / "README.md").write_text("The generated static site is written here.\n")
    build_site(db, out)
    build_site(db, out)  # and again over the built site
    assert (out / "README.md").read_text() == "The generated static site is written here.\n"
    assert (out / "index.html").is_file() and (out / MARKER).is_file()
