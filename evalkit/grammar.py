"""llama.cpp grammars (GBNF) for constrained decoding: any JSON, a JSON schema, or one label of a set.

The schema converter is llama-cpp-python's own (``llama_cpp.llama_grammar.json_schema_to_gbnf``).
"""

from __future__ import annotations

import json
from functools import lru_cache

from evalkit.errors import ConfigError


@lru_cache(maxsize=256)
def schema_gbnf(schema_json: str) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        return json_schema_to_gbnf(schema_json)
    except Exception as exc:  # the converter raises plain exceptions on unsupported schemas
        raise ConfigError(f"cannot turn the JSON schema into a grammar ({type(exc).__name__}: {exc}). Simplify the schema.") from None


def json_gbnf() -> str:
    from llama_cpp.llama_grammar import JSON_GBNF

    return JSON_GBNF


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@lru_cache(maxsize=64)
def labels_gbnf(labels: tuple[str, ...]) -> str:
    """Exactly one of the labels, optionally after one space."""
    return 'root ::= " "? (' + " | ".join(_literal(lab) for lab in labels) + ")\n"


def grammar_for(suite, item) -> str | None:
    """The grammar string for one item under the suite's ``params.grammar`` (None: unconstrained)."""
    mode = suite.params.grammar
    if mode == "none":
        return None
    if mode == "json":
        return json_gbnf()
    if mode == "labels":
        return labels_gbnf(tuple(suite.labels))
    schema = item.fields.get("schema") or suite.params.json_schema
    if schema is None:
        raise ConfigError(f"{suite.path}: params.grammar = 'schema' but items have no 'schema' field and params.json_schema is unset.")
    return schema_gbnf(schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True))
