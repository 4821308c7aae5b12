"""Bridge to lm-evaluation-harness (lm-eval 0.4.x).

- :class:`evalkit.lmeval.model.EvalkitLM` is an lm-eval model backed by any evalkit backend,
  registered in lm-eval as ``evalkit`` (any evalkit model spec) and ``evalkit-llamacpp``
  (evalkit's in-process llama.cpp backend), so ``lm_eval --model evalkit-llamacpp
  --model_args model=smollm2-135m ...`` works.
- lm-eval 0.4.13 discovers models only through its own ``MODEL_MAPPING``; it has no plugin
  entry points. evalkit therefore installs ``evalkit_lmeval.pth``, which adds a post-import
  hook (:mod:`evalkit.lmeval.hook`): when ``lm_eval.models`` is imported, :func:`register`
  adds the two names as lazy placeholders. Nothing else is imported at start-up.
  ``python -m evalkit.lmeval ...`` is the same CLI without relying on the .pth file.
- :mod:`evalkit.lmeval.runtask` runs lm-eval tasks from ``evalkit run --lm-eval-task`` and
  stores per-item results; :mod:`evalkit.lmeval.samples` turns lm-eval results and samples
  into evalkit rows (also used by ``evalkit import``).

Keep this module free of lm-eval imports: the start-up hook imports it.
"""

from __future__ import annotations

MODELS = {"evalkit": "EvalkitLM", "evalkit-llamacpp": "EvalkitLlamaCppLM"}


def register() -> None:
    """Add evalkit's models to lm-eval's model registry (lazily; safe to call twice)."""
    import lm_eval.models  # noqa: F401  (lm-eval's own models first: its registry loads them only when empty)
    from lm_eval.api.registry import model_registry

    for alias, cls in MODELS.items():
        if alias not in model_registry:
            model_registry.register(alias, target=f"evalkit.lmeval.model:{cls}")
