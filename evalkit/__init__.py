"""evalkit: benchmark small local language models against each other and against frontier models."""

__version__ = "0.1.0"

__all__ = ["__version__", "run", "RunConfig", "SuiteSelection", "load_suite", "resolve_model"]


def __getattr__(name):  # lazy: importing evalkit stays cheap for the CLI's --help
    if name in ("run", "RunConfig", "SuiteSelection"):
        from evalkit import runner

        return getattr(runner, name)
    if name == "load_suite":
        from evalkit.suite import load_suite

        return load_suite
    if name == "resolve_model":
        from evalkit.models import resolve_model

        return resolve_model
    raise AttributeError(name)
