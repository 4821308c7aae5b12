"""Gate reports: a terminal table, Markdown (GitHub step summary / PR comment) and JSON."""

from __future__ import annotations

import json
import math

from evalkit.gate.compare import FAIL, PASS, Check, GateReport, SuiteCheck

COLUMNS = ("check", "baseline", "candidate", "change", "CI", "lost / gained", "p (drop)", "n", "verdict")


def _pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _pp(x: float | None) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:+.1f} pp"


def _p(p: float | None) -> str:
    if p is None:
        return "–"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _fmt_measure(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "bytes":
        return f"{value / 2**20:.0f} MiB"
    if unit == "tok/s":
        return f"{value:.1f} tok/s"
    return f"{value:g}"


def suite_cells(s: SuiteCheck, level: float) -> list[str]:
    r = s.result
    name = f"{s.suite} (v{s.version}, {'McNemar' if s.kind == 'binary' else 'paired bootstrap'})"
    if r is None:
        return [name, "–", "–", "–", "–", "–", "–", str(s.n_paired), f"{s.verdict}: {s.reason}"]
    return [
        name, _pct(r.baseline), _pct(r.candidate), _pp(r.diff), f"{_pp(r.ci_low)} … {_pp(r.ci_high)}",
        f"{r.lost} / {r.gained}", _p(r.p_value), str(r.n), f"{s.verdict}: {s.reason}",
    ]  # fmt: skip


def check_cells(c: Check) -> list[str]:
    change = "–" if c.ratio is None else f"{c.ratio:.2f}×"
    return [c.name, _fmt_measure(c.baseline, c.unit), _fmt_measure(c.candidate, c.unit), change, "", "", "", "",
            f"{c.verdict}: {c.reason}"]  # fmt: skip


def rows(report: GateReport) -> list[list[str]]:
    level = report.settings.ci_level
    return [suite_cells(s, level) for s in report.suites] + [check_cells(c) for c in report.checks]


def verdict_line(report: GateReport) -> str:
    if report.passed:
        return "PASS: no regression beyond the tolerances."
    return "FAIL: " + "; ".join(report.failures())


def settings_line(report: GateReport) -> str:
    s = report.settings
    return (
        f"max drop {s.max_drop:g} pp, alpha {s.alpha:g} (one-sided), {100 * s.ci_level:g}% CI, min items {s.min_items}, "
        f"min overlap {100 * s.min_overlap:g}%, max new errors {s.max_new_errors}, min speed ratio {s.min_speed_ratio:g}×, "
        f"max RAM increase {100 * s.max_ram_increase:g}%"
    )


def print_table(report: GateReport, console=None) -> None:
    from rich.table import Table

    from evalkit.report import out_console

    console = console or out_console
    level = 100 * report.settings.ci_level
    table = Table(title=f"gate: {report.candidate.label}  vs  baseline {report.baseline.label}", title_justify="left")
    for col in COLUMNS:
        table.add_column(f"{level:g}% CI" if col == "CI" else col, justify="left" if col in ("check", "verdict") else "right")
    for cells in rows(report):
        verdict = cells[-1]
        style = "bold red" if verdict.startswith(FAIL) else ("green" if verdict.startswith(PASS) else "yellow")
        table.add_row(*cells[:-1], f"[{style}]{verdict}[/]")
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"settings: {settings_line(report)}", highlight=False)
    style = "bold green" if report.passed else "bold red"
    console.print(f"[{style}]{verdict_line(report)}[/]", highlight=False)


def to_markdown(report: GateReport) -> str:
    level = 100 * report.settings.ci_level
    icon = "✅" if report.passed else "❌"
    lines = [
        f"## {icon} evalkit gate: {'PASS' if report.passed else 'FAIL'}",
        "",
        f"Candidate **{report.candidate.label}** ({report.candidate.source} `{report.candidate.ref}`) against baseline "
        f"**{report.baseline.label}** ({report.baseline.source} `{report.baseline.ref}`).",
        "",
        "| " + " | ".join(f"{level:g}% CI" if c == "CI" else c for c in COLUMNS) + " |",
        "|" + "|".join("---" if c in ("check", "verdict") else "---:" for c in COLUMNS) + "|",
    ]
    for cells in rows(report):
        cells = [c.replace("|", "\\|") for c in cells]
        verdict = cells[-1]
        cells[-1] = f"**{verdict}**" if verdict.startswith(FAIL) else verdict
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {note}" for note in report.notes]
    lines += [
        f"- {verdict_line(report)}",
        f"- Settings: {settings_line(report)}.",
        "- *lost / gained*: items the baseline got right and the candidate wrong / the other way round. A suite fails "
        "only when its drop exceeds the tolerance **and** is significant.",
        "",
    ]
    return "\n".join(lines)


def _side_json(side) -> dict:
    return {"ref": side.ref, "source": side.source, "run_id": side.run_id, "model": side.model,
            "suites": side.suites, "n_items": len(side.items), "cell": side.cell}  # fmt: skip


def to_json(report: GateReport) -> dict:
    s = report.settings
    return {
        "passed": report.passed,
        "verdict": verdict_line(report),
        "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.__dict__.items()} | {"ci_level": s.ci_level},
        "baseline": _side_json(report.baseline),
        "candidate": _side_json(report.candidate),
        "suites": [_suite_json(x) for x in report.suites],
        "checks": [c.__dict__ for c in report.checks],
        "notes": report.notes,
    }


def _suite_json(s: SuiteCheck) -> dict:
    out = {k: v for k, v in s.__dict__.items() if k != "result"}
    out["drop_pp"] = s.drop_pp
    out["result"] = None if s.result is None else dict(s.result.__dict__)
    return out


def _clean(value):
    """NaN and infinities become null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def dumps_json(report: GateReport) -> str:
    return json.dumps(_clean(to_json(report)), indent=2, default=str, allow_nan=False)
