"""``kg explore``: a local web page to search the graph, expand neighbourhoods and run library queries.

The app (:func:`kg.analyst.explore.app.create_app`) reads through :mod:`kg.analyst.explore.graph` and the query
library (:mod:`kg.analyst.library`); it never writes. The renderer, cytoscape.js, is vendored in ``static/``.

Modules: ``app`` assembles the FastAPI app; ``routes/`` holds one router per concern (``pages``, ``guide``,
``search``, ``nodes``, ``queries``); ``state`` the shared :class:`~kg.analyst.explore.state.Explorer`
(settings, token, store, library) kept in ``app.state``; ``security`` the host and token guards and
headers; ``errors`` kg errors as JSON; ``jsonable`` JSON-safe values and CSV; ``graph`` the reads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """``create_app`` imported on first use, so ``import kg.analyst.explore.graph`` needs no web server."""
    if name == "create_app":
        from kg.analyst.explore.app import create_app

        return create_app
    raise AttributeError(name)
