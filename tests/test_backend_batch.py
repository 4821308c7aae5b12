"""Multi-token batches through real llama.cpp on both shipped models (the repacking-crash guard)."""

import pytest

from evalkit.backends.llamacpp import LlamaCppBackend
from evalkit.backends.safety import probe, repack_allowed
from evalkit.types import ChoiceRequest, GenerateRequest

pytestmark = pytest.mark.model

PREFIX = "The following are multiple choice questions (with answers) about geography.\n\n" * 4
Q = "What is the capital of France?\nA. Berlin\nB. Paris\nC. Rome\nD. Madrid\nAnswer:"


@pytest.mark.parametrize("model", ["smollm2_path", "gemma_path"])
def test_multi_token_batch_evaluates_without_crashing(model, request):
    path = request.getfixturevalue(model)
    backend = LlamaCppBackend(path, n_ctx=1024, repack="auto")
    try:
        res = backend.score_choices([ChoiceRequest(PREFIX, Q, (" A", " B", " C", " D"))])[0]
        assert res.error is None and res.new_tokens == res.prompt_tokens > 64  # one multi-token batch
        assert len(res.logprobs) == 4 and all(lp < 0 for lp in res.logprobs)
        again = backend.score_choices([ChoiceRequest(PREFIX, Q.replace("France", "Italy"), (" A", " B", " C", " D"))])[0]
        assert again.new_tokens < again.prompt_tokens  # the shared prefix was reused
        gen = backend.generate([GenerateRequest("", "Question: What is 2+3?\nAnswer:", max_tokens=8)])[0]
        assert gen.error is None and 0 < gen.completion_tokens <= 8
    finally:
        backend.close()


def test_auto_mode_probes_in_a_child_and_caches_the_verdict(smollm2_path):
    safe, reason = probe(str(smollm2_path), threads=2)
    assert isinstance(safe, bool) and reason
    assert repack_allowed(str(smollm2_path), "auto", 2) == safe
    assert repack_allowed(str(smollm2_path), "off", 2) is False
    assert repack_allowed(str(smollm2_path), "on", 2) is True


def test_probe_reports_a_crashing_child_as_unsafe(tmp_path, monkeypatch):
    """A child that dies by a signal (as the repacking segfault does) must be reported unsafe, not raised."""
    import subprocess
    import sys

    import evalkit.backends.safety as safety

    real_run = subprocess.run

    def crashing_run(cmd, **kw):
        return real_run([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], **kw)

    monkeypatch.setattr(safety.subprocess, "run", crashing_run)
    safe, reason = safety.probe("/nonexistent.gguf", 1)
    assert safe is False and "signal 11" in reason
