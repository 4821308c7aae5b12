"""Source loaders on the real shared data (row counts from each SOURCE.md), and clean failures offline."""

from __future__ import annotations

import pytest

from evalkit.errors import DataUnavailable
from evalkit.scorers.entities import spans_from_tags
from evalkit.sources import load_subsets
from evalkit.suite import load_suite


def _load(name, data_dir):
    suite = load_suite(name)
    return suite, load_subsets(suite, ["default"], data_dir)["default"]


def _by_id(data, item_id):
    return next(it for it in data.items if it.id == item_id)


def test_ag_news_csv_without_header(data_dir):
    suite, d = _load("ag_news", data_dir)
    assert len(d.items) == 7600 and d.fewshot_pool == []
    counts = {lab: sum(1 for it in d.items if it.target == lab) for lab in suite.labels}
    assert counts == {"World": 1900, "Sports": 1900, "Business": 1900, "Sci/Tech": 1900}
    first = _by_id(d, "test/0")
    assert first.target == "Business" and first.fields["text"].startswith("Fears for T N pension after talks Unions")
    assert len({it.target for it in d.items[:20]}) == 4  # shuffled: a --limit sample spans the topics


def test_banking77_csv_with_header_and_train_pool(data_dir):
    suite, d = _load("banking77", data_dir)
    assert len(d.items) == 3080 and len(d.fewshot_pool) == 10003
    assert {it.target for it in d.items} == set(suite.labels) and len(suite.labels) == 77
    assert all(sum(1 for it in d.items if it.target == lab) == 40 for lab in suite.labels)
    first = _by_id(d, "test/0")
    assert first.fields["text"] == "How do I locate my card?" and first.target == "card_arrival"
    assert len({it.target for it in d.items[:20]}) > 10  # the file is grouped by label; the suite shuffles it


def test_conll2003_sentences_and_entities(data_dir):
    _, d = _load("conll2003", data_dir)
    assert len(d.items) == 3453 and len(d.fewshot_pool) == 3250
    assert sum(len(it.fields["tokens"]) for it in d.items) == 46435
    spans = [s for it in d.items for s in spans_from_tags(it.fields["tags"])]
    assert len(spans) == 5648
    assert {t: sum(1 for s in spans if s[0] == t) for t in ("PER", "LOC", "ORG", "MISC")} == {
        "PER": 1617, "LOC": 1668, "ORG": 1661, "MISC": 702}  # fmt: skip
    assert sum(len(spans_from_tags(it.fields["tags"])) for it in d.fewshot_pool) == 5942


def test_wnut17_tab_separated(data_dir):
    _, d = _load("wnut17", data_dir)
    assert len(d.items) == 1287 and len(d.fewshot_pool) == 1009
    assert sum(len(it.fields["tokens"]) for it in d.items) == 23394
    spans = [s for it in d.items for s in spans_from_tags(it.fields["tags"])]
    assert len(spans) == 1079
    assert sum(1 for s in spans if s[0] == "person") == 429


def test_gsm8k_jsonl_final_numbers(data_dir):
    _, d = _load("gsm8k", data_dir)
    assert len(d.items) == 1319 and len(d.fewshot_pool) == 7473
    assert d.items[0].target == "18" and d.items[0].id == "test/0"  # GSM8K keeps the file's order
    assert all(it.target.lstrip("-").isdigit() for it in d.items + d.fewshot_pool)  # commas stripped, integers
    assert sum(1 for it in d.items if it.target.startswith("-")) == 2
    assert "<<" not in d.fewshot_pool[0].fields["solution"] and "####" in d.fewshot_pool[0].fields["solution"]


def test_sst2_is_hub_only_and_fails_cleanly_offline(data_dir, monkeypatch):
    from evalkit.netcheck import hub_reachable

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_reachable.cache_clear()
    try:
        with pytest.raises(DataUnavailable) as exc:
            load_subsets(load_suite("sst2"), ["default"], data_dir)
    finally:
        hub_reachable.cache_clear()
    msg = str(exc.value)
    assert "stanfordnlp/sst2" in msg and "--data-dir" in msg and "\n" not in msg


def test_missing_local_copy_without_hub(tmp_path):
    suite_file = tmp_path / "mine.toml"
    suite_file.write_text(
        '[suite]\nname = "mine"\nversion = "1"\nkind = "choice"\n'
        '[source]\ntype = "jsonl"\nlocal = "nowhere.jsonl"\n'
        '[prompt]\ntemplate = "{{ q }}"\n[choices]\nlabels = ["A", "B"]\n'
    )
    with pytest.raises(DataUnavailable) as exc:
        load_subsets(load_suite(str(suite_file)), ["default"], None)
    assert "nowhere.jsonl" in str(exc.value) and "--data-dir" in str(exc.value)


def _fake_hub(monkeypatch, tables: dict):
    """The Hub replaced by in-memory `datasets` tables (with real ClassLabel features): no network in tests."""
    import datasets

    from evalkit.sources import hub

    monkeypatch.setattr("evalkit.netcheck.hub_reachable", lambda *a, **k: True)
    calls = []

    def load_dataset(path, name=None, split=None, revision=None):
        calls.append((path, name, split))
        return tables[split]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls, hub


def test_hub_rows_map_to_the_same_items_as_the_local_copy(monkeypatch, data_dir):
    import datasets

    suite, local = _load("ag_news", data_dir)
    first = _by_id(local, "test/0")
    title_desc = first.fields["text"]
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=suite.labels)})
    table = datasets.Dataset.from_dict({"text": [title_desc], "label": [suite.labels.index(first.target)]}, features=features)
    calls, _ = _fake_hub(monkeypatch, {"test": table})
    hub_item = load_subsets(suite, ["default"], None)["default"].items[0]
    assert calls == [("fancyzhx/ag_news", None, "test")]
    assert (hub_item.id, hub_item.fields["text"], hub_item.target) == (first.id, first.fields["text"], first.target)


def test_hub_ner_tags_become_names(monkeypatch, data_dir):
    import datasets

    suite, local = _load("conll2003", data_dir)
    first = _by_id(local, "test/0")
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    features = datasets.Features({"tokens": datasets.List(datasets.Value("string")), "ner_tags": datasets.List(datasets.ClassLabel(names=names))})
    table = datasets.Dataset.from_dict({"tokens": [first.fields["tokens"]], "ner_tags": [[names.index(t) for t in first.fields["tags"]]]}, features=features)
    calls, _ = _fake_hub(monkeypatch, {"test": table, "validation": table})
    hub_data = load_subsets(suite, ["default"], None)["default"]
    assert ("eriktks/conll2003", None, "validation") in calls  # Hub split names differ from the files'
    assert hub_data.items[0].target == first.target == '{"LOC": ["JAPAN"], "PER": ["CHINA"]}'
