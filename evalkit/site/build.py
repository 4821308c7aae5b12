"""`evalkit site build`: results database → a static site (Jinja2 pages, Plotly figures, item pages).

The site is built in a staging folder and swapped in only when complete (see :mod:`evalkit.site.output`).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from evalkit import __version__
from evalkit.errors import ConfigError
from evalkit.site import charts, tables
from evalkit.site.fmt import FILTERS, json_script, slug
from evalkit.site.items import export_items
from evalkit.site.output import staging
from evalkit.site.queries import SiteData, load, open_db

HERE = Path(__file__).parent
NAV = [
    ("index.html", "Leaderboard"), ("tradeoffs.html", "Trade-offs"), ("ladder.html", "Quantization"),
    ("reasoning.html", "Reasoning depth"), ("context.html", "Context length"), ("mmlu.html", "MMLU subjects"),
    ("runs.html", "Runs"), ("method.html", "How we measure"),
]  # fmt: skip


@dataclass
class BuildReport:
    out: Path
    pages: int
    item_files: int
    items: int
    seconds: float


def environment() -> Environment:
    """Jinja2 with autoescaping on for every template: data never becomes markup."""
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(json_script=json_script, nav=NAV, version=__version__)
    return env


class _Pages:
    def __init__(self, out: Path, meta: dict):
        self.out, self.meta, self.env, self.count = out, meta, environment(), 0

    def write(self, template: str, rel: str, **ctx) -> None:
        depth = rel.count("/")
        html = self.env.get_template(template).render(root="../" * depth, page=rel, meta=self.meta, **ctx)
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        self.count += 1


def build_site(db: str | Path, out: str | Path, per_page: int = 50) -> BuildReport:
    """Build the whole site from ``db`` into ``out``; raise ConfigError for bad input."""
    start = time.perf_counter()
    db, out = Path(db), Path(out)
    con = open_db(db)
    try:
        data = load(con, db.name)
        with staging(out) as tmp:
            try:
                pages, item_files, n_items = _write_all(con, data, tmp, per_page)
            except OSError as exc:
                raise ConfigError(f"cannot write the site into {out.parent}: {exc.strerror or exc}. Free space or pass another --out.") from None
    finally:
        con.close()
    return BuildReport(out, pages, item_files, n_items, time.perf_counter() - start)


def _write_all(con, data: SiteData, out: Path, per_page: int) -> tuple[int, int, int]:
    _assets(out)
    labels = {m["model_id"]: m["label"] for m in data.models}
    browsers = export_items(con, out, labels, per_page)
    meta = {"built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "db": data.db_name,
            "n_runs": len(data.runs), "n_models": len(data.models)}  # fmt: skip
    pages = _Pages(out, meta)
    board = tables.leaderboard(data)
    pages.write("leaderboard.html.j2", "index.html", board=board)
    pages.write("tradeoffs.html.j2", "tradeoffs.html", sections=charts.tradeoffs(data), has_cells=board["has_cells"])
    pages.write("ladder.html.j2", "ladder.html", ladder=charts.ladder(data))
    steps = charts.knob_curves(data, r"steps_(\d+)", "reasoning steps", "accuracy")
    pages.write("knob.html.j2", "reasoning.html", curves=steps, kind="reasoning")
    ctx = charts.knob_curves(data, r"ctx_(\d+)", "context length (tokens)", "extraction quality", log_x=True)
    pages.write("knob.html.j2", "context.html", curves=ctx, kind="context")
    pages.write("mmlu.html.j2", "mmlu.html", heat=charts.mmlu_heatmap(data))
    pages.write("runs.html.j2", "runs.html", runs=tables.runs_list(data))
    pages.write("method.html.j2", "method.html", info=tables.method(data))
    for run in data.runs:
        browser = browsers.get(run["run_id"], {}).get("public")
        pages.write("run.html.j2", f"runs/{slug(run['run_id'])}.html", ctx=tables.run_page(data, run), browser=browser)
    for m in data.models:
        pages.write("model.html.j2", f"models/{m['slug']}.html", ctx=tables.model_page(data, m, browsers))
    item_files = sum(b["files"] for b in browsers.values())
    n_items = sum(g["n"] for b in browsers.values() for g in b["public"]["groups"])
    return pages.count, item_files, n_items


def _assets(out: Path) -> None:
    import plotly
    from plotly.offline import get_plotlyjs

    assets = out / "assets"
    assets.mkdir()
    for name in ("site.css", "site.js"):
        shutil.copyfile(HERE / "static" / name, assets / name)
    (assets / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    (assets / "PLOTLY_VERSION").write_text(plotly.__version__ + "\n", encoding="utf-8")
