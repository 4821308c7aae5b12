"""Next-token choice for generation: greedy or seeded temperature sampling, optionally under a GBNF grammar.

Sampling reads the logit row in place (no copy). With a grammar, the token the
unconstrained rule picks is checked first against the grammar alone (one
candidate: cheap); only when the grammar rejects it is the grammar applied to the
whole vocabulary and the choice made again among the allowed tokens. For greedy
decoding this gives the constrained argmax exactly; for sampling it is rejection
sampling, whose result is distributed exactly as sampling from the renormalised
allowed tokens (p(t) + (1 - Z) * p(t) / Z = p(t) / Z).
"""

from __future__ import annotations

import ctypes

import numpy as np

_CANDIDATE = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class GrammarError(ValueError):
    pass


class TokenSampler:
    """Chooses tokens for one sequence; owns its grammar state (``close`` frees it)."""

    def __init__(self, C, vocab, n_vocab: int, temperature: float, seed: int, grammar: str | None):
        self._C, self.n_vocab, self.temperature = C, n_vocab, temperature
        self._rng = np.random.default_rng(seed)
        self._grammar = None
        if grammar:
            self._grammar = C.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
            if not self._grammar:
                raise GrammarError("the GBNF grammar could not be parsed (it needs a 'root' rule); check its syntax")

    def sample(self, logits: np.ndarray) -> int:
        """Choose the next token from a logit row (a view, valid until the next decode)."""
        tok = self._choose(logits)
        if self._grammar is None:
            return tok
        if not self._allowed(tok, float(logits[tok])):
            tok = self._choose(self._constrained(logits))
        return tok

    def accept(self, token: int) -> None:
        """Advance the grammar past *token* (never called with an end-of-generation token)."""
        if self._grammar is not None:
            self._C.llama_sampler_accept(self._grammar, token)

    def _choose(self, logits: np.ndarray) -> int:
        if self.temperature <= 0:
            tok = int(np.argmax(logits))
            if not np.isfinite(logits[tok]):
                raise GrammarError("the grammar allows no token here")
            return tok
        z = logits.astype(np.float64) / self.temperature
        top = z.max()
        if not np.isfinite(top):
            raise GrammarError("the grammar allows no token here")
        p = np.exp(z - top)
        p /= p.sum()
        return int(self._rng.choice(len(p), p=p))

    def _apply(self, cand: np.ndarray) -> None:
        arr = self._C.llama_token_data_array(
            data=cand.ctypes.data_as(self._C.llama_token_data_p), size=len(cand), selected=-1, sorted=False
        )
        self._C.llama_sampler_apply(self._grammar, ctypes.byref(arr))

    def _allowed(self, token: int, logit: float) -> bool:
        cand = np.zeros(1, dtype=_CANDIDATE)
        cand[0] = (token, logit, 0.0)
        self._apply(cand)
        return bool(np.isfinite(cand["logit"][0]))

    def _constrained(self, logits: np.ndarray) -> np.ndarray:
        cand = np.empty(self.n_vocab, dtype=_CANDIDATE)
        cand["id"] = np.arange(self.n_vocab, dtype=np.int32)
        cand["logit"] = logits
        cand["p"] = 0.0
        self._apply(cand)
        out = np.full(self.n_vocab, -np.inf, dtype=np.float32)  # the grammar may reorder: index by id
        out[cand["id"]] = cand["logit"]
        return out

    def close(self) -> None:
        if self._grammar is not None:
            self._C.llama_sampler_free(self._grammar)
            self._grammar = None
