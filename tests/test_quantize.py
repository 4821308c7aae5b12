"""`evalkit quantize`: llama.cpp-derived levels, cached by content, with KL / top-1 / perplexity rows."""

from __future__ import annotations

import pytest

from evalkit.cli import main
from evalkit.store import Store

pytestmark = [pytest.mark.model]


def test_quantize_derives_cached_levels_and_stores_the_ladder(tmp_path, smollm2_path, capsys):
    from evalkit.gguf_info import file_sha256, read_gguf_info
    from evalkit.quantize import derive, derived_index

    db = tmp_path / "q.duckdb"
    main(["quantize", "smollm2-135m", "--to", "q8_0,Q4_0", "--n-ctx", "64", "--chunks", "2", "--threads", "1", "--db", str(db)])
    out = capsys.readouterr().out
    assert "reference: the source file" in out and "Q4_0" in out and "Q8_0" in out
    sha = file_sha256(smollm2_path)
    q8 = derive(smollm2_path, "Q8_0")
    assert not q8.created and q8.path.name == f"{sha[:16]}.Q8_0.gguf"  # content-addressed, from the cache
    assert read_gguf_info(q8.path).quant_type == "Q8_0"
    assert derived_index()[q8.path.name]["source_sha256"] == sha
    mtime = q8.path.stat().st_mtime_ns
    with Store(db, read_only=True) as store:
        ladder = store.query("SELECT * FROM ladder ORDER BY bits_per_weight DESC").set_index("quant_type")
        quants = store.query("SELECT * FROM quantizations")
    assert list(ladder.index) == ["Q8_0", "Q4_1", "Q4_0"]  # the source is the shipped Q4_1
    assert ladder.kl_divergence["Q4_1"] == 0 and ladder.top1_agreement["Q4_1"] == 1
    # requantizing Q4_1 to Q8_0 nearly keeps it; to Q4_0 loses more
    assert 0 < ladder.kl_divergence["Q8_0"] < ladder.kl_divergence["Q4_0"]
    assert (ladder.ref_perplexity == ladder.perplexity["Q4_1"]).all() and (ladder.n_tokens == 62).all()
    assert set(quants.source_model_id) == {sha} and sorted(quants.quant_type) == ["Q4_0", "Q8_0"]

    # a second call reuses files and stored rows
    main(["quantize", "smollm2-135m", "--to", "Q8_0", "--n-ctx", "64", "--chunks", "2", "--threads", "1", "--db", str(db)])
    assert q8.path.stat().st_mtime_ns == mtime
    with Store(db, read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM ladder").n[0] == 3


def test_quantize_rejects_unknown_types(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["quantize", "smollm2-135m", "--to", "Q8_0,Q7"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "unknown quantization type 'Q7'" in err and err.count("\n") == 1
