"""Open the backend a resolved model needs (lazily: a model whose items are all stored is never loaded)."""

from __future__ import annotations

from evalkit.models import ModelRef


def backend_fingerprint(ref: ModelRef) -> dict:
    """The backend settings that change results; part of every stored item's key."""
    if ref.server is not None:
        from evalkit.backends.openai_http import fingerprint_of

        return fingerprint_of(ref.server)
    return {"backend": ref.backend}


def open_backend(ref: ModelRef, *, n_ctx: int = 4096, threads: int | None = None, repack: str = "auto"):
    """Construct the backend for *ref* (its ``backend`` field picks the class)."""
    if ref.backend == "llamacpp":
        from evalkit.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(ref.path, n_ctx=n_ctx, threads=threads, repack=repack)
    from evalkit.backends import get_backend_class

    return get_backend_class(ref.backend)(ref)


class LazyBackend:
    """Loads the model on first use; ``close`` frees it."""

    def __init__(self, ref: ModelRef, **options):
        self.ref, self.options, self._backend = ref, options, None
        self.fingerprint = backend_fingerprint(ref)

    def get(self):
        if self._backend is None:
            self._backend = open_backend(self.ref, **self.options)
        return self._backend

    @property
    def loaded(self):
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
