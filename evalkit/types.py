"""Core value types shared by sources, prompts, backends and the runner. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Item:
    """One question of a suite: the fields its template reads, and the gold answer."""

    id: str
    subset: str
    fields: dict[str, Any]
    target: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SubsetData:
    """The items of one subset and the pool its few-shot examples are drawn from."""

    name: str
    items: list[Item]
    fewshot_pool: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class ChoiceRequest:
    """Score each continuation after prefix + body by its log-likelihood.

    ``prefix`` is shared by many requests (header and few-shot examples); the
    backend keeps its KV cache and processes it once.
    """

    prefix: str
    body: str
    continuations: tuple[str, ...]


@dataclass
class ChoiceResult:
    logprobs: list[float]  # sum of log-probabilities of each continuation's tokens
    prompt_tokens: int  # tokens of prefix + body
    new_tokens: int  # tokens actually decoded for this request (after KV reuse)
    latency_ms: float
    error: str | None = None
    # Backends that pick a choice without log-likelihoods (a server asked to answer with a
    # letter) leave ``logprobs`` empty and set ``choice_index`` (None: no parsable answer).
    choice_index: int | None = None
    completion_tokens: int | None = None  # tokens generated (servers: as billed)
    output: str | None = None  # the generated answer, when there is one
    details: dict = field(default_factory=dict)  # e.g. {"method": "letter"}; stored with the item


@dataclass(frozen=True)
class GenerateRequest:
    prefix: str
    body: str
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    seed: int = 0
    grammar: str | None = None


@dataclass
class GenerateResult:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    ttft_ms: float | None = None
    finish_reason: str = "stop"
    error: str | None = None
