"""``kg explore``: a local web page to search the graph, expand neighbourhoods and run library queries.

The app (:func:`kg.analyst.explore.app.create_app`) reads through :mod:`kg.analyst.explore.graph` and the query
library (:mod:`kg.analyst.library`); it never writes. The renderer, cytoscape.js, is vendored in ``static/``.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``create_app`` imported on first use, so ``import kg.analyst.explore.graph`` needs no web server."""
    if name == "create_app":
        from kg.analyst.explore.app import create_app

        return create_app
    raise AttributeError(name)
