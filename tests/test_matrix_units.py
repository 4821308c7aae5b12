"""Logic of the matrix feature without running a model: cost arithmetic, run-file schema errors, reference
points, model specs with quantization levels, the GGUF header reader, KL/perplexity arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.cost import HardwareProfile, api_price, api_prices, items_cost
from evalkit.errors import ConfigError


# -- cost ---------------------------------------------------------------------------------------
def test_hourly_cost_and_price_per_million_tokens_by_hand():
    p = HardwareProfile(purchase_usd=2190.0, amortization_years=2.0, power_watts=100.0,
                        electricity_usd_per_kwh=0.30, utilization=0.25)  # fmt: skip
    hardware = 2190.0 / (2.0 * 8760.0 * 0.25)  # = 0.5 $/h
    energy = 0.100 * 0.30  # = 0.03 $/h
    assert p.usd_per_hour() == pytest.approx(hardware + energy) == pytest.approx(0.53)
    # 0.53 $/h at 100 tokens/s = 360,000 tokens/h -> 0.53 / 0.36 $ per million
    assert p.usd_per_mtok(100.0) == pytest.approx(0.53 / 0.36)
    assert p.usd_per_mtok(200.0) == pytest.approx(p.usd_per_mtok(100.0) / 2)
    assert p.usd_per_mtok(0) is None and p.usd_per_mtok(None) is None and p.usd_per_mtok(float("nan")) is None


def test_items_cost_per_thousand_and_per_correct():
    per_1k, per_correct = items_cost(n_items=200, n_correct=50, tokens_in=400_000, tokens_out=20_000,
                                     usd_per_mtok_in=0.5, usd_per_mtok_out=2.0)  # fmt: skip
    total = 0.4 * 0.5 + 0.02 * 2.0  # = 0.24 $
    assert per_1k == pytest.approx(total / 200 * 1000)
    assert per_correct == pytest.approx(total / 50)
    # multiple choice generates nothing: an unknown output rate does not void the cost
    assert items_cost(10, 5, 1000, 0, 1.0, None)[0] == pytest.approx(0.1)
    assert items_cost(10, 0, 1000, 0, 1.0, None)[1] is None
    assert items_cost(10, 5, 1000, 10, 1.0, None) == (None, None)
    assert items_cost(0, 0, 0, 0, 1.0, 1.0) == (None, None)


def test_profile_rejects_impossible_figures_and_unknown_overrides():
    with pytest.raises(ConfigError, match="utilization"):
        HardwareProfile(utilization=0)
    with pytest.raises(ConfigError, match="amortization_years"):
        HardwareProfile(amortization_years=0)
    with pytest.raises(ConfigError, match="unknown cost setting 'watts'"):
        HardwareProfile().with_overrides(watts=3)
    assert HardwareProfile().with_overrides(power_watts=10, utilization=None).power_watts == 10


def test_api_price_table_is_dated_and_sourced():
    table = api_prices()
    assert len(table) >= 3
    for price in table.values():
        assert price.source_url.startswith("https://") and price.source
        assert len(price.as_of) == 10 and price.as_of[4] == "-"
        assert price.usd_per_mtok_out >= price.usd_per_mtok_in > 0
    assert api_price("GPT-4") is api_price("gpt-4")


# -- reference points -----------------------------------------------------------------------------
def test_reference_points_load_into_their_own_table_only(db_path):
    from evalkit.references import load_file, load_into
    from evalkit.store import Store

    version, points = load_file()
    assert version and all(p["source"] and p["source_url"].startswith("https://") and p["published"] for p in points)
    gpt4 = next(p for p in points if p["id"] == "gpt-4-mmlu-5shot")
    assert gpt4["value"] == 0.864 and gpt4["shots"] == 5
    with Store(db_path) as store:
        assert load_into(store.con) == len(points)
        load_into(store.con)  # idempotent
        assert store.query("SELECT count(*) AS n FROM reference_points").n[0] == len(points)
        for table in ("items", "metrics", "cells", "models"):
            assert store.query(f"SELECT count(*) AS n FROM {table}").n[0] == 0
        row = store.query("SELECT * FROM reference_points WHERE ref_id = 'gpt-4-mmlu-5shot'").iloc[0]
        assert row.usd_per_mtok_in == 30.0 and row.file_version == version


# -- model specs with levels ------------------------------------------------------------------------
def test_split_spec():
    from evalkit.cells import split_spec

    assert split_spec("smollm2-135m@q8_0") == ("smollm2-135m", "Q8_0")
    assert split_spec("smollm2-135m@source") == ("smollm2-135m", None)
    assert split_spec("smollm2-135m") == ("smollm2-135m", None)
    with pytest.raises(ConfigError, match="unknown quantization level 'Q8'. Did you mean: Q8_0"):
        split_spec("smollm2-135m@Q8")


# -- run files -------------------------------------------------------------------------------------
GOOD = """
[run]
db = "out/r.duckdb"
data_dir = "data"
threads = 1

[ladders]
small = ["Q6_K", "q4_0"]

[[models]]
model = "smollm2-135m"
quants = ["source", "Q8_0"]

[[models]]
model = "gemma3-270m"
ladder = "small"

[[suites]]
suite = "mmlu"
subsets = ["anatomy"]
limit = 4
shots = 0

[bench]
pp_tokens = 32
repetitions = 1

[quality]
enabled = false

[cost]
power_watts = 10
utilization = 1.0
"""


def test_run_file_expands_models_levels_and_settings(tmp_path):
    from evalkit.runfile import to_config

    (tmp_path / "data").mkdir()
    path = tmp_path / "evalkit.toml"
    path.write_text(GOOD)
    config = to_config(path)
    assert config.models == ["smollm2-135m", "smollm2-135m@Q8_0", "gemma3-270m", "gemma3-270m@Q6_K", "gemma3-270m@Q4_0"]
    assert str(config.db) == str(tmp_path / "out" / "r.duckdb") and config.data_dir == str(tmp_path / "data")
    assert config.suites[0].subsets == ["anatomy"] and config.suites[0].limit == 4 and config.suites[0].shots == 0
    assert config.bench.pp_tokens == 32 and config.bench.tg_tokens == 128 and config.bench.repetitions == 1
    assert config.ladder is None and config.threads == 1
    assert config.cost.power_watts == 10 and config.cost.utilization == 1.0 and config.cost.purchase_usd == 1000.0


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[models]]\nmodel="m"\nquant=["Q8_0"]\n[[suites]]\nsuite="mmlu"\n',
         "unknown key 'models.0.quant'. Allowed keys there: model, quants, ladder."),
        ('[[models]]\nmodel="m"\n[[suites]]\nsuite="mmlu"\n[cost]\nwatts=3\n', "unknown key 'cost.watts'. Allowed keys there: name, purchase_usd"),
        ('[[models]]\nmodel="m"\n[[suites]]\nsuite="mmlu"\n[bnch]\n', "unknown key 'bnch'. Allowed keys there: run, models, suites"),
        ('[[suites]]\nsuite="mmlu"\n', "missing key 'models'"),
        ('[[models]]\nmodel="m"\nquants=["Q9_0"]\n[[suites]]\nsuite="mmlu"\n', "models.0: unknown quantization type 'Q9_0'"),
        ('[[models]]\nmodel="m"\nladder="tiny"\n[[suites]]\nsuite="mmlu"\n', "models.0.ladder: unknown ladder 'tiny'"),
        ('[[models]]\nmodel="m"\n[[suites]]\nsuite="mmlu"\n[bench]\npp_tokens=0\n', "bench.pp_tokens: Input should be greater"),
        ('[[models]\nmodel="m"\n', "not valid TOML"),
    ],
)  # fmt: skip
def test_run_file_errors_are_one_line_with_exit_code_2(tmp_path, capsys, text, message):
    from evalkit.cli import main

    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["run", "-c", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1 and err.startswith("evalkit: error: ") and str(path) in err
    assert message in err and "Traceback" not in err


def test_run_file_cannot_be_mixed_with_model_flags(tmp_path, capsys):
    from evalkit.cli import main

    path = tmp_path / "evalkit.toml"
    path.write_text('[[models]]\nmodel="smollm2-135m"\n[[suites]]\nsuite="mmlu"\n')
    with pytest.raises(SystemExit) as exc:
        main(["run", "-c", str(path), "--limit", "3"])
    assert exc.value.code == 2 and "--limit cannot be combined with -c" in capsys.readouterr().err


# -- measurements helpers ----------------------------------------------------------------------------
def test_time_v_parsing_and_exit_descriptions():
    from evalkit.memory import current_rss_bytes, parse_time_v, peak_rss_bytes
    from evalkit.procs import describe_exit

    report = "\tCommand being timed: \"python\"\n\tMaximum resident set size (kbytes): 123456\n\tExit status: 0\n"
    assert parse_time_v(report) == 123456 * 1024 and parse_time_v("nothing") is None
    assert peak_rss_bytes() >= current_rss_bytes() > 0
    assert describe_exit(-9).startswith("killed by signal 9 (SIGKILL") and describe_exit(-11) == "killed by signal 11 (SIGSEGV)"
    assert describe_exit(3) == "exited with code 3"


def test_gguf_header_reader_agrees_with_the_gguf_package(smollm2_path):
    from gguf import GGUFReader

    from evalkit.gguf_header import read_header

    header = read_header(smollm2_path)
    reader = GGUFReader(str(smollm2_path), "r")
    assert header.n_params == sum(int(t.n_elements) for t in reader.tensors) and header.n_tensors == len(reader.tensors)
    field = reader.fields["general.architecture"]
    assert header.metadata["general.architecture"] == bytes(field.parts[field.data[0]]).decode()
    assert header.metadata["llama.context_length"] == int(reader.fields["llama.context_length"].parts[-1][0])


class _FakeModel:
    """Logit rows from a fixed table (unit test of the comparison arithmetic only)."""

    def __init__(self, table):
        self.table = table

    def rows(self, chunk, first):
        for pos in range(first, len(chunk) - 1):
            yield pos, self.table[pos]


def test_kl_top1_and_perplexity_arithmetic():
    from evalkit.ladder import compare

    rng = np.random.default_rng(1)
    ref_t = rng.normal(size=(8, 5)).astype(np.float32)
    lvl_t = (ref_t + rng.normal(scale=0.5, size=(8, 5))).astype(np.float32)
    chunk = [0, 1, 2, 3, 4, 0, 1, 2]
    out = compare(_FakeModel(ref_t), _FakeModel(lvl_t), [chunk])
    pos = range(4, 7)  # second half, each predicting the next token

    def logp(t, i):
        z = t[i].astype(np.float64)
        return z - z.max() - math.log(np.exp(z - z.max()).sum())

    kl = np.mean([np.sum(np.exp(logp(ref_t, i)) * (logp(ref_t, i) - logp(lvl_t, i))) for i in pos])
    ppl = math.exp(-np.mean([logp(lvl_t, i)[chunk[i + 1]] for i in pos]))
    same = np.mean([np.argmax(ref_t[i]) == np.argmax(lvl_t[i]) for i in pos])
    assert out["n_tokens"] == 3 and out["kl_divergence"] == pytest.approx(kl) and out["perplexity"] == pytest.approx(ppl)
    assert out["top1_agreement"] == pytest.approx(same) and out["kl_divergence"] > 0
    same_model = compare(_FakeModel(ref_t), _FakeModel(ref_t), [chunk])
    assert same_model["kl_divergence"] == pytest.approx(0, abs=1e-12) and same_model["top1_agreement"] == 1.0
