"""Field mapping: raw records (dicts from a file or the Hub) → :class:`Item`.

``[fields]`` maps each item field to a record key (``text = "sentence"``) or to a
Jinja2 template over the record (``text = "{{ title }} {{ description }}"``).
Plain keys are resolved first, so templates can use the mapped names too, and
``labels`` (the suite's label list) is available. Reserved names: ``target`` (the
gold answer, required) and ``id`` (default ``<split>/<row number>``). Without a
``[fields]`` table every record key becomes a field and ``target`` must exist.
"""

from __future__ import annotations

from evalkit.errors import ConfigError
from evalkit.suite import Suite
from evalkit.types import Item


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def _pick(suite: Suite, row: dict, name: str, key: str, where: str):
    if key not in row:
        keys = ", ".join(sorted(map(str, row))) or "none"
        raise ConfigError(
            f"{suite.path}: field '{name}' reads record key '{key}', but {where} records have keys: {keys}. Fix [fields]."
        )
    return row[key]


def map_record(suite: Suite, mapping: dict[str, str], row: dict, where: str) -> dict:
    from evalkit.prompt import render

    if not mapping:
        return dict(row)
    out = {name: _pick(suite, row, name, key, where) for name, key in mapping.items() if not is_template(key)}
    ctx = {**row, **out, "labels": suite.labels}
    for name, tpl in mapping.items():
        if is_template(tpl):
            out[name] = render(tpl, suite, **ctx)
    return out


def to_items(suite: Suite, rows: list[dict], split: str, hub: bool, subset: str = "default") -> list[Item]:
    mapping = {**suite.fields, **(suite.source.hf_fields if hub else {})}
    where = "Hub" if hub else "local"
    items = []
    for i, row in enumerate(rows):
        fields = map_record(suite, mapping, row, where)
        if "target" not in fields:
            raise ConfigError(f"{suite.path}: no gold answer: map one in [fields] as target = \"RECORD_KEY\".")
        target = fields.pop("target")
        item_id = fields.pop("id", None)
        item_id = f"{split}/{i}" if item_id in (None, "") else str(item_id)
        items.append(Item(id=item_id, subset=subset, fields=fields, target="" if target is None else str(target)))
    return items
