"""Pulling answers out of what small models really emit.

Small models wrap answers in prose and markdown, write numbers with thousands
separators, currency and units, emit almost-JSON (single quotes, trailing commas,
Python literals), stop mid-object when they hit the token limit, or say nothing.
Every function here takes any string (empty included) and never raises.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)(?:```|$)", re.S)
_NUMBER = re.compile(r"(?<![\w.])([-−]?)[$€£¥]?\s?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?!\.?\d)")
_FULL_NUMBER = re.compile(r"\s*[-−]?\s*[$€£¥]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*%?\s*\.?\s*")


def strip_fences(text: str) -> str:
    """The inside of the first markdown code fence (also an unclosed one), else the text itself."""
    m = _FENCE.search(text or "")
    return m.group(2) if m else (text or "")


def normalize_text(text: str) -> str:
    """Casefold, unify unicode, drop markdown emphasis and surrounding quotes/punctuation, collapse whitespace."""
    t = unicodedata.normalize("NFKC", str(text or "")).casefold()
    t = t.replace("*", "").replace("`", "")
    t = re.sub(r"\s+", " ", t).strip()
    return t.strip(" \"'`.,;:!?()[]{}")


def _to_float(sign: str, digits: str) -> float:
    value = float(digits.replace(",", ""))
    return -value if sign else value


def numbers(text: str) -> list[float]:
    """Every number in the text, in order: '1,234.5' → 1234.5, '$18.' → 18, '-3 kg' → -3."""
    return [_to_float(m.group(1), m.group(2)) for m in _NUMBER.finditer(text or "")]


def parse_number(value) -> float | None:
    """A number from a JSON value or a string that is only a number (with currency, separators, %, a period)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _FULL_NUMBER.fullmatch(value):
        found = numbers(value.replace("−", "-").replace("- ", "-"))
        return found[0] if found else None
    return None


_ANSWER_PATTERNS = [
    re.compile(r"####\s*(.*)"),
    re.compile(r"\\boxed\{([^}]*)\}"),
    re.compile(r"(?:final answer|the answer)\s*(?:is|=|:)\s*(.*)", re.I),
    re.compile(r"\banswer\s*[:=]\s*(.*)", re.I),
]


def final_number(text: str, cut_at: tuple[str, ...] = ()) -> tuple[float | None, str]:
    """The model's final numeric answer and how it was found.

    First an explicit marker ('#### N', '\\boxed{N}', 'the answer is N', an 'Answer: N' line),
    then the last number of the text. The text is first cut at any of *cut_at* (a runaway
    model starting the next question), and markdown emphasis is removed.
    """
    t = (text or "").replace("**", "").replace("__", "")
    for marker in cut_at:
        pos = t.find(marker)
        if pos > 0:
            t = t[:pos]
    for pat in _ANSWER_PATTERNS:
        for m in pat.finditer(t):
            found = numbers(m.group(1)[:80])
            if found:
                return found[0], "marker"
    found = numbers(t)
    return (found[-1], "last_number") if found else (None, "none")


# -- JSON --------------------------------------------------------------------------------------


def _scan(s: str, start: int) -> tuple[int | None, list[str], str | None]:
    """From the bracket at *start*: index of its matching close (or None), open brackets left, open quote."""
    stack: list[str] = []
    quote: str | None = None
    i = start
    while i < len(s):
        c = s[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
        elif c in "}]":
            if not stack or stack[-1] != c:
                return None, stack, None
            stack.pop()
            if not stack:
                return i, [], None
        i += 1
    return None, stack, quote


def _outside_strings(s: str, fn) -> str:
    """Apply *fn* to the parts of *s* that are not inside quoted strings."""
    out, buf, quote, i = [], [], None, 0
    while i < len(s):
        c = s[i]
        if quote:
            buf.append(c)
            if c == "\\" and i + 1 < len(s):
                buf.append(s[i + 1])
                i += 2
                continue
            if c == quote:
                out.append("".join(buf))
                buf, quote = [], None
        elif c in "\"'":
            out.append(fn("".join(buf)))
            buf, quote = [c], c
        else:
            buf.append(c)
        i += 1
    out.append("".join(buf) if quote else fn("".join(buf)))
    return "".join(out)


def _pythonize(s: str) -> str:
    def words(part: str) -> str:
        part = re.sub(r"\btrue\b", "True", part)
        part = re.sub(r"\bfalse\b", "False", part)
        return re.sub(r"\bnull\b", "None", part)

    return _outside_strings(s, words)


def _no_trailing_commas(s: str) -> str:
    return _outside_strings(s, lambda part: re.sub(r",(\s*)(?=[}\]])", r"\1", part))


def _close(s: str, stack: list[str], quote: str | None) -> str:
    """Finish a JSON text cut off by the token limit: close the string, drop a dangling key, close brackets."""
    if quote:
        s += quote
    s = s.rstrip()
    s = re.sub(r"[,:]\s*$", "", s)
    if stack and stack[-1] == "}":  # a key without its value
        s = re.sub(r"([{,])\s*(\"[^\"]*\"|'[^']*')\s*$", lambda m: "{" if m.group(1) == "{" else "", s)
    return s + "".join(reversed(stack))


def _loads(candidate: str):
    """(value, strict) : strict JSON first, then repairs; (None, False) when nothing parses."""
    try:
        return json.loads(candidate), True
    except (ValueError, RecursionError):
        pass
    fixed = _no_trailing_commas(candidate)
    for attempt in (lambda: json.loads(fixed), lambda: ast.literal_eval(_pythonize(fixed))):
        try:
            value = attempt()
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict | list):
            return json.loads(json.dumps(value, default=str)), False
    return None, False


def extract_json(text: str, want: str = "any") -> tuple[object | None, dict]:
    """The first JSON object (or array) in a model's output, and how it was obtained.

    Handles prose around it, markdown fences, trailing commas, single quotes, Python literals
    and output cut off by the token limit. ``info`` has ``valid_json`` (the text held strictly
    valid JSON), ``repaired`` (it parsed only after repairs) and ``truncated``.
    """
    info = {"valid_json": False, "repaired": False, "truncated": False}
    body = strip_fences(text or "")
    opens = "{" if want == "object" else "[" if want == "array" else "{["
    tries = 0
    for start, ch in enumerate(body):
        if ch not in opens:
            continue
        tries += 1
        if tries > 8:
            break
        end, stack, quote = _scan(body, start)
        if end is not None:
            value, strict = _loads(body[start : end + 1])
        else:
            value, strict = _loads(_close(body[start:], stack, quote))
            strict = False
            info["truncated"] = value is not None
        if value is not None:
            info["valid_json"], info["repaired"] = strict, not strict
            return value, info
    return None, info
