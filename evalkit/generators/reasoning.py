"""Generator ``reasoning``: multi-step problems with one exact integer answer and a ``steps`` knob.

Subsets ``steps_01`` ... ``steps_12`` (up to ``steps_30``) hold problems of exactly that many
operations. Two families alternate item by item (seeded start):

- ``arithmetic``: a word problem where one quantity changes step by step (buys, gives away,
  doubles, splits equally). Values stay whole and between 1 and 500.
- ``variables``: variable tracking (``x = 3; y = x + 4; x = y * 2; ...``). Each step reads the
  variable the step before wrote, so the answer depends on every step. Values stay in 0..999
  and every division is exact.

Each step is exactly one operation, recorded in ``meta["ops"]``:
``(op, k)`` for arithmetic and ``(op, target, left, right)`` for variables, with op in
add/sub/mul/div and left/right a variable name or an integer.
"""

from __future__ import annotations

import random
from typing import Any

from evalkit.generators.base import (
    check_count,
    check_options,
    int_list,
    item_id,
    name_list,
    rng_for,
    subset_number,
)
from evalkit.types import Item

NAME = "reasoning"
VERSION = "1"
FAMILIES = ["arithmetic", "variables"]
OPTIONS = ["steps", "families"]
MAX_STEPS = 30
ARITH_CAP = 500
VAR_CAP = 999
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}

PEOPLE = [
    "Maya", "Tomas", "Priya", "Kwame", "Lena", "Diego", "Aiko", "Omar", "Freya", "Mateus",
    "Zainab", "Hugo", "Ines", "Ravi", "Sofia", "Jonas", "Amara", "Felix", "Noor", "Bruno",
]
THINGS = [
    "marbles", "stickers", "apples", "postcards", "seashells", "pencils", "coins", "books",
    "candles", "buttons", "trading cards", "tomato plants", "jars of jam", "paper cranes",
    "tennis balls", "bottle caps", "cupcakes", "stamps", "keychains", "puzzle pieces",
]
ADD = [
    "{p} buys {k} more {t}.",
    "A friend gives {p} {k} {t}.",
    "{p} finds {k} {t} in an old box and keeps them.",
    "{p} wins {k} {t} at the school fair.",
    "{p} receives {k} {t} in the mail.",
    "{p} makes {k} new {t}.",
]
SUB = [
    "{p} gives {k} {t} to a neighbour.",
    "{p} sells {k} of the {t}.",
    "{p} loses {k} {t} on the way home.",
    "{p} donates {k} {t} to the library.",
    "{p} trades away {k} {t}.",
    "{k} of the {t} get broken, and {p} throws them away.",
]
MUL = {
    2: ["{p} doubles the number of {t}.", "After a good week, {p} has twice as many {t} as before."],
    3: ["{p} triples the number of {t}.", "{p} ends up with three times as many {t} as before."],
    4: ["{p} ends up with four times as many {t} as before."],
}
DIV = {
    2: ["{p} gives away half of the {t} and keeps the other half.", "{p} splits the {t} into 2 equal piles and keeps one pile."],
    3: ["{p} shares the {t} equally among 3 people, including {p}, and keeps one share.",
        "{p} splits the {t} into 3 equal piles and keeps one pile."],
    4: ["{p} packs the {t} equally into 4 boxes and keeps only one box.",
        "{p} shares the {t} equally among 4 people, including {p}, and keeps one share."],
    5: ["{p} splits the {t} into 5 equal piles and keeps one pile."],
}
INTRO = ["{p} has {v} {t}.", "{p} starts the day with {v} {t}.", "At first, {p} owns {v} {t}."]
ASK = ["How many {t} does {p} have now?", "How many {t} does {p} have at the end?"]
VAR_SETS = [("a", "b", "c"), ("x", "y", "z"), ("p", "q", "r"), ("m", "n", "k"), ("u", "v", "w")]
VAR_ASK = ["What is the value of {v} after the last step?", "What is the final value of {v}?",
           "After all the steps, what is the value of {v}?"]


def _arith_ops(rng: random.Random, value: int) -> list[tuple[str, int]]:
    """The operations possible on ``value`` that keep it whole and within 1..ARITH_CAP."""
    cands: list[tuple[str, int]] = []
    if value + 2 <= ARITH_CAP:
        cands += [("add", rng.randint(2, min(40, ARITH_CAP - value)))] * 3
    if value >= 3:
        cands += [("sub", rng.randint(1, min(40, value - 1)))] * 3
    if value * 2 <= ARITH_CAP:
        cands += [("mul", rng.choice([k for k in (2, 3, 4) if value * k <= ARITH_CAP]))] * 2
    divs = [k for k in (2, 3, 4, 5) if value % k == 0 and value // k >= 1]
    if divs:
        cands += [("div", rng.choice(divs))] * 2
    return cands


def _apply(op: str, a: int, b: int) -> int:
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    return a // b


def _arithmetic(rng: random.Random, steps: int) -> dict[str, Any]:
    person, thing = rng.choice(PEOPLE), rng.choice(THINGS)
    start = rng.randint(6, 60)
    value, ops, sentences = start, [], [rng.choice(INTRO).format(p=person, v=start, t=thing)]
    for _ in range(steps):
        op, k = rng.choice(_arith_ops(rng, value))
        phrases = {"add": ADD, "sub": SUB, "mul": MUL.get(k), "div": DIV.get(k)}[op]
        sentences.append(rng.choice(phrases).format(p=person, k=k, t=thing))
        value = _apply(op, value, k)
        ops.append((op, k))
    sentences.append(rng.choice(ASK).format(p=person, t=thing))
    question = " ".join(sentences)
    question = question[0].upper() + question[1:]
    return {"question": question, "answer": value, "ops": ops, "start": start, "person": person, "thing": thing}


def _var_candidates(rng: random.Random, env: dict[str, int], left: str) -> list[tuple[str, Any]]:
    """(op, right) pairs whose result on env[left] stays in 0..VAR_CAP; right is a variable or a constant."""
    a, out = env[left], []
    for right in [v for v in env if v != left] + [rng.randint(2, 15), rng.randint(2, 5)]:
        b = env[right] if isinstance(right, str) else right
        if a + b <= VAR_CAP:
            out.append(("add", right))
        if b <= a:
            out.append(("sub", right))
        if 2 <= b <= 6 and a * b <= VAR_CAP:
            out.append(("mul", right))
        if 2 <= b and a % b == 0:
            out.append(("div", right))
    return out


def _variables(rng: random.Random, steps: int) -> dict[str, Any]:
    names = rng.choice(VAR_SETS)
    env = {v: rng.randint(1, 20) for v in names}
    init, ops, lines = dict(env), [], []
    prev = rng.choice(names)
    for _ in range(steps):
        op, right = rng.choice(_var_candidates(rng, env, prev))
        target, left = rng.choice(names), prev
        b = env[right] if isinstance(right, str) else right
        result = _apply(op, env[left], b)
        if op in ("add", "mul") and rng.random() < 0.3:
            left, right = right, left  # commutative: write the operands the other way round
        ops.append((op, target, left, right))
        lines.append(f"{target} = {left} {SYMBOL[op]} {right}")
        env[target], prev = result, target
    ask = rng.choice(VAR_ASK).format(v=prev)
    return {"question": _var_layout(rng, init, lines, ask), "answer": env[prev], "ops": ops, "init": init, "ask": prev}


def _var_layout(rng: random.Random, init: dict[str, int], lines: list[str], ask: str) -> str:
    pairs = [f"{k} = {v}" for k, v in init.items()]
    style = rng.randrange(3)
    if style == 0:
        start = ", ".join(pairs[:-1]) + " and " + pairs[-1]
        body = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        return f"Start with {start}. Then apply these steps in order:\n{body}\n{ask}"
    if style == 1:
        return "; ".join(pairs + lines) + ".\n" + ask
    return "Here is a short program:\n" + "\n".join(pairs + lines) + f"\nAfter it runs: {ask[0].lower()}{ask[1:]}"


class ReasoningGenerator:
    """Multi-step problems; subsets ``steps_NN`` hold problems of exactly NN operations."""

    name = NAME
    version = VERSION

    def default_subsets(self, options: dict[str, Any]) -> list[str]:
        check_options(NAME, options, OPTIONS)
        steps = int_list(NAME, options, "steps", list(range(1, 13)), 1, MAX_STEPS)
        return [f"steps_{s:02d}" for s in steps]

    def generate(self, subset: str, seed: int, n: int, options: dict[str, Any]) -> list[Item]:
        check_options(NAME, options, OPTIONS)
        check_count(NAME, seed, n)
        steps = subset_number(NAME, subset, "steps_", 1, MAX_STEPS, "steps_05")
        families = name_list(NAME, options, "families", FAMILIES)
        offset = rng_for(NAME, VERSION, subset, seed, "families").randrange(len(families))
        return [self._item(subset, seed, i, steps, families[(i + offset) % len(families)]) for i in range(n)]

    def _item(self, subset: str, seed: int, i: int, steps: int, family: str) -> Item:
        rng = rng_for(NAME, VERSION, subset, seed, i)
        made = _arithmetic(rng, steps) if family == "arithmetic" else _variables(rng, steps)
        meta = {"generator": NAME, "generator_version": VERSION, "seed": seed, "index": i,
                "family": family, "steps": steps, "ops": made["ops"]}
        meta.update({k: made[k] for k in ("start", "person", "thing", "init", "ask") if k in made})
        return Item(id=item_id(subset, seed, i), subset=subset, fields={"question": made["question"]},
                    target=str(made["answer"]), meta=meta)
