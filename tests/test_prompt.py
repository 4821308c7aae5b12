"""MMLU prompt formatting against a hand-checked example (the standard Hendrycks / lm-eval format)."""

from evalkit.prompt import build_body, build_prefix, continuations
from evalkit.suite import load_suite
from evalkit.types import Item, SubsetData

EXPECTED_ONE_SHOT = (
    "The following are multiple choice questions (with answers) about high school geography.\n\n"
    "Which of these is a continent?\nA. Peru\nB. Africa\nC. Paris\nD. Nile\nAnswer: B\n\n"
    "What is the longest river?\nA. Nile\nB. Thames\nC. Seine\nD. Rhine\nAnswer:"
)


def _item(i, q, choices, target):
    return Item(id=str(i), subset="high_school_geography", fields={"question": q, "choices": choices}, target=target)


def test_one_shot_prompt_matches_hand_checked_text():
    suite = load_suite("mmlu")
    shot = _item(0, "Which of these is a continent?", ["Peru", "Africa", "Paris", "Nile"], "B")
    q = _item(1, "  What is the longest river? ", ["Nile", "Thames", "Seine", "Rhine"], "A")
    data = SubsetData("high_school_geography", [q], [shot])
    prefix = build_prefix(suite, data, shots=1)
    assert prefix + build_body(suite, q) == EXPECTED_ONE_SHOT
    assert continuations(suite) == (" A", " B", " C", " D")


def test_zero_shot_has_header_only():
    suite = load_suite("mmlu")
    data = SubsetData("anatomy", [], [_item(0, "x", ["a", "b", "c", "d"], "A")])
    assert build_prefix(suite, data, shots=0) == (
        "The following are multiple choice questions (with answers) about anatomy.\n\n"
    )


def test_five_shot_uses_the_first_five_dev_rows(data_dir):
    from evalkit.sources import load_subsets

    suite = load_suite("mmlu")
    d = load_subsets(suite, ["anatomy"], data_dir)["anatomy"]
    prefix = build_prefix(suite, d)
    assert prefix.count("\nAnswer: ") == 5
    for ex in d.fewshot_pool:
        assert ex.fields["question"].strip() in prefix
