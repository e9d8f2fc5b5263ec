"""The error hierarchy: one root, one subclass per kind of failure.

Every error also inherits the nearest builtin, so ``except ValueError`` keeps working.
The CLI turns any :class:`KGError` into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = ["shorten", "KGError", "ConfigError", "InputError", "StoreError", "ServerError", "QueryError", "BusyError"]


def shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: cut at a word boundary, with an ellipsis, never mid-word
    (unless one word is longer than half the room). The one place messages are shortened.

    >>> shorten("no catalogue field (title, brand, category, price, also_bought, also_viewed)", 60)
    'no catalogue field (title, brand, category, price,…'
    >>> shorten("short", 60)
    'short'
    """
    if len(text) <= limit:
        return text
    room = max(limit - 1, 0)
    head = text[:room]
    if not text[room].isspace():  # the cut falls inside a word: back up to the last space
        space = max(head.rfind(" "), head.rfind("\t"), head.rfind("\n"))
        if space >= room // 2:
            head = head[:space]
    return head.rstrip() + "…"


class KGError(Exception):
    """Root of every error kg raises on purpose. ``hint`` says how to fix it."""

    #: the CLI's exit status for this error: 2 bad input or configuration, 3 the database failed
    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (hint: {self.hint})" if self.hint else base


class ConfigError(KGError, ValueError):
    """A setting, flag or argument that cannot work (unknown model, dim 0, ...)."""


class InputError(KGError, ValueError):
    """An input file that cannot be read at all (missing, unreadable, unknown format)."""


class StoreError(KGError, RuntimeError):
    """The graph database refused or failed an operation (exit 3)."""

    exit_code = 3


class ServerError(StoreError):
    """The embedded graph server could not be started, reached or stopped."""


class QueryError(StoreError):
    """A Cypher query was refused (syntax, unknown procedure, missing parameter, constraint violation):
    bad input, so exit 2 like any other."""

    exit_code = 2


class BusyError(KGError, RuntimeError):
    """Another kg process holds the lock this one needs (a writer on the same graph) past the timeout (exit 4)."""

    exit_code = 4
