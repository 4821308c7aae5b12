"""Formatting helpers shared by the pages: numbers, sizes, safe JSON for <script> blocks, redaction."""

from __future__ import annotations

import json
import math
import re
from pathlib import PurePath

from markupsafe import Markup

# Characters that could end a <script> block or start an HTML comment/CDATA inside one, and the two line
# separators that old JavaScript engines treat as newlines. Escaping them keeps JSON inert in HTML.
_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JS_RE = re.compile("[<>&\u2028\u2029]")
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization)", re.I)


def _clean(value):
    """Make a value JSON-safe: NaN/inf become null (JSON has no NaN), tuples become lists."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def safe_json(value) -> str:
    """JSON text that can sit inside an HTML <script> element or a .js file without ending it early."""
    text = json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"), default=str)
    return _JS_RE.sub(lambda m: _JS_ESCAPES[m.group(0)], text)


def json_script(value, element_id: str) -> Markup:
    """A <script type="application/json"> element holding ``value`` (read with JSON.parse(textContent))."""
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", element_id)
    return Markup(f'<script type="application/json" id="{safe_id}">{safe_json(value)}</script>')


def is_num(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not (isinstance(value, float) and math.isnan(value))


def num(value, digits: int = 1) -> str:
    return f"{value:,.{digits}f}" if is_num(value) else "–"


def pct(value, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}%" if is_num(value) else "–"


def size(value) -> str:
    """Bytes as MB or GB (decimal units, as on a disk label)."""
    if not is_num(value):
        return "–"
    if value >= 1e9:
        return f"{value / 1e9:.2f} GB"
    return f"{value / 1e6:.0f} MB"


def params(value) -> str:
    if not is_num(value):
        return "–"
    if value >= 1e9:
        return f"{value / 1e9:.1f}B"
    return f"{value / 1e6:.0f}M"


def usd(value) -> str:
    if not is_num(value):
        return "–"
    return f"${value:.4f}" if value < 0.1 else f"${value:,.2f}"


def ci_half(low, high) -> str:
    if not (is_num(low) and is_num(high)):
        return ""
    return f"±{50 * (high - low):.1f}"


def sort_value(value) -> str:
    """The data-sort attribute of a table cell: a number, or empty (sorted last)."""
    return repr(float(value)) if is_num(value) else ""


def slug(text: str) -> str:
    """A file-name-safe form of an id (run ids, model ids, suite names)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))[:80].strip(".")
    return cleaned or "_"


def redact(value, key: str = ""):
    """A copy of config/host JSON fit for publishing: secrets removed, file paths reduced to their names."""
    if _SECRET_KEY.search(key):
        return "(redacted)"
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value) and not value.startswith(("http://", "https://")):
        parts = value.split("=", 1)
        if len(parts) == 2 and parts[0].startswith("-"):
            return f"{parts[0]}={PurePath(parts[1]).name}"
        return PurePath(value).name or value
    return value


def when(value) -> str:
    """A timestamp to the second (UTC, as stored)."""
    if value is None:
        return "–"
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else str(value)


def pretty_json(value) -> str:
    return json.dumps(_clean(value), indent=2, ensure_ascii=False, default=str)


FILTERS = {
    "num": num,
    "pct": pct,
    "size": size,
    "params": params,
    "usd": usd,
    "sortval": sort_value,
    "cihalf": lambda rec: ci_half(rec.get("ci_low"), rec.get("ci_high")),
    "cirange": lambda rec: f"{num(rec.get('ci_low'), 3)}–{num(rec.get('ci_high'), 3)}" if is_num(rec.get("ci_low")) else "–",
    "pretty_json": pretty_json,
    "slug": slug,
    "when": when,
    "tojson_compact": lambda v: json.dumps(_clean(v), ensure_ascii=False, default=str)[:400],
}
