"""Bad input: one line on stderr, exit code 2, no traceback, nothing written."""

import os
import subprocess
import sys

import pytest


def evalkit(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True, text=True, env=env, cwd=cwd)


def assert_one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("evalkit: error: ") and "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0]


def test_missing_model_file(tmp_path):
    assert_one_line_error(evalkit("run", "--model", str(tmp_path / "nope.gguf"), "--db", str(tmp_path / "x.duckdb")), "not found")
    assert not (tmp_path / "x.duckdb").exists()


def test_not_a_gguf(tmp_path):
    bad = tmp_path / "fake.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    assert_one_line_error(evalkit("run", "--model", str(bad)), "not a GGUF")


def test_unreadable_model(tmp_path, monkeypatch):
    """A permission error becomes a ModelError naming the fix (checked in-process: root reads anything)."""
    from pathlib import Path

    from evalkit.errors import ModelError
    from evalkit.gguf_info import check_gguf

    f = tmp_path / "locked.gguf"
    f.write_bytes(b"GGUF")

    def denied(self, *a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(ModelError, match="cannot read model file .*Permission denied.*permissions"):
        check_gguf(f)


def test_model_directory_instead_of_file(tmp_path):
    assert_one_line_error(evalkit("run", "--model", str(tmp_path)), "not a file")


def test_unknown_short_name_suggests():
    assert_one_line_error(evalkit("run", "--model", "smollm2-13m"), "Did you mean: smollm2-135m")


def test_hf_spec_offline_is_a_clear_error():
    assert_one_line_error(evalkit("run", "--model", "hf:someone/some-repo/model-Q4_0.gguf"), "Hugging Face Hub")


def test_bad_hf_spec():
    assert_one_line_error(evalkit("run", "--model", "hf:only-a-repo"), "hf:owner/repo/file.gguf")


def test_unknown_suite_suggests():
    assert_one_line_error(evalkit("run", "--suite", "mmul"), "Did you mean: mmlu")


def test_unknown_subject_suggests(data_dir):
    assert_one_line_error(evalkit("run", "--subset", "high_school_geografy", "--data-dir", str(data_dir)),
                          "Did you mean: high_school_geography")  # fmt: skip


def test_missing_data_names_both_sources(tmp_path):
    assert_one_line_error(evalkit("run", "--subset", "anatomy", "--db", str(tmp_path / "x.duckdb")), "--data-dir", "Hugging Face")


def test_bad_data_dir(tmp_path):
    assert_one_line_error(evalkit("run", "--data-dir", str(tmp_path / "nowhere")), "data directory not found")


def test_unknown_option_is_one_line():
    assert_one_line_error(evalkit("run", "--bogus"), "--bogus")


def test_db_that_is_not_duckdb_is_left_untouched(tmp_path, data_dir):
    db = tmp_path / "notes.duckdb"
    db.write_text("my precious notes")
    proc = evalkit("run", "--subset", "anatomy", "--limit", "1", "--db", str(db), "--data-dir", str(data_dir))
    assert_one_line_error(proc, "DuckDB")
    assert db.read_text() == "my precious notes"


def test_results_without_db(tmp_path):
    assert_one_line_error(evalkit("results", "--db", str(tmp_path / "none.duckdb")), "no results database")


def test_debug_shows_traceback(tmp_path):
    proc = evalkit("--debug", "run", "--model", str(tmp_path / "nope.gguf"))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_bad_suite_file_key_is_named(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[suite]\nname="mine"\nversion="1"\nkind="choice"\ncolour="red"\n')
    assert_one_line_error(evalkit("run", "--suite", str(f)), "unknown key 'suite.colour'", "Allowed keys")
