"""The `evalkit` command line: a thin layer over the library. Every option also reads EVALKIT_<OPTION>."""

from __future__ import annotations

import os
import sys

import click

from evalkit import __version__
from evalkit.errors import EvalkitError

DEBUG = {"on": False}


@click.group(context_settings={"auto_envvar_prefix": "EVALKIT", "help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evalkit")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
def cli(debug: bool) -> None:
    """Benchmark small local language models: quality, RAM, speed and cost, stored in DuckDB."""
    DEBUG["on"] = debug or DEBUG["on"]


def _register() -> None:
    from evalkit.commands import baseline, gate, importer, info, quantize, results, run, site

    cli.add_command(run.run_cmd)
    cli.add_command(results.results_cmd)
    cli.add_command(info.models_cmd)
    cli.add_command(info.suites_cmd)
    cli.add_command(importer.import_cmd)
    cli.add_command(quantize.quantize_cmd)
    cli.add_command(gate.gate_cmd)
    cli.add_command(baseline.baseline_group)
    cli.add_command(site.site_cmd)


_register()


def _fail(message: str, code: int) -> None:
    click.echo(f"evalkit: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2 (1 for a failed gate)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    DEBUG["on"] = "--debug" in argv or os.environ.get("EVALKIT_DEBUG") == "1"
    try:
        cli.main(args=argv, prog_name="evalkit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted.", 130)
    except click.ClickException as exc:
        if DEBUG["on"]:
            raise
        hint = " See 'evalkit --help'." if isinstance(exc, click.UsageError) else ""
        _fail(exc.format_message().replace("\n", " ") + hint, exc.exit_code if exc.exit_code != 1 else 2)
    except EvalkitError as exc:
        if DEBUG["on"]:
            raise
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted. Everything finished so far is stored; run the same command again to resume.", 130)
