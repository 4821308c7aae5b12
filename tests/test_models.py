"""Model specs, GGUF facts and `evalkit models`."""

import subprocess
import sys

import pytest

from evalkit.errors import ModelError
from evalkit.gguf_info import read_gguf_info
from evalkit.models import SHIPPED, resolve_model


def test_shipped_models_resolve_to_real_gguf_files():
    for name in SHIPPED:
        ref = resolve_model(name)
        assert ref.path.exists() and ref.path.read_bytes()[:4] == b"GGUF"


def test_gguf_facts_of_shipped_models(smollm2_path, gemma_path):
    s = read_gguf_info(smollm2_path)
    assert (s.quant_type, s.architecture, s.context_length) == ("Q4_1", "llama", 8192)
    assert 130e6 < s.n_params < 140e6 and 5 < s.bits_per_weight < 6
    g = read_gguf_info(gemma_path)
    assert (g.quant_type, g.architecture) == ("Q4_K_M", "gemma3") and 260e6 < g.n_params < 280e6


def test_local_path_spec(smollm2_path):
    ref = resolve_model(str(smollm2_path))
    assert ref.source == "local" and ref.path == smollm2_path.resolve()


def test_truncated_gguf_is_a_model_error(tmp_path, smollm2_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(smollm2_path.read_bytes()[:1000])
    with pytest.raises(ModelError):
        read_gguf_info(cut)


def test_hf_spec_downloads_through_huggingface_hub(monkeypatch, tmp_path, smollm2_path):
    """The hf: path calls hf_hub_download with repo and file (the Hub itself is unreachable here)."""
    import huggingface_hub

    calls = {}

    def fake_download(repo_id, filename):
        calls.update(repo_id=repo_id, filename=filename)
        return str(smollm2_path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    ref = resolve_model("hf:owner/repo/sub/model.Q4_K_M.gguf")
    assert calls == {"repo_id": "owner/repo", "filename": "sub/model.Q4_K_M.gguf"} and ref.source == "hf"


def test_models_command_lists_size_and_quant():
    out = subprocess.run([sys.executable, "-m", "evalkit", "models"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "smollm2-135m" in out.stdout and "Q4_1" in out.stdout and "Q4_K_M" in out.stdout and "MB" in out.stdout
