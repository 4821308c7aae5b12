"""`evalkit site build` and `evalkit site serve`: the static results website."""

from __future__ import annotations

import click

from evalkit.store import DEFAULT_DB

DEFAULT_OUT = "site"


@click.group("site")
def site_cmd():
    """Build the static results website from a results database, or preview it."""


@site_cmd.command("build")
@click.option("--db", type=click.Path(), default=str(DEFAULT_DB), show_default=True, help="DuckDB results file.")
@click.option("--out", type=click.Path(), default=DEFAULT_OUT, show_default=True,
              help="Folder for the site. Replaced only if empty or built by evalkit before.")  # fmt: skip
@click.option("--items-per-page", type=click.IntRange(10, 1000), default=50, show_default=True,
              help="Items per page of the item browser.")  # fmt: skip
def build_cmd(db, out, items_per_page):
    """Render the site: leaderboard, trade-off charts, ladder, per-model and per-run pages."""
    from evalkit.site import build_site

    report = build_site(db, out, per_page=items_per_page)
    click.echo(
        f"site built in {report.out} ({report.pages} pages, {report.items} items in {report.item_files} item files, "
        f"{report.seconds:.1f} s). Open {report.out}/index.html or run 'evalkit site serve --dir {report.out}'."
    )


@site_cmd.command("serve")
@click.option("--dir", "folder", type=click.Path(), default=DEFAULT_OUT, show_default=True, help="A folder built by 'evalkit site build'.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
def serve_cmd(folder, port):
    """Preview a built site on http://127.0.0.1:PORT/ (local only; Ctrl-C stops it)."""
    from evalkit.site.serve import make_server

    server = make_server(folder, port)
    host, bound = server.server_address[:2]
    click.echo(f"serving {folder} at http://{host}:{bound}/ (Ctrl-C to stop)", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped.")
    finally:
        server.server_close()
