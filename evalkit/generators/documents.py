"""Generator ``documents``: business documents for JSON extraction, with a context-length knob.

Six document types (invoice, purchase_order, receipt, shipping_notice, meeting_invite,
email_signature) alternate item by item. Each has a fixed key set, several layouts and
distractor values printed beside the gold ones (an earlier invoice number, a subtotal, a
due date, a CC'd person, a switchboard number ...).

Subsets ``ctx_<N>`` pad each document with filler up to about N tokens (4 characters a
token), the document sitting at a seeded position. The documents themselves depend on
(seed, index) only, not on the subset, so ``ctx_0`` and ``ctx_2000`` hold the same documents
with different padding: quality against context length is a paired comparison.
"""

from __future__ import annotations

import json
from typing import Any

from evalkit.generators import doctypes_mail, doctypes_money
from evalkit.generators.base import (
    check_count,
    check_options,
    int_list,
    item_id,
    name_list,
    rng_for,
    subset_number,
)
from evalkit.generators.docvalues import Values
from evalkit.generators.filler import pad
from evalkit.types import Item

NAME = "documents"
VERSION = "1"
OPTIONS = ["context_tokens", "doc_types"]
DEFAULT_CONTEXT = [0, 1000, 2000]
MAX_CONTEXT = 32000
MAX_STRING = 64
DOC_TYPES = {
    "invoice": doctypes_money.TYPES["invoice"],
    "shipping_notice": doctypes_mail.TYPES["shipping_notice"],
    "meeting_invite": doctypes_mail.TYPES["meeting_invite"],
    "email_signature": doctypes_mail.TYPES["email_signature"],
    "purchase_order": doctypes_money.TYPES["purchase_order"],
    "receipt": doctypes_money.TYPES["receipt"],
}


def schema_for(doc_type: str) -> dict[str, Any]:
    """The JSON schema of the object to extract: every key required, no others."""
    fields = DOC_TYPES[doc_type][0]
    return {
        "type": "object",
        "properties": {key: _property(typ, desc) for key, typ, desc in fields},
        "required": [key for key, _, _ in fields],
        "additionalProperties": False,
    }


def _property(typ: str, desc: str) -> dict[str, Any]:
    """One schema property. Strings get a ``maxLength`` (gold values are at most ~35 characters),
    so grammar-constrained decoding cannot run away inside a string."""
    prop: dict[str, Any] = {"type": typ, "description": desc}
    if typ == "string":
        prop["maxLength"] = MAX_STRING
    return prop


def field_guide(doc_type: str) -> str:
    """One line per key (name, type, meaning), ready to paste into a prompt."""
    return "\n".join(f"- {key} ({typ}): {desc}" for key, typ, desc in DOC_TYPES[doc_type][0])


def field_names(doc_type: str) -> list[str]:
    return [key for key, _, _ in DOC_TYPES[doc_type][0]]


class DocumentsGenerator:
    """Business documents to extract as JSON; subsets ``ctx_<N>`` pad them to about N tokens."""

    name = NAME
    version = VERSION

    def default_subsets(self, options: dict[str, Any]) -> list[str]:
        check_options(NAME, options, OPTIONS)
        sizes = int_list(NAME, options, "context_tokens", DEFAULT_CONTEXT, 0, MAX_CONTEXT)
        return [f"ctx_{n}" for n in sizes]

    def generate(self, subset: str, seed: int, n: int, options: dict[str, Any]) -> list[Item]:
        check_options(NAME, options, OPTIONS)
        check_count(NAME, seed, n)
        tokens = subset_number(NAME, subset, "ctx_", 0, MAX_CONTEXT, "ctx_1000")
        types = name_list(NAME, options, "doc_types", list(DOC_TYPES))
        offset = rng_for(NAME, VERSION, seed, "types").randrange(len(types))
        return [self._item(subset, seed, i, tokens, types[(i + offset) % len(types)]) for i in range(n)]

    def _item(self, subset: str, seed: int, i: int, tokens: int, doc_type: str) -> Item:
        rng = rng_for(NAME, VERSION, seed, i, doc_type)  # no subset: same document in every ctx_ subset
        values = Values(rng, date_style=rng.randrange(4))
        doc = DOC_TYPES[doc_type][1](values)
        document = doc.text.strip()
        text, context = pad(document, tokens, rng_for(NAME, VERSION, subset, seed, i, "filler"))
        fields = {
            "document": text,
            "doc_type": doc_type,
            "field_names": field_names(doc_type),
            "schema": schema_for(doc_type),
            "field_guide": field_guide(doc_type),
        }
        meta = {"generator": NAME, "generator_version": VERSION, "seed": seed, "index": i, "doc_type": doc_type,
                "layout": doc.layout, "date_style": values.date_style, "distractors": doc.distractors, **context}
        return Item(id=item_id(subset, seed, i), subset=subset, fields=fields,
                    target=json.dumps(doc.gold, sort_keys=True), meta=meta)
