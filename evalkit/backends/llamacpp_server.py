"""llama-cpp-python's OpenAI-compatible server, started with evalkit's repacking guard.

    python -m evalkit.backends.llamacpp_server [--keep-eog] <llama_cpp.server arguments>

Stock ``python -m llama_cpp.server`` loads the model with llama.cpp's CPU weight-repacking
buffers on; on some AVX-512 CPUs (this project's machines among them) its first multi-token
batch then segfaults, that is, the server dies on its first request. ``llama_cpp.server``
has no option for it, but fills the model parameters from ``llama_model_default_params``,
so that function is wrapped here to set ``use_extra_bufts`` the way evalkit's in-process
backend does (:func:`evalkit.backends.safety.repack_allowed`: a probe in a child process,
cached per build, CPU and model file; ``EVALKIT_REPACK=on|off`` overrides it). The server
and ``evalkit run`` then also run the same kernels.

``--keep-eog`` is for comparisons with lm-evaluation-harness. Its ``gguf`` model asks for
``context + continuation`` with ``echo=True, max_tokens=1`` and sums the echoed
log-probabilities from the continuation's first token up to, but not including, the last
one, which it takes to be the generated token. llama-cpp-python stops *before* appending a
sampled end-of-generation token, so when the greedy next token after the continuation is
end-of-generation nothing is generated, lm-eval drops the continuation's own last token,
and a one-token continuation reads exactly 0.0. With ``--keep-eog`` the server's
end-of-generation test answers False, so the sampled token is returned like any other.
Nothing lm-eval sums changes: the echoed log-probabilities come from the same forward pass,
and the generated token is the one it discards. Generation then never stops at
end-of-generation, so do not use it for anything else.
"""

from __future__ import annotations

import runpy
import sys


def _arg(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else None


def main(argv: list[str]) -> None:
    from llama_cpp import llama_cpp as C

    from evalkit.backends.llamacpp import with_extra_bufts
    from evalkit.backends.safety import repack_allowed

    if "--keep-eog" in argv:
        argv.remove("--keep-eog")
        C.llama_vocab_is_eog = lambda vocab, token: False  # llama_cpp.llama looks it up at call time
    model = _arg(argv, "--model")
    if model:  # without it llama_cpp.server prints its own usage error
        repack = repack_allowed(model, "auto", int(_arg(argv, "--n_threads") or 1))
        C.llama_model_default_params = with_extra_bufts(C.llama_model_default_params, repack)
    sys.argv = [sys.argv[0], *argv]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
