"""What every request of the explorer shares: settings, token, the store (opened once) and the query library.

The app keeps one :class:`Explorer` in ``app.state.explorer``; routes receive it through :data:`ExplorerDep`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Annotated, Any

from fastapi import Depends, Request

from kg.foundation.settings import Settings
from kg.store import GraphStore

__all__ = ["Explorer", "ExplorerDep", "explorer_of"]


@dataclass
class Explorer:
    """The explorer's shared state; ``store`` and ``library`` as given to ``create_app`` (None: the defaults)."""

    settings: Settings
    token: str | None = None
    given_store: GraphStore | None = None
    given_library: ModuleType | Any = None
    _opened: GraphStore | None = field(default=None, init=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def store(self) -> GraphStore:
        """The given store, or one opened on first use (closed by :meth:`close`)."""
        if self.given_store is not None:
            return self.given_store
        with self._guard:
            if self._opened is None:
                from kg.store import open_store

                self._opened = open_store(self.settings)
            return self._opened

    def library(self) -> Any:
        """The given query library, or :mod:`kg.analyst.library`."""
        if self.given_library is not None:
            return self.given_library
        from kg.analyst import library

        return library

    def close(self) -> None:
        """Close the store this explorer opened (a given one stays open)."""
        with self._guard:
            if self._opened is not None:
                self._opened.close()
                self._opened = None


def explorer_of(request: Request) -> Explorer:
    """The app's :class:`Explorer` (a FastAPI dependency)."""
    explorer: Explorer = request.app.state.explorer
    return explorer


ExplorerDep = Annotated[Explorer, Depends(explorer_of)]
