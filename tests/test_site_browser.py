"""The site built from real runs, opened in headless Chromium.

Real parts: both shipped models and two quantization levels derived from SmolLM2 with llama.cpp's own
quantize function run on two MMLU subjects (--limit 3, 0-shot) through evalkit's runner into a real
DuckDB file; `evalkit site build` renders it; Chromium (Playwright) opens every page from the file system.

Rows that real code does not produce yet are inserted here and say so in their own text:
- ``cells`` (RAM, speed, cost per model) and ``ladder`` (KL divergence): TEST-INSERTED until the matrix
  issue (measured cells, `evalkit quantize`) is merged;
- ``reference_points``: published figures with their sources (GPT-4 Technical Report, Llama 2 paper);
- one item output, one run warning and one reference name are replaced by hostile markup.
Reasoning-depth and context-length suites do not exist yet (suites issue), so those pages must say
"no data yet".
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
SUBJECTS = ["high_school_geography", "world_religions"]
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
CHROMIUM = "/usr/bin/chromium"
MAIN_PAGES = ["index.html", "tradeoffs.html", "ladder.html", "reasoning.html", "context.html", "mmlu.html", "runs.html", "method.html"]
# Published frontier figures (MMLU, 5-shot) with their sources; prices are the launch list prices.
REFERENCES = [
    ("gpt-4-2023-03", "GPT-4 (2023-03)", 86.4, 30.0, 60.0, "OpenAI, GPT-4 Technical Report (arXiv:2303.08774), Table 2; price: OpenAI, March 2023"),
    ("gpt-3.5-2023-03", "GPT-3.5 (2023-03)", 70.0, 2.0, 2.0, "OpenAI, GPT-4 Technical Report (arXiv:2303.08774), Table 2; price: gpt-3.5-turbo, March 2023"),
    ("llama-2-70b", "Llama 2 70B", 68.9, None, None, "Touvron et al., Llama 2 (arXiv:2307.09288), Table 3"),
]  # fmt: skip


@contextmanager
def _quiet_stderr():
    """llama.cpp prints quantization progress on fd 2 from C: silence it at the file-descriptor level."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quantize(src: Path, dst: Path, ftype: int) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = 2
    with _quiet_stderr():
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    assert rc == 0 and dst.stat().st_size > 0
    return dst


def _add_rows_real_code_does_not_write_yet(db: Path) -> None:
    from evalkit.store import Store

    with Store(db) as store:
        con = store.con
        for ref_id, model, value, usd_in, usd_out, source in REFERENCES:
            con.execute(
                "INSERT INTO reference_points (ref_id, model, suite, subset, metric, value, shots, usd_per_mtok_in, "
                "usd_per_mtok_out, source) VALUES (?, ?, 'mmlu', 'all', 'accuracy', ?, 5, ?, ?, ?)",
                [ref_id, model, value, usd_in, usd_out, source],
            )
        models = con.execute("SELECT model_id, file_size, quant_type FROM models").fetchall()
        run_of = dict(con.execute("SELECT model_id, max(run_id) FROM items GROUP BY model_id").fetchall())
        for model_id, size, _ in models:  # TEST-INSERTED: plausible figures, not measurements
            tg = 4e9 / size
            con.execute(
                "INSERT INTO cells (run_id, model_id, status, backend, threads, cpu, peak_rss_bytes, load_seconds, pp_tps, "
                "tg_tps, ttft_ms_median, ttft_ms_p95, usd_per_mtok_in, usd_per_mtok_out, details) VALUES "
                "(?, ?, 'complete', 'TEST-INSERTED', 2, 'TEST-INSERTED', ?, 0.3, ?, ?, ?, ?, ?, ?, ?)",
                [run_of[model_id], model_id, int(size * 1.2 + 1.5e8), tg * 10, tg, 4e4 / tg, 6e4 / tg, 1.0 / tg, 3.0 / tg,
                 json.dumps({"TEST-INSERTED": "issue 4 (measured cells) not merged yet"})],
            )  # fmt: skip
        source = con.execute("SELECT model_id FROM models WHERE name = 'smollm2-135m'").fetchone()[0]
        for model_id, _, quant in models:
            kl = {"Q4_1": 0.0, "Q4_0": 0.02, "Q2_K": 0.4}.get(quant)
            if kl is not None:  # TEST-INSERTED ladder rows (KL is measured by the matrix issue's code)
                con.execute(
                    "INSERT INTO ladder SELECT ?, model_id, quant_type, bits_per_weight, ?, ?, ?, 0, 'TEST-INSERTED', now() "
                    "FROM models WHERE model_id = ?",
                    [source, kl, 1 - kl, 20 * (1 + kl), model_id],
                )
        con.execute("UPDATE items SET output = ? WHERE rowid = (SELECT min(rowid) FROM items)", [HOSTILE])
        con.execute("UPDATE reference_points SET model = model || ? WHERE ref_id = 'llama-2-70b'", [HOSTILE])
        con.execute("UPDATE runs SET warnings = ? WHERE run_id = (SELECT min(run_id) FROM runs)", [json.dumps([HOSTILE])])


@pytest.fixture(scope="module")
def real_db(tmp_path_factory, data_dir, smollm2_path, gemma_path) -> Path:
    import llama_cpp

    from evalkit.runner import RunConfig, SuiteSelection, run

    tmp = tmp_path_factory.mktemp("site-real")
    db = tmp / "results.duckdb"
    levels = [quantize(smollm2_path, tmp / f"SmolLM2-135M-Instruct.{name}.gguf", ftype)
              for name, ftype in (("Q4_0", llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0), ("Q2_K", llama_cpp.LLAMA_FTYPE_MOSTLY_Q2_K))]  # fmt: skip
    sel = [SuiteSelection("mmlu", SUBJECTS, limit=3, shots=0)]
    for models in (["smollm2-135m", "gemma3-270m"], [str(p) for p in levels]):
        summary = run(RunConfig(models=models, suites=sel, db=db, data_dir=str(data_dir), command="evalkit run (test_site_browser)"))
        assert summary.status == "complete"
    _add_rows_real_code_does_not_write_yet(db)
    return db


@pytest.fixture(scope="module")
def site(real_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site-out") / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "site", "build", "--db", str(real_db), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "site built" in proc.stdout
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does).")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield b
        b.close()


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression from Python (the pages' Content-Security-Policy forbids the eval()
    that Playwright's wait_for_function uses)."""
    deadline = time.time() + timeout
    while not page.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)


class Tab:
    """A page that records console errors, script errors, failed loads and any request off the file system."""

    def __init__(self, browser, width: int = 1280, height: int = 900):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: None if r.url.startswith("file://") else self.problems.append(f"network: {r.url}"))

    def open(self, path: Path):
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def close(self):
        self.page.close()


def figures(page) -> list[dict]:
    return page.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => ({
            id: d.id,
            traces: d.data.map(t => ({name: t.name, type: t.type, n: (t.type === 'heatmap' ? t.z.length : (t.x || []).length),
                                      text: (t.text || []).length, custom: (t.customdata || []).length,
                                      hover: t.hovertemplate || '', visible: t.visible, cols: t.type === 'heatmap' ? t.x.length : 0,
                                      symbol: t.marker ? t.marker.symbol : null, mode: t.mode})),
        }))"""
    )


def test_every_page_renders_without_errors_or_network(site, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = [site / p for p in MAIN_PAGES] + sorted((site / "runs").glob("*.html")) + sorted((site / "models").glob("*.html"))
    assert len(pages) == len(MAIN_PAGES) + 2 + 4  # two runs, four model files
    tab = Tab(browser)
    for path in pages:
        page = tab.open(path)
        assert page.title().endswith("evalkit results"), path
        if path.parent == site:
            page.screenshot(path=str(SHOTS / f"{path.stem}.png"), full_page=True)
    run_page = sorted((site / "runs").glob("*.html"))[0]
    tab.open(run_page).screenshot(path=str(SHOTS / "run.png"))
    tab.open(sorted((site / "models").glob("*.html"))[0]).screenshot(path=str(SHOTS / "model.png"), full_page=True)
    tab.close()
    phone = Tab(browser, width=390, height=844)
    for name in ("index.html", "tradeoffs.html", "mmlu.html"):
        page = phone.open(site / name)
        page.screenshot(path=str(SHOTS / f"phone-{Path(name).stem}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways on a phone by {overflow}px"
    phone.close()
    assert tab.problems == [] and phone.problems == []


def test_tradeoff_charts_have_models_frontier_and_published_points(site, browser):
    tab = Tab(browser)
    figs = {f["id"]: f for f in figures(tab.open(site / "tradeoffs.html"))}
    assert set(figs) == {"tradeoff-ram-mmlu", "tradeoff-tps-mmlu", "tradeoff-usd-mmlu"}
    for fig in figs.values():
        by_name = {t["name"]: t for t in fig["traces"]}
        assert by_name["smollm2-135m"]["n"] == 3 and by_name["gemma3-270m"]["n"] == 1  # Q4_1, Q4_0, Q2_K; Q4_K_M
        assert by_name["Pareto frontier"]["n"] >= 1
        for t in fig["traces"]:
            if t["name"] in ("smollm2-135m", "gemma3-270m"):
                assert t["text"] == t["n"] and t["hover"] == "%{text}<extra></extra>"  # hover on every point
        published = [t for t in fig["traces"] if t["name"] == "published (frontier)"]
        assert published and all(t["custom"] == t["n"] for t in published)
    usd = [t for t in figs["tradeoff-usd-mmlu"]["traces"] if t["name"] == "published (frontier)"]
    # GPT-4 and GPT-3.5 have prices: star points; Llama 2 has none: a dotted line at its score
    assert [(t["mode"], t["n"], t["symbol"]) for t in usd] == [("markers+text", 2, "star"), ("lines+markers+text", 2, "star")]
    ram = [t for t in figs["tradeoff-ram-mmlu"]["traces"] if t["name"] == "published (frontier)"]
    assert len(ram) == 3 and all(t["mode"] == "lines+markers+text" for t in ram)  # no RAM is published: a line each
    labels = tab.page.evaluate("document.getElementById('tradeoff-usd-mmlu').data.find(t => t.name.startsWith('published')).text")
    assert all(label.endswith("(published)") for label in labels)
    # legends toggle: clicking a legend entry hides that trace
    tab.page.locator("#tradeoff-ram-mmlu .legend .traces .legendtoggle").first.click()
    wait_until(tab.page, "document.getElementById('tradeoff-ram-mmlu').data[0].visible === 'legendonly'")
    assert tab.problems == []
    tab.close()


def test_ladder_heatmap_and_knob_pages(site, browser):
    tab = Tab(browser)
    figs = {f["id"]: f for f in figures(tab.open(site / "ladder.html"))}
    kl = figs["ladder-kl"]["traces"]
    assert [(t["name"], t["n"]) for t in kl] == [("smollm2-135m", 2)]  # Q4_0 and Q2_K against the Q4_1 source
    quality = {t["name"]: t["n"] for t in figs["ladder-quality-mmlu"]["traces"]}
    assert quality == {"smollm2-135m": 3, "gemma3-270m": 1}
    heat = figures(tab.open(site / "mmlu.html"))
    assert len(heat) == 1 and heat[0]["traces"][0]["n"] == 4 and heat[0]["traces"][0]["cols"] == 2
    # Until the suites issue lands there are no steps_NN / ctx_N subsets: the pages say so instead of breaking.
    for name in ("reasoning.html", "context.html"):
        page = tab.open(site / name)
        assert figures(page) == [] and "No " in page.inner_text(".empty")
    assert tab.problems == []
    tab.close()


def _column(page, index: int) -> list[str]:
    return page.evaluate(
        f"Array.from(document.querySelectorAll('#leaderboard tbody tr')).filter(r => !r.hidden)"
        f".map(r => r.children[{index}].getAttribute('data-sort'))"
    )


def test_leaderboard_sorts_and_filters(site, browser):
    tab = Tab(browser)
    page = tab.open(site / "index.html")
    headers = page.eval_on_selector_all("#leaderboard thead th", "ths => ths.map(t => t.textContent.trim())")
    assert headers[:9] == ["Model", "Quant", "Params", "File", "Peak RAM", "pp tok/s", "tg tok/s", "TTFT ms", "$/1M tok"]
    assert headers[9:] == ["mmlu", "Mean"]
    assert page.locator("#leaderboard tbody tr").count() == 4
    page.click("#leaderboard thead th:nth-child(4) button")  # File: smallest first
    sizes = [float(v) for v in _column(page, 3)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4
    page.click("#leaderboard thead th:nth-child(4) button")  # again: largest first
    assert [float(v) for v in _column(page, 3)] == sorted(sizes, reverse=True)
    page.click("#leaderboard thead th:nth-child(1) button")  # Model: A→Z
    names = _column(page, 0)
    assert names == sorted(names)
    page.fill("#lb-filter", "gemma")
    assert _column(page, 0) == ["gemma3-270m · q4_k_m"]
    page.fill("#lb-filter", "")
    page.select_option("#lb-quant", "Q2_K")
    assert len(_column(page, 0)) == 1 and "q2_k" in _column(page, 0)[0]
    assert tab.problems == []
    tab.close()


def test_injected_markup_is_shown_as_text_and_never_runs(site, real_db, browser, tmp_path):
    from evalkit.site import build_site

    import duckdb

    with duckdb.connect(str(real_db), read_only=True) as con:
        run_id, spec = con.execute(
            "SELECT i.run_id, m.spec FROM items i JOIN models m USING (model_id) WHERE i.output = ?", [HOSTILE]
        ).fetchone()
    tab = Tab(browser)
    page = tab.open(site / "runs" / f"{run_id}.html")
    option = page.locator("#ib-group option", has_text=spec).first.get_attribute("value")
    page.select_option("#ib-group", option)
    wait_until(page, "document.querySelectorAll('#ib-list .item').length > 0")
    assert HOSTILE in page.inner_text("#ib-list")  # shown as text...
    assert page.locator("#ib-list script, #ib-list img").count() == 0  # ...not turned into elements
    for path in [site / "runs" / f"{run_id}.html", site / "tradeoffs.html", site / "method.html", site / "runs.html"]:
        if path != site / "runs" / f"{run_id}.html":
            page = tab.open(path)
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
    assert "Llama 2 70B" + HOSTILE in tab.open(site / "method.html").inner_text("main")
    # Paging: a build with 2 items per page shows 3 pages per model × suite (3 items × 2 subjects).
    small = build_site(real_db, tmp_path / "paged", per_page=2)
    assert small.items == 24
    page = tab.open(sorted((tmp_path / "paged" / "runs").glob("*.html"))[0])
    page.wait_for_selector("#ib-list .item")
    assert "page 1 of 3" in page.inner_text("#ib-pos") and page.locator("#ib-list .item").count() == 2
    page.click("#ib-next")
    wait_until(page, "document.getElementById('ib-pos').textContent.startsWith('page 2 of 3')")
    page.select_option("#ib-subset", label=SUBJECTS[1])
    wait_until(page, "document.getElementById('ib-pos').textContent.startsWith('page 2 of 3')")
    assert SUBJECTS[1] in page.inner_text("#ib-list")
    assert tab.problems == []
    tab.close()
