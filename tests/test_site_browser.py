"""The site built from real runs, opened in headless Chromium.

Real parts: a matrix run file (`evalkit run -c`) evaluates both shipped models and two quantization levels
derived from SmolLM2 by llama.cpp's quantize function (Q4_0, Q2_K) on three suites (3 items each): two MMLU
subjects (0-shot), AG News (classification) and CoNLL-2003 (JSON extraction, 0-shot),
each model file in its own worker process that measures peak RAM, pp/tg tokens/s, TTFT and cost, and the
quantization ladder (KL divergence, top-1 agreement, perplexity) against the source; the runner also loads
the bundled published reference points. `evalkit site build` renders the database; Chromium (Playwright)
opens every page from the file system.

A second matrix run evaluates SmolLM2 (Q4_1 and Q4_0) on the built-in generated suites that feed the
reasoning-depth and context-length pages: `reasoning` (steps_01, steps_04) and `documents` (ctx_0, ctx_300).
To fit the test budget they run from copies of the shipped suite files with only the token limits cut
(reasoning max_tokens 384 → 48, documents max_tokens 192 → 64 and context sizes [0, 1000, 2000] → [0, 300]).

Test injections (not results): one item output, one run warning and one reference name are replaced by
hostile markup, to prove it is shown as text and never runs.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
SUBJECTS = ["high_school_geography", "world_religions"]
MATRIX_SUITES = ["ag_news", "conll2003", "mmlu"]  # all four model files
GENERATED_SUITES = ["documents", "reasoning"]  # SmolLM2 Q4_1 and Q4_0
SUITES = sorted(MATRIX_SUITES + GENERATED_SUITES)
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
def _chromium() -> str:
    """Debian's chromium (what .ci/run installs), or $EVALKIT_CHROMIUM, or one on PATH."""
    for cand in (os.environ.get("EVALKIT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and Path(cand).exists():
            return cand
    return "/usr/bin/chromium"


CHROMIUM = _chromium()
MAIN_PAGES = ["index.html", "tradeoffs.html", "ladder.html", "reasoning.html", "context.html", "mmlu.html", "runs.html", "method.html"]
RUN_FILE = """
[run]
db = "results.duckdb"
data_dir = "{data_dir}"

[[models]]
model = "smollm2-135m"
quants = ["source", "Q4_0", "Q2_K"]

[[models]]
model = "gemma3-270m"
quants = ["source"]

[[suites]]
suite = "mmlu"
subsets = {subjects}
limit = 3
shots = 0

[[suites]]        # classification: label log-probability, macro-F1, confusion matrix
suite = "ag_news"
limit = 3

[[suites]]        # extraction: JSON generation, entity-level F1
suite = "conll2003"
limit = 3
shots = 0

[bench]          # a short micro-benchmark: the figures are real, only less precise than the defaults
pp_tokens = 48
tg_tokens = 8
repetitions = 1
ttft_runs = 3

[quality]
n_ctx = 64
max_chunks = 2
"""


GENERATED_RUN_FILE = """
[run]
db = "results.duckdb"

[[models]]
model = "smollm2-135m"
quants = ["source", "Q4_0"]

[[suites]]
suite = "{reasoning}"
subsets = ["steps_01", "steps_04"]
limit = 2

[[suites]]
suite = "{documents}"
subsets = ["ctx_0", "ctx_300"]
limit = 2

[bench]
pp_tokens = 48
tg_tokens = 8
repetitions = 1
ttft_runs = 3

[quality]
enabled = false
"""


def _cut_suite(name: str, out: Path, edits: list[tuple[str, str]]) -> Path:
    """A copy of a shipped suite file with some settings changed (each edit must apply)."""
    text = (ROOT / "suites" / f"{name}.toml").read_text()
    for old, new in edits:
        assert old in text, (name, old)
        text = text.replace(old, new)
    out.write_text(text)
    return out


def evalkit(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=timeout)  # fmt: skip


def _inject_hostile_markup(db: Path) -> None:
    from evalkit.store import Store

    with Store(db) as store:
        con = store.con
        con.execute("UPDATE items SET output = ? WHERE rowid = (SELECT min(rowid) FROM items)", [HOSTILE])
        con.execute("UPDATE reference_points SET model = model || ? WHERE ref_id = (SELECT min(ref_id) FROM reference_points)", [HOSTILE])
        con.execute("UPDATE runs SET warnings = ? WHERE run_id = (SELECT min(run_id) FROM runs)", [json.dumps([HOSTILE])])


@pytest.fixture(scope="module")
def real_db(tmp_path_factory, data_dir) -> Path:
    tmp = tmp_path_factory.mktemp("site-real")
    run_file = tmp / "evalkit.toml"
    run_file.write_text(RUN_FILE.format(data_dir=data_dir, subjects=json.dumps(SUBJECTS)))
    proc = evalkit("run", "-c", str(run_file))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    reasoning = _cut_suite("reasoning", tmp / "reasoning.toml", [("max_tokens = 384", "max_tokens = 48")])
    documents = _cut_suite("documents", tmp / "documents.toml", [("max_tokens = 192", "max_tokens = 64"),
                           ("context_tokens = [0, 1000, 2000]", "context_tokens = [0, 300]")])  # fmt: skip
    run_file.write_text(GENERATED_RUN_FILE.format(reasoning=reasoning, documents=documents))
    proc = evalkit("run", "-c", str(run_file))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    _inject_hostile_markup(tmp / "results.duckdb")
    return tmp / "results.duckdb"


@pytest.fixture(scope="module")
def site(real_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site-out") / "site"
    proc = evalkit("site", "build", "--db", str(real_db), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "site built" in proc.stdout
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does) or set EVALKIT_CHROMIUM.")
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


def _db(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_every_page_renders_without_errors_or_network(site, real_db, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = [site / p for p in MAIN_PAGES] + sorted((site / "runs").glob("*.html")) + sorted((site / "models").glob("*.html"))
    n_runs = _db(real_db, "SELECT count(*) FROM runs")[0][0]
    assert len(pages) == len(MAIN_PAGES) + n_runs + 4  # four model files: Q4_1 (shipped), Q4_0, Q2_K; Q4_K_M
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


def test_tradeoff_charts_have_models_frontier_and_published_points(site, real_db, browser):
    tab = Tab(browser)
    every = {f["id"]: f for f in figures(tab.open(site / "tradeoffs.html"))}
    assert set(every) == {f"tradeoff-{axis}-{suite}" for axis in ("ram", "tps", "usd") for suite in SUITES}
    for fig_id, fig in every.items():
        by_name = {t["name"]: t for t in fig["traces"]}
        if fig_id.rsplit("-", 1)[1] in MATRIX_SUITES:
            assert by_name["smollm2-135m"]["n"] == 3 and by_name["gemma3-270m"]["n"] == 1, fig_id
        else:
            assert by_name["smollm2-135m"]["n"] == 2 and "gemma3-270m" not in by_name, fig_id
    figs = {k: v for k, v in every.items() if k.endswith("-mmlu")}  # the bundled references are MMLU scores
    for fig in figs.values():
        by_name = {t["name"]: t for t in fig["traces"]}
        assert by_name["smollm2-135m"]["n"] == 3 and by_name["gemma3-270m"]["n"] == 1  # Q4_1, Q4_0, Q2_K; Q4_K_M
        assert by_name["Pareto frontier"]["n"] >= 1
        for t in fig["traces"]:
            if t["name"] in ("smollm2-135m", "gemma3-270m"):
                assert t["text"] == t["n"] and t["hover"] == "%{text}<extra></extra>"  # hover on every point
        published = [t for t in fig["traces"] if t["name"] == "published (frontier)"]
        assert published and all(t["custom"] == t["n"] for t in published)
    priced, unpriced = _db(real_db, "SELECT count(usd_per_mtok_in), count(*) - count(usd_per_mtok_in) FROM reference_points WHERE suite = 'mmlu'")[0]
    assert priced >= 1 and unpriced >= 1  # the bundled reference file has both kinds
    usd = [t for t in figs["tradeoff-usd-mmlu"]["traces"] if t["name"] == "published (frontier)"]
    # references with a price: star points on the $ chart; without: a dotted line at their score, star on it
    assert [(t["mode"], t["n"], t["symbol"]) for t in usd[:1]] == [("markers+text", priced, "star")]
    assert len(usd) == 1 + unpriced and all(t["mode"] == "lines+markers+text" for t in usd[1:])
    ram = [t for t in figs["tradeoff-ram-mmlu"]["traces"] if t["name"] == "published (frontier)"]
    assert len(ram) == priced + unpriced and all(t["mode"] == "lines+markers+text" for t in ram)  # no RAM is published
    names = [html.escape(n, quote=False) for (n,) in _db(real_db, "SELECT model FROM reference_points WHERE suite = 'mmlu'")]
    for fig_id in figs:  # every reference is named in a label ending "(published)"; close ones share a label
        labels = tab.page.evaluate(f"document.getElementById('{fig_id}').data.filter(t => t.name.startsWith('published'))"
                                   ".flatMap(t => t.text).filter(x => x)")
        assert labels and all(label.endswith("(published)") for label in labels)
        assert all(any(name in label for label in labels) for name in names), (fig_id, labels)
    # legends toggle: clicking a legend entry hides that trace
    tab.page.select_option("select.section-switch", "mmlu")  # one suite is shown at a time
    assert tab.page.locator("#tradeoff-ram-mmlu").is_visible() and not tab.page.locator("#tradeoff-ram-ag_news").is_visible()
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
    assert set(figs) == {"ladder-kl"} | {f"ladder-quality-{s}" for s in SUITES}
    heat = figures(tab.open(site / "mmlu.html"))
    assert len(heat) == 1 and heat[0]["traces"][0]["n"] == 4 and heat[0]["traces"][0]["cols"] == 2
    # The classification suite's confusion matrix (gold × predicted counts) is on each model page.
    page = tab.open(next((site / "models").glob("*.html")))
    assert page.locator("table.confusion").count() == 1 and "ag_news" in page.inner_text("main")
    # Reasoning depth and context length: a line per model file, a point per steps_NN / ctx_N subset.
    for name, fig_id, xs in (("reasoning.html", "knob-reasoning", [1, 4]), ("context.html", "knob-documents", [0, 300])):
        page = tab.open(site / name)
        figs = figures(page)
        assert [f["id"] for f in figs] == [fig_id]
        assert sorted(t["name"] for t in figs[0]["traces"]) == ["smollm2-135m · Q4_0", "smollm2-135m · Q4_1"]
        assert all(t["n"] == 2 and t["text"] == 2 for t in figs[0]["traces"])
        assert page.evaluate(f"document.getElementById('{fig_id}').data.map(t => t.x.join(','))") == [",".join(map(str, xs))] * 2
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
    assert headers[9:] == SUITES + ["Mean"]
    assert page.locator("#leaderboard tbody tr").count() == 4
    ram = [float(v) for v in _column(page, 4)]  # measured by the workers (peak RSS), so every row has one
    assert len(ram) == 4 and all(v > 5e7 for v in ram)
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


def test_injected_markup_is_shown_as_text_and_never_runs(site, real_db, browser, tmp_path, monkeypatch):
    from evalkit.site import build_site

    run_id, model_id, suite, item_id = _db(real_db, "SELECT run_id, model_id, suite, item_id FROM items WHERE output = ?", [HOSTILE])[0]
    label = _db(real_db, "SELECT name || ' · ' || quant_type FROM models WHERE model_id = ?", [model_id])[0][0]
    reference = _db(real_db, "SELECT model FROM reference_points WHERE model LIKE '%<script>%'")[0][0]
    tab = Tab(browser)
    page = tab.open(site / "runs" / f"{run_id}.html")
    option = page.locator("#ib-group option", has_text=f"{label} — {suite} (").first.get_attribute("value")
    page.select_option("#ib-group", option)
    wait_until(page, f"Array.from(document.querySelectorAll('#ib-list .item code')).some(c => c.textContent === {json.dumps(item_id)})")
    assert HOSTILE in page.inner_text("#ib-list")  # shown as text...
    prompt = _db(real_db, "SELECT details->>'input' FROM items WHERE output = ?", [HOSTILE])[0][0]
    assert prompt and prompt.strip().splitlines()[0][:60] in page.inner_text("#ib-list")  # the item's prompt is shown
    assert page.locator("#ib-list script, #ib-list img").count() == 0  # ...not turned into elements
    for path in [site / "runs" / f"{run_id}.html", site / "tradeoffs.html", site / "method.html", site / "runs.html"]:
        if path != site / "runs" / f"{run_id}.html":
            page = tab.open(path)
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
    assert reference in tab.open(site / "method.html").inner_text("main")
    # Paging: with 2 items per page, a model's MMLU group (3 items × 2 subjects) has 3 pages; with tiny item
    # files each page is its own file, so paging crosses file boundaries.
    from evalkit.site import items as item_files

    monkeypatch.setattr(item_files, "FILE_BYTES", 1)
    small = build_site(real_db, tmp_path / "paged", per_page=2)
    assert small.item_files == sum(-(-n // 2) for (n,) in _db(real_db, "SELECT count(*) FROM items GROUP BY model_id, suite"))
    assert small.items == _db(real_db, "SELECT count(*) FROM items")[0][0]
    page = tab.open(sorted((tmp_path / "paged" / "runs").glob("*.html"))[0])
    option = page.locator("#ib-group option", has_text="— mmlu (6 items)").first.get_attribute("value")
    page.select_option("#ib-group", option)
    wait_until(page, "document.getElementById('ib-pos').textContent.startsWith('page 1 of 3')")
    assert page.locator("#ib-list .item").count() == 2
    for n in (2, 3):
        page.click("#ib-next")
        wait_until(page, f"document.getElementById('ib-pos').textContent.startsWith('page {n} of 3')")
    assert page.is_disabled("#ib-next") and not page.is_disabled("#ib-prev")
    page.select_option("#ib-subset", label=SUBJECTS[0])
    wait_until(page, "document.getElementById('ib-pos').textContent.startsWith('page 1 of 3')")
    page.select_option("#ib-subset", label=SUBJECTS[1])  # starts at item 4: page 2
    wait_until(page, "document.getElementById('ib-pos').textContent.startsWith('page 2 of 3')")
    assert SUBJECTS[1] in page.inner_text("#ib-list")
    assert tab.problems == []
    tab.close()
