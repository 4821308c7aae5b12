"""Scorers for short answers: exact text, a label out of a set, a final number."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from evalkit.scorers import Score
from evalkit.scorers.text import final_number, normalize_text, strip_fences

_PREFIX = re.compile(r"^\s*(?:answer|label|category|intent|topic|sentiment|output)\s*[:=-]\s*", re.I)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _first_line(text: str) -> str:
    for line in strip_fences(text or "").splitlines():
        if line.strip():
            return line
    return ""


class ExactMatch:
    """Gold text equals the answer: first non-empty line, 'Answer:' prefix, markdown, quotes and case ignored."""

    class Args(_Args):
        ignore_case: bool = True
        first_line: bool = True

    metrics = ("accuracy",)

    def __init__(self, suite, args: Args):
        self.args = args

    def score(self, output: str, item) -> Score:
        text = _first_line(output) if self.args.first_line else strip_fences(output or "")
        text = _PREFIX.sub("", text.strip())
        pred = normalize_text(text) if self.args.ignore_case else text.strip().strip(" \"'`.")
        gold = normalize_text(item.target) if self.args.ignore_case else item.target.strip()
        ok = bool(pred) and pred == gold
        return Score(float(ok), ok, text.strip() or None, {"normalized": pred})


def _label_key(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_\-/]+", " ", normalize_text(text))).strip()


class LabelMatch:
    """Which of the suite's labels the output names: an exact label, else the earliest (longest) label mentioned.

    Case, underscores, hyphens and slashes are ignored ('card_arrival' = 'Card arrival').
    """

    class Args(_Args):
        pass

    metrics = ("accuracy", "macro_f1")

    def __init__(self, suite, args: Args):
        self.labels = list(suite.labels)
        self.keys = {_label_key(label): label for label in self.labels}

    def find(self, output: str) -> tuple[str | None, str]:
        text = _PREFIX.sub("", strip_fences(output or "").strip())
        whole = _label_key(text)
        if whole in self.keys:
            return self.keys[whole], "exact"
        first = _label_key(_PREFIX.sub("", _first_line(text)))
        if first in self.keys:
            return self.keys[first], "first_line"
        best = None
        for key, label in self.keys.items():
            m = re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", whole)
            if m and (best is None or (m.start(), -len(key)) < (best[0], -len(best[1]))):
                best = (m.start(), key, label)
        return (best[2], "mentioned") if best else (None, "none")

    def score(self, output: str, item) -> Score:
        label, how = self.find(output)
        ok = label is not None and label == item.target
        return Score(float(ok), ok, label, {"found": how})


class Numeric:
    """Exact numeric match of the final answer ('#### N', 'the answer is N', an 'Answer: N' line, else the last number).

    Thousands separators, currency signs, units and a trailing period are ignored; the
    gold may itself be written '#### N' or with separators.
    """

    class Args(_Args):
        tolerance: float = 1e-6
        cut_at: list[str] = ["\nQuestion:", "\nQ:", "\n\n\n"]

    metrics = ("accuracy",)

    def __init__(self, suite, args: Args):
        self.args = args

    def score(self, output: str, item) -> Score:
        gold, _ = final_number(item.target)
        pred, how = final_number(output or "", tuple(self.args.cut_at))
        ok = pred is not None and gold is not None and abs(pred - gold) <= self.args.tolerance * max(1.0, abs(gold))
        shown = None if pred is None else (str(int(pred)) if float(pred).is_integer() else repr(pred))
        return Score(float(ok), ok, shown, {"found": how})
