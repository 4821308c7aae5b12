"""The item browser's data: every stored item, in small script files loaded on demand.

A run page carries only a manifest (groups of model × suite, item counts, where each subset starts);
the browser loads ``items/<run>/g<G>-f<F>.js`` when a page of items is opened. Script files rather than
fetch() of JSON, because browsers refuse fetch() on file:// URLs and the site must open from disk.
A file holds whole browser pages, up to about FILE_BYTES (or MAX_ROWS rows): few files for short items
(creating and deleting thousands of small files is what costs time on a slow disk), small files for long
ones. The manifest lists where each file starts.
DuckDB writes each row as a JSON array; NaN stays NaN, which is valid in a script (not in JSON).
"""

from __future__ import annotations

from pathlib import Path

from evalkit.site.fmt import slug

COLUMNS = ["item_id", "subset", "prompt", "output", "prediction", "target", "correct", "score", "choices", "probs",
           "latency_ms", "error", "details", "prompt_hash"]  # fmt: skip
TEXT_LIMIT = 4000  # characters of prompt/output shown per item (runaway generations are cut, and say so)
DETAILS_LIMIT = 2000
FILE_BYTES = 512_000
MAX_ROWS = 2000


def _cut(expr: str, limit: int) -> str:
    return f"CASE WHEN length({expr}) > {limit} THEN left({expr}, {limit}) || ' … [cut at {limit} characters]' ELSE {expr} END"


ITEMS_SQL = f"""
    SELECT run_id, model_id, suite, subset,
           json_array(item_id, subset, {_cut("coalesce(details->>'prompt', details->>'input')", TEXT_LIMIT)},
                      {_cut("output", TEXT_LIMIT)}, {_cut("prediction", TEXT_LIMIT)}, {_cut("target", TEXT_LIMIT)},
                      correct, round(score, 4), choices, probs, round(latency_ms, 1), error,
                      {_cut("CAST(details AS VARCHAR)", DETAILS_LIMIT)}, prompt_hash)::VARCHAR AS j
    FROM items
    ORDER BY run_id, model_id, suite, subset, created_at, item_id
"""


class _RunWriter:
    """Collects one run's rows group by group and writes its item files; returns its manifest."""

    def __init__(self, out: Path, run_id: str, per_page: int, labels: dict[str, str]):
        self.run_id, self.run_slug = run_id, slug(run_id)
        self.folder = out / "items" / self.run_slug
        self.per_page, self.labels = per_page, labels
        self.groups: list[dict] = []
        self.rows: list[str] = []
        self.size = 0
        self.files = 0

    def add(self, model_id: str, suite: str, subset: str, row_json: str) -> None:
        g = self.groups[-1] if self.groups else None
        if g is None or (g["model_id"], g["suite"]) != (model_id, suite):
            self.flush()
            g = {"id": f"g{len(self.groups)}", "model_id": model_id, "label": self.labels.get(model_id, model_id[:12]),
                 "suite": suite, "n": 0, "files": [], "subsets": []}  # fmt: skip
            self.groups.append(g)
        if not g["subsets"] or g["subsets"][-1][0] != subset:
            g["subsets"].append([subset, g["n"]])
        g["n"] += 1
        self.rows.append(row_json)
        self.size += len(row_json)
        full = self.size >= FILE_BYTES or len(self.rows) >= MAX_ROWS
        if full and len(self.rows) % self.per_page == 0:  # files end on a page boundary
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        g = self.groups[-1]
        name = f"{g['id']}-f{len(g['files'])}"
        if self.files == 0:
            self.folder.mkdir(parents=True, exist_ok=True)
        body = ",\n".join(self.rows).replace("<", "\\u003c")  # inert even if pasted into HTML
        (self.folder / f"{name}.js").write_text(f'EVALKIT_ITEMS("{self.run_slug}/{name}",[\n{body}\n]);\n', encoding="utf-8")
        g["files"].append(g["n"] - len(self.rows))  # the position of the file's first item in its group
        self.files += 1
        self.rows, self.size = [], 0

    def manifest(self, per_page: int) -> dict:
        self.flush()
        groups = [{k: v for k, v in g.items() if k != "model_id"} for g in self.groups]
        public = {"run": self.run_slug, "per_page": per_page, "columns": COLUMNS, "groups": groups}
        return {"public": public, "anchors": {(g["model_id"], g["suite"]): g["id"] for g in self.groups}, "files": self.files}


def export_items(con, out: Path, labels: dict[str, str], per_page: int = 50, batch: int = 50000) -> dict[str, dict]:
    """Write every run's item files under ``out/items``; return run_id → {"public", "anchors", "files"}."""
    manifests: dict[str, dict] = {}
    writer: _RunWriter | None = None
    cur = con.execute(ITEMS_SQL)
    while rows := cur.fetchmany(batch):
        for run_id, model_id, suite, subset, row_json in rows:
            if writer is None or writer.run_id != run_id:
                if writer is not None:
                    manifests[writer.run_id] = writer.manifest(per_page)
                writer = _RunWriter(out, run_id, per_page, labels)
            writer.add(model_id, suite, subset, row_json)
    if writer is not None:
        manifests[writer.run_id] = writer.manifest(per_page)
    return manifests
