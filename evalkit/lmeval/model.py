"""An lm-eval model backed by an evalkit backend (in-process llama.cpp or an OpenAI-compatible server).

- ``loglikelihood``: requests that share a context become one :class:`ChoiceRequest` with
  all their continuations (lm-eval's multiple choice asks once per choice), so the backend
  processes the context once. ``is_greedy`` is not computed (always False): tasks whose
  metric needs it (e.g. lambada's accuracy) are not supported.
- ``generate_until``: :class:`GenerateRequest` with lm-eval's ``until`` as stop strings.
- ``loglikelihood_rolling`` (perplexity tasks) is not supported.

Per-context measurements (latency, tokens) are kept in :attr:`EvalkitLM.stats`, so
``evalkit run --lm-eval-task`` can store them with each item.
"""

from __future__ import annotations

from lm_eval.api.model import LM
from lm_eval.utils import simple_parse_args_string

from evalkit.backends.factory import backend_fingerprint, open_backend
from evalkit.errors import BackendUnavailable, ConfigError
from evalkit.models import model_facts, resolve_model
from evalkit.types import ChoiceRequest, GenerateRequest

CHUNK = 16
NEG_INF = float("-inf")


class EvalkitLM(LM):
    """lm-eval model ``evalkit``: ``--model_args model=SPEC[,n_ctx=4096,threads=N,repack=auto]``."""

    def __init__(self, model: str = "smollm2-135m", n_ctx: int = 4096, threads: int | None = None, repack: str = "auto",
                 ref=None, **_ignored):  # fmt: skip
        super().__init__()
        self.ref = ref or resolve_model(str(model))
        self._check_ref()
        self.model_id, self.facts = model_facts(self.ref)
        self.fingerprint = backend_fingerprint(self.ref)
        self.backend = open_backend(self.ref, n_ctx=int(n_ctx), threads=int(threads) if threads else None, repack=repack)
        self.stats: dict[str, dict] = {}

    def _check_ref(self) -> None:
        pass

    @classmethod
    def create_from_arg_string(cls, arg_string: str, additional_config: dict | None = None):
        args = simple_parse_args_string(arg_string or "")
        return cls(**args)

    @classmethod
    def create_from_arg_obj(cls, arg_dict: dict, additional_config: dict | None = None):
        return cls(**dict(arg_dict))

    def get_model_info(self) -> dict:
        """Merged into lm-eval's results["config"]: lets ``evalkit import`` link results to this model."""
        return {"evalkit_model_id": self.model_id, "evalkit_spec": self.ref.spec, "evalkit_name": self.ref.name,
                "evalkit_fingerprint": self.fingerprint, "evalkit_facts": self.facts}  # fmt: skip

    # -- lm-eval's three request types -------------------------------------------------------
    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        by_context: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            by_context.setdefault(req.args[0], []).append(i)
        out: list[tuple[float, bool]] = [(NEG_INF, False)] * len(requests)
        contexts = list(by_context)
        if getattr(self.backend, "method", None) == "letter":
            raise ConfigError(f"{self.ref.name} gives no log-probabilities (letter method): lm-eval loglikelihood tasks need them.")
        for lo in range(0, len(contexts), CHUNK):
            chunk = contexts[lo : lo + CHUNK]
            batch = [ChoiceRequest("", ctx, tuple(requests[i].args[1] for i in by_context[ctx])) for ctx in chunk]
            for ctx, res in zip(chunk, self.backend.score_choices(batch)):
                if res.error:
                    raise BackendUnavailable(f"{self.ref.name}: {res.error}")
                scores = res.logprobs or [NEG_INF] * len(by_context[ctx])
                for i, lp in zip(by_context[ctx], scores):
                    out[i] = (float(lp), False)
                self.stats[ctx] = {"latency_ms": res.latency_ms, "prompt_tokens": res.prompt_tokens,
                                   "completion_tokens": res.completion_tokens}  # fmt: skip
        return out

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        reqs = [self._generate_request(r.args[0], r.args[1] if len(r.args) > 1 else {}) for r in requests]
        out = []
        for lo in range(0, len(reqs), CHUNK):
            for req, res in zip(reqs[lo : lo + CHUNK], self.backend.generate(reqs[lo : lo + CHUNK])):
                if res.error:
                    raise BackendUnavailable(f"{self.ref.name}: {res.error}")
                self.stats[req.body] = {"latency_ms": res.latency_ms, "prompt_tokens": res.prompt_tokens,
                                        "completion_tokens": res.completion_tokens, "ttft_ms": res.ttft_ms}  # fmt: skip
                out.append(res.text)
        return out

    @staticmethod
    def _generate_request(context: str, gen_kwargs: dict) -> GenerateRequest:
        until = gen_kwargs.get("until") or []
        until = [until] if isinstance(until, str) else list(until)
        sample = bool(gen_kwargs.get("do_sample", False))
        temperature = float(gen_kwargs.get("temperature", 0.0)) if sample else 0.0
        max_tokens = int(gen_kwargs.get("max_gen_toks", gen_kwargs.get("max_tokens", 256)))
        return GenerateRequest("", context, max_tokens=max_tokens, stop=tuple(until), temperature=temperature)

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        raise ConfigError("lm-eval perplexity tasks (loglikelihood_rolling) are not supported through evalkit yet. Pick another task.")

    def close(self) -> None:
        if getattr(self, "backend", None) is not None:
            self.backend.close()
            self.backend = None


class EvalkitLlamaCppLM(EvalkitLM):
    """lm-eval model ``evalkit-llamacpp``: evalkit's in-process llama.cpp backend; ``model`` is a short name,
    a .gguf path or hf:owner/repo/file.gguf."""

    def _check_ref(self) -> None:
        if self.ref.backend != "llamacpp":
            raise ConfigError(f"evalkit-llamacpp runs GGUF models in-process; {self.ref.spec} is a server model. Use --model evalkit.")
