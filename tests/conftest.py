"""Shared fixtures: the real shared benchmark data, the shipped models, a fresh results database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    env = os.environ.get("EVALKIT_TEST_DATA")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if (cand / "mmlu" / "test").is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """../shared/data (or $EVALKIT_TEST_DATA). In CI its absence is a failure, elsewhere a skip."""
    found = shared_data_dir()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("shared benchmark data not found: set EVALKIT_TEST_DATA or check out ../shared/data")
        pytest.skip("shared benchmark data not found (set EVALKIT_TEST_DATA)")
    return found


def pytest_configure(config):
    """The whole test session uses its own evalkit cache (repack verdicts, hashes, derived models)."""
    import tempfile

    os.environ["EVALKIT_CACHE"] = tempfile.mkdtemp(prefix="evalkit-test-cache-")
    os.environ.pop("EVALKIT_DATA_DIR", None)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "results.duckdb"


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    from evalkit.models import resolve_model

    return resolve_model("smollm2-135m").path


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory) -> Path:
    from evalkit.models import resolve_model

    return resolve_model("gemma3-270m").path
