"""JSON generation: the model answers with a JSON object, optionally constrained by a llama.cpp grammar.

The grammar comes from ``params.grammar``: ``json`` (any JSON), ``schema`` (the item's
``schema`` field or ``params.json_schema``, converted to GBNF). Scoring and metrics are the
scorers' (``json_fields``, ``entity_f1``), which parse leniently and record the valid-JSON rate.
"""

from __future__ import annotations

from evalkit.tasks.generate import GenerateTask


class JsonTask(GenerateTask):
    kind = "json"


TASK = JsonTask()
