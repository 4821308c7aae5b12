"""The static results site: ``build_site(db, out)`` renders it, ``serve(folder, port)`` previews it."""

from evalkit.site.build import BuildReport, build_site

__all__ = ["BuildReport", "build_site"]
