"""Start-up hook (imported by ``evalkit_lmeval.pth``): register evalkit's models when lm-eval loads its own.

One ``sys.meta_path`` finder that only answers for ``lm_eval.models``; it lets the normal
finder locate the module and runs :func:`evalkit.lmeval.register` right after the module
has executed. Importing this file imports nothing beyond the standard library.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

TARGET = "lm_eval.models"


class _RegisterAfter(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        module.__loader__ = self.inner
        try:
            from evalkit.lmeval import register

            register()
        except Exception as exc:  # never break lm-eval because of evalkit
            print(f"evalkit: could not register its lm-eval models ({type(exc).__name__}: {exc})", file=sys.stderr)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfter(spec.loader)
        return spec


def install() -> None:
    if TARGET in sys.modules:  # lm-eval already loaded its models: register now
        from evalkit.lmeval import register

        register()
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


install()
