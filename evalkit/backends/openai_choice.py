"""How an OpenAI-compatible server scores multiple choice, three ways, never mixed.

- ``next-token``: one request per item for the top-K log-probabilities of the next
  token (completions ``logprobs=K``, or chat ``logprobs``/``top_logprobs``). A choice
  whose continuation is one of those tokens gets its exact log-probability; one below
  the top K gets -inf (its probability is under the K-th token's). Exact for choices
  that are single tokens, like MMLU's " A" .. " D".
- ``echo``: one completions request per choice with ``echo`` and ``logprobs``: the
  server returns the log-probability of every prompt token, and the choice's tokens
  are summed. Exact for any continuation (servers that support it: vLLM, llama-cpp-python
  with a BOS token).
- ``letter``: the model generates a short answer, parsed strictly: it must start with
  one of the labels followed by a non-alphanumeric character or the end. Anything else
  is no prediction. For servers that return no log-probabilities (many frontier APIs).
"""

from __future__ import annotations

import math

NEG_INF = float("-inf")


def labels_of(continuations: tuple[str, ...]) -> list[str]:
    return [c.strip() for c in continuations]


def chat_instruction(labels: list[str]) -> str:
    return f"Answer with only the label of the correct option, one of: {', '.join(labels)}."


def chat_messages(prompt: str, labels: list[str] | None) -> list[dict]:
    msgs = [{"role": "system", "content": chat_instruction(labels)}] if labels else []
    return msgs + [{"role": "user", "content": prompt}]


# -- next-token -----------------------------------------------------------------------------
def top_from_completion(data: dict) -> dict[str, float]:
    """token text → logprob for the first generated token of a completions response."""
    lp = (data.get("choices") or [{}])[0].get("logprobs") or {}
    top = dict(((lp.get("top_logprobs") or [None])[0]) or {})
    tokens, values = lp.get("tokens") or [], lp.get("token_logprobs") or []
    if tokens and values and values[0] is not None:
        top.setdefault(tokens[0], values[0])
    return {str(k): float(v) for k, v in top.items() if v is not None}


def top_from_chat(data: dict) -> dict[str, float]:
    """token text → logprob for the first generated token of a chat response."""
    content = ((data.get("choices") or [{}])[0].get("logprobs") or {}).get("content") or []
    if not content:
        return {}
    first = content[0]
    top: dict[str, float] = {}
    for entry in [first, *(first.get("top_logprobs") or [])]:
        if entry.get("token") is not None and entry.get("logprob") is not None:
            top[entry["token"]] = max(top.get(entry["token"], NEG_INF), float(entry["logprob"]))
    return top


def score_next_token(continuations: tuple[str, ...], top: dict[str, float], stripped: bool) -> list[float]:
    """Log-probability of each continuation as a single next token; -inf when not in the top K.

    Completions prompts are scored exactly (" A" must be the token " A"); chat replies start a new
    message, so there the token is compared without surrounding whitespace (max over variants).
    Returns [] when no continuation is among the top tokens: there is no prediction.
    """
    if stripped:
        best: dict[str, float] = {}
        for tok, lp in top.items():
            best[tok.strip()] = max(best.get(tok.strip(), NEG_INF), lp)
        scores = [best.get(c.strip(), NEG_INF) for c in continuations]
    else:
        scores = [top.get(c, NEG_INF) for c in continuations]
    return scores if any(s > NEG_INF for s in scores) else []


# -- echo -----------------------------------------------------------------------------------
def score_echo(context: str, continuation: str, data: dict) -> float:
    """Sum of the log-probabilities of the continuation's tokens in an echoed completions response."""
    lp = (data.get("choices") or [{}])[0].get("logprobs") or {}
    offsets, values = lp.get("text_offset") or [], lp.get("token_logprobs") or []
    if not offsets or len(offsets) != len(values):
        raise ValueError("the server returned no prompt log-probabilities for echo")
    start, end = len(context), len(context) + len(continuation)
    picked = [i for i, off in enumerate(offsets) if start <= off < end]
    if not picked or offsets[picked[0]] != start:
        raise ValueError("the server's tokens do not split the prompt where the choice starts")
    total = 0.0
    for i in picked:
        if values[i] is None or math.isnan(float(values[i])):
            raise ValueError("the server returned no log-probability for a choice token")
        total += float(values[i])
    return total


# -- letter ---------------------------------------------------------------------------------
def parse_letter(text: str, labels: list[str]) -> int | None:
    """Index of the label the answer starts with ("B", "B.", "(B)", "B) Paris"), else None. Case-sensitive."""
    answer = text.strip()
    if answer.startswith("(") and ")" in answer:
        answer = answer[1:]
    for idx in sorted(range(len(labels)), key=lambda j: -len(labels[j])):
        label = labels[idx]
        if label and answer.startswith(label):
            rest = answer[len(label) :]
            if not rest or not rest[0].isalnum():
                return idx
    return None


# -- responses ------------------------------------------------------------------------------
def usage_of(data: dict) -> tuple[int | None, int | None]:
    usage = data.get("usage") or {}
    return usage.get("prompt_tokens"), usage.get("completion_tokens")


def text_of(data: dict) -> str:
    choice = (data.get("choices") or [{}])[0]
    if "message" in choice:
        return (choice.get("message") or {}).get("content") or ""
    return choice.get("text") or ""
