"""Grammar-constrained generation (GBNF) through llama.cpp's grammar sampler, on a real model."""

from __future__ import annotations

import json

import pytest

from evalkit.backends.llamacpp import LlamaCppBackend
from evalkit.types import GenerateRequest

pytestmark = pytest.mark.model

PERSON = r"""
root   ::= "{" ws "\"name\"" ws ":" ws string ws "," ws "\"age\"" ws ":" ws number ws "}"
string ::= "\"" [a-zA-Z ]{1,20} "\""
number ::= [1-9] [0-9]?
ws     ::= [ ]?
"""


@pytest.fixture(scope="module")
def backend(smollm2_path):
    b = LlamaCppBackend(smollm2_path, n_parallel=4, threads=1, repack="off")
    yield b
    b.close()


def test_grammar_output_parses_as_json(backend):
    reqs = [
        GenerateRequest("", "Describe a person as JSON:", max_tokens=48, grammar=PERSON),
        GenerateRequest("", "A customer record:", max_tokens=48, grammar=PERSON, temperature=0.8, seed=1),
        GenerateRequest("", "Describe a person as JSON:", max_tokens=48),  # unconstrained, same batch
    ]
    constrained, sampled, free = backend.generate(reqs)
    for res in (constrained, sampled):
        assert res.error is None and res.finish_reason == "stop", res
        value = json.loads(res.text)
        assert set(value) == {"name", "age"} and isinstance(value["age"], int)
    assert free.error is None


def test_bad_grammar_is_a_per_request_error(backend):
    good, bad = backend.generate([
        GenerateRequest("", "Say hi:", max_tokens=4),
        GenerateRequest("", "Say hi:", max_tokens=4, grammar="root ::= (unclosed"),
    ])  # fmt: skip
    assert good.error is None
    assert bad.error and "grammar" in bad.error and bad.text == ""
