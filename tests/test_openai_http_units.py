"""Logic of the server backend that needs no server: specs, parsing of answers, redaction, the breaker."""

from __future__ import annotations

import math

import pytest

from evalkit.backends import openai_choice as oc
from evalkit.backends.http_retry import CircuitBreaker
from evalkit.backends.secrets import Scrubber, check_env_name, redact_url
from evalkit.backends.server_spec import apply_cli_options, parse_server_spec
from evalkit.errors import ConfigError


def test_spec_defaults_and_canonical_form():
    official = parse_server_spec("openai:gpt-4o-mini")
    assert (official.endpoint, official.key_env, official.api_root) == ("chat", "OPENAI_API_KEY", "https://api.openai.com/v1")
    local = parse_server_spec("openai:m?base_url=http://127.0.0.1:8080&choice=letter&concurrency=8")
    assert (local.endpoint, local.key_env, local.api_root) == ("completions", "", "http://127.0.0.1:8080/v1")
    assert parse_server_spec(local.canonical()) == local
    ollama = parse_server_spec("ollama:qwen2.5:0.5b")
    assert (ollama.model, ollama.native_root, ollama.display_name("next-token")) == ("qwen2.5:0.5b", "http://127.0.0.1:11434", "qwen2.5:0.5b@ollama")
    assert local.model_id("letter") != local.model_id("next-token")  # methods never share a model row


@pytest.mark.parametrize(
    "spec, words",
    [
        ("openai:m?colour=red", "unknown option 'colour'"),
        ("openai:m?concurrency=0", "concurrency"),
        ("openai:m?endpoint=chat&choice=echo", "completions endpoint"),
        ("openai:m?base_url=ftp://h", "not an http"),
        ("openai:m?base_url=http://u:pw@h/v1", "user:password"),
        ("openai:m?key_env=sk-abc-123", "NAME of an environment variable"),
    ],
)
def test_bad_specs_say_what_to_fix(spec, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        parse_server_spec(spec)


def test_cli_options_fold_into_server_specs_only():
    out = apply_cli_options(["openai:a", "smollm2-135m", "openai:b?endpoint=chat"], base_url="http://h:1", endpoint="completions")
    assert out == ["openai:a?base_url=http://h:1&endpoint=completions", "smollm2-135m", "openai:b?endpoint=chat&base_url=http://h:1"]
    with pytest.raises(ConfigError, match="server models only"):
        apply_cli_options(["smollm2-135m"], base_url="http://h:1")


def test_letter_parsing_is_strict():
    labels = ["A", "B", "C", "D"]
    for text, idx in [("B", 1), (" C.", 2), ("(D)", 3), ("A) Paris", 0), ("B: because", 1)]:
        assert oc.parse_letter(text, labels) == idx, text
    for text in ["The answer is B", "b", "Bonn", "", "AB", "1"]:
        assert oc.parse_letter(text, labels) is None, text
    assert oc.parse_letter("Sci/Tech news", ["World", "Sci/Tech"]) == 1


def test_next_token_scores_exact_tokens_and_bounds_the_rest():
    top = {" A": -0.5, " B": -1.5, "\n": -2.0, "A": -0.1}
    scores = oc.score_next_token((" A", " B", " C", " D"), top, stripped=False)
    assert scores[:2] == [-0.5, -1.5] and math.isinf(scores[2]) and math.isinf(scores[3])
    assert oc.score_next_token((" A", " B"), top, stripped=True) == [-0.1, -1.5]  # chat: "A" or " A", the best
    assert oc.score_next_token((" X", " Y"), top, stripped=False) == []  # no choice among the top tokens: no prediction


def test_echo_sums_the_choice_tokens_only():
    # "The| cap|ital| is|<generated>": offsets 0, 3, 7, 11, 14
    data = {"choices": [{"logprobs": {"text_offset": [0, 3, 7, 11, 14], "token_logprobs": [None, -1.0, -0.25, -0.5, -3.0]}}]}
    assert oc.score_echo("The cap", "ital is", data) == pytest.approx(-0.75)
    with pytest.raises(ValueError, match="split the prompt"):
        oc.score_echo("The capi", "tal is", data)


def test_redaction():
    assert redact_url("https://user:pw@host:8443/v1?api_key=s3cr3t#x") == "https://host:8443/v1"
    scrub = Scrubber("sk-live-0123456789abcdef")
    assert scrub("bad key sk-live-0123456789abcdef!") == "bad key ***!"
    assert "0123456789abcdef" not in scrub("Incorrect API key provided: sk-live-0123...cdef sk-live-0123456")
    with pytest.raises(ConfigError) as err:
        check_env_name("sk-live-0123456789abcdef")
    assert "sk-live" not in str(err.value)


def test_breaker_opens_after_failures_in_a_row_and_at_once_when_fatal():
    b = CircuitBreaker(3)
    for _ in range(2):
        b.failure("boom")
    b.success()
    b.failure("boom")
    assert not b.open
    b.failure("boom")
    b.failure("boom")
    assert b.open and "3 requests in a row" in b.reason
    fatal = CircuitBreaker(10)
    fatal.failure("HTTP 401", fatal=True)
    assert fatal.open and fatal.reason == "HTTP 401"
