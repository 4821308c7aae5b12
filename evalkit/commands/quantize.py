"""`evalkit quantize MODEL --to Q8_0,Q6_K,...`: derive quantization levels and measure their quality loss."""

from __future__ import annotations

import click
from rich.table import Table

from evalkit.store import DEFAULT_DB


@click.command("quantize")
@click.argument("model")
@click.option("--to", "levels", required=True, help="Comma-separated llama.cpp types (e.g. Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_0,Q3_K_M,Q2_K), or 'default' for that ladder.")
@click.option("--db", type=click.Path(dir_okay=False), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file for the ladder rows.")
@click.option("--quality/--no-quality", default=True, show_default=True, help="Measure KL-divergence, top-1 agreement and perplexity against the source file.")
@click.option("--text", type=click.Path(dir_okay=False, exists=True), help="Text sample for the quality measurement. Default: the bundled sample.")
@click.option("--n-ctx", type=click.IntRange(min=16), default=512, show_default=True, help="Tokens per chunk (the second half of each is scored).")
@click.option("--chunks", type=click.IntRange(min=1), default=3, show_default=True, help="At most this many chunks of the text.")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads. Default: all cores.")
@click.option("--repack", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True, help="llama.cpp CPU weight repacking.")
@click.option("--force", is_flag=True, help="Measure again even if the ladder rows are stored.")
def quantize_cmd(model, levels, db, quality, text, n_ctx, chunks, threads, repack, force):
    """Derive quantization levels of MODEL with llama.cpp (cached by content) and compare them with the source.

    The reference for KL-divergence is the source file: requantizing an already quantized model to a
    higher-precision type does not bring lost precision back.
    """
    from evalkit.cells import expand, register
    from evalkit.errors import ConfigError
    from evalkit.ladder import LadderSpec, measure_into
    from evalkit.quantize import DEFAULT_LADDER, normalize_qtype
    from evalkit.report import err_console, out_console
    from evalkit.store import Store

    names = list(DEFAULT_LADDER) if levels.strip() == "default" else [normalize_qtype(q) for q in levels.split(",") if q.strip()]
    if not names:
        raise ConfigError("--to needs at least one quantization type, e.g. --to Q8_0,Q4_0.")
    cells = expand([model] + [f"{model}@{q}" for q in names], threads)
    source = cells[0]
    derived = [c for c in cells[1:] if c.model_id]
    for c in cells[1:]:
        if c.error:
            err_console.print(f"[bold red]{c.spec}:[/] {c.error}", highlight=False)
    with Store(db) as store:
        for c in cells:
            register(store, c)
        rows = {}
        if quality:
            levels_ = [{"model_id": c.model_id, "path": str(c.ref.path), "quant_type": c.info["quant_type"],
                        "bits_per_weight": c.info["bits_per_weight"]} for c in derived]  # fmt: skip
            spec = LadderSpec(n_ctx, chunks, text)
            rows = {r["model_id"]: r for r in measure_into(store, source.model_id, str(source.ref.path), levels_, spec, threads, repack, force)}
    _print(out_console, source, derived, rows)
    if any(c.error for c in cells):
        raise SystemExit(1)


def _print(console, source, derived, rows: dict) -> None:
    table = Table(title=f"quantization ladder of {source.spec} (reference: the source file)", title_justify="left")
    for col in ("level", "type", "size MB", "bits/weight", "KL-div", "KL p99", "top-1 agree", "perplexity", "file"):
        table.add_column(col, justify="left" if col in ("level", "type", "file") else "right")
    for c in [source] + derived:
        r = rows.get(c.model_id, {})
        fmt = lambda v, f: "–" if v is None else format(v, f)  # noqa: E731
        table.add_row("source" if c is source else c.requested_quant, c.info["quant_type"], f"{c.info['file_size'] / 2**20:.1f}",
                      f"{c.info['bits_per_weight']:.2f}", fmt(r.get("kl_divergence"), ".5f"), fmt(r.get("kl_p99"), ".4f"),
                      fmt(r.get("top1_agreement"), ".1%"), fmt(r.get("perplexity"), ".3f"), str(c.ref.path))  # fmt: skip
    console.print(table)
