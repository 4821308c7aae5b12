"""`evalkit models` and `evalkit suites`: what evalkit knows about."""

from __future__ import annotations

import click
from rich.table import Table


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.command("models")
@click.option("-m", "--model", "extra", multiple=True, help="Also describe these model specs.")
def models_cmd(extra):
    """List known models with file size, quantization and parameters read from the GGUF."""
    from evalkit.errors import EvalkitError
    from evalkit.gguf_info import read_gguf_info
    from evalkit.models import DEFAULT_MODEL, SHIPPED, resolve_model
    from evalkit.paths import cache_dir
    from evalkit.report import out_console

    table = Table(title="models", title_justify="left")
    for col in ("name", "quant", "params", "size", "context", "source / path"):
        table.add_column(col)
    specs = list(SHIPPED) + sorted(str(p) for p in (cache_dir() / "models").glob("*.gguf") if p.name not in
                                   {"gemma-3-270m-q4_k_m.gguf"}) + list(extra)  # fmt: skip
    for spec in specs:
        try:
            ref = resolve_model(spec)
            info = read_gguf_info(ref.path)
        except EvalkitError as exc:
            table.add_row(spec, "–", "–", "–", "–", f"[red]{exc}[/]")
            continue
        label = spec + (" (default)" if spec == DEFAULT_MODEL else "")
        desc = SHIPPED[spec].description if spec in SHIPPED else str(ref.path)
        table.add_row(label, info.quant_type, f"{info.n_params / 1e6:.0f}M", _size(info.file_size),
                      str(info.context_length or "?"), desc)  # fmt: skip
    out_console.print(table)


@click.command("suites")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Offline data folder to look for local copies in.")
def suites_cmd(data_dir):
    """List the suites that `evalkit run --suite NAME` accepts (NAME+VARIANT for variants), and where their data is."""
    from evalkit.errors import EvalkitError
    from evalkit.report import out_console
    from evalkit.sources import availability, data_dir as resolve_data_dir, list_subsets
    from evalkit.suite import available_suites, load_suite_file

    directory = resolve_data_dir(data_dir)
    table = Table(title="suites", title_justify="left")
    for col in ("name", "kind", "version", "subsets", "description", "data", "file"):
        table.add_column(col, overflow="fold")
    for name, path in available_suites().items():
        try:
            base = load_suite_file(path)
            suites = [base] + [load_suite_file(path, v) for v in base.variants]
        except EvalkitError as exc:
            table.add_row(name, "–", "–", "–", f"[red]{exc}[/]", "–", str(path))
            continue
        for s in suites:
            try:
                subsets, where = list_subsets(s), availability(s, directory)
            except EvalkitError as exc:
                subsets, where = [], f"[red]{exc}[/]"
            shown = ", ".join(subsets) if len(subsets) <= 4 else f"{len(subsets)}: {subsets[0]} … {subsets[-1]}"
            table.add_row(s.name, s.suite.kind, s.version, shown, s.suite.description, where, path.name)
    out_console.print(table)
