"""Published frontier scores (evalkit/data/reference_points.toml) as rows of the `reference_points` table.

They sit in their own table, never in `items`/`metrics`/`cells`, so no query over
measured results can pick them up by accident; views that show them label them
as published.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is heavy; the run path only writes rows
    import pandas as pd

from evalkit.cost import api_price

COLUMNS = ["ref_id", "model", "suite", "subset", "metric", "value", "shots", "usd_per_mtok_in", "usd_per_mtok_out",
           "source", "source_url", "published", "file_version"]  # fmt: skip
REQUIRED = ("id", "model", "suite", "subset", "metric", "value", "source", "source_url", "published")


def load_file() -> tuple[str, list[dict]]:
    """(file version, points) from the bundled file; every point carries its source."""
    text = resources.files("evalkit").joinpath("data/reference_points.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    points = data["point"]
    for p in points:
        missing = [k for k in REQUIRED if k not in p]
        if missing:  # a packaging error, not a user error
            raise ValueError(f"reference point {p.get('id')} lacks {missing}")
    return str(data["version"]), points


def rows() -> list[list]:
    version, points = load_file()
    out = []
    for p in points:
        price = api_price(p["price"]) if p.get("price") else None
        out.append([
            p["id"], p["model"], p["suite"], p["subset"], p["metric"], float(p["value"]), p.get("shots"),
            price.usd_per_mtok_in if price else None, price.usd_per_mtok_out if price else None,
            p["source"], p["source_url"], p["published"], version,
        ])  # fmt: skip
    return out


def load_into(con) -> int:
    """Replace the bundled reference points in a DuckDB connection (idempotent); return how many."""
    values = rows()
    con.execute("BEGIN TRANSACTION")
    try:
        con.executemany("DELETE FROM reference_points WHERE ref_id = ?", [[v[0]] for v in values])
        con.executemany(f"INSERT INTO reference_points VALUES ({', '.join('?' * len(COLUMNS))})", values)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(values)


def stored(store) -> "pd.DataFrame":
    """Reference points in a results database (empty frame if none)."""
    return store.query("SELECT * FROM reference_points ORDER BY suite, value DESC")
