"""``python -m evalkit.lmeval ARGS``: lm-eval's own command line, with evalkit's models registered."""

from evalkit.lmeval import register


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    register()
    cli_evaluate()


if __name__ == "__main__":
    main()
