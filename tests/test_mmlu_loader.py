"""The MMLU loader on the real shared data, through the same local-directory path users use."""

import pytest

from evalkit.errors import DataUnavailable
from evalkit.sources import list_subsets, load_subsets
from evalkit.suite import load_suite


@pytest.fixture(scope="module")
def mmlu():
    return load_suite("mmlu")


def test_all_57_subjects_and_14042_test_rows(mmlu, data_dir):
    subjects = list_subsets(mmlu)
    assert len(subjects) == 57
    data = load_subsets(mmlu, subjects, data_dir)
    assert sum(len(d.items) for d in data.values()) == 14042
    assert all(len(d.fewshot_pool) == 5 for d in data.values())


def test_groups_partition_the_subjects(mmlu):
    groups = mmlu.groups
    assert set(groups) == {"stem", "humanities", "social_sciences", "other"}
    flat = [s for g in groups.values() for s in g]
    assert len(flat) == len(set(flat)) == 57
    assert {len(g) for g in groups.values()} == {19, 13, 12, 13} or sorted(len(g) for g in groups.values()) == [12, 13, 13, 19]


def test_item_fields(mmlu, data_dir):
    d = load_subsets(mmlu, ["high_school_geography"], data_dir)["high_school_geography"]
    item = d.items[0]
    assert item.id == "high_school_geography/test/0"
    assert len(item.fields["choices"]) == 4 and item.target in "ABCD"
    assert len(d.items) == 198


def test_missing_local_data_names_both_options(mmlu, tmp_path):
    with pytest.raises(DataUnavailable) as exc:
        load_subsets(mmlu, ["anatomy"], tmp_path)
    assert "--data-dir" in str(exc.value) and "Hugging Face" in str(exc.value)


def test_hub_unreachable_names_both_options(mmlu, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from evalkit.netcheck import hub_reachable

    hub_reachable.cache_clear()
    with pytest.raises(DataUnavailable) as exc:
        load_subsets(mmlu, ["anatomy"], None)
    hub_reachable.cache_clear()
    msg = str(exc.value)
    assert "cais/mmlu" in msg and "--data-dir" in msg and "EVALKIT_DATA_DIR" in msg
