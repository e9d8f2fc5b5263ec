"""The error hierarchy: one root, one subclass per kind of failure.

Every error also inherits the nearest builtin, so ``except ValueError`` keeps working.
The CLI turns any :class:`KGError` into one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = ["KGError", "ConfigError", "InputError", "StoreError", "ServerError", "QueryError"]


class KGError(Exception):
    """Root of every error kg raises on purpose. ``hint`` says how to fix it."""

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
    """The graph database refused or failed an operation."""


class ServerError(StoreError):
    """The embedded graph server could not be started, reached or stopped."""


class QueryError(StoreError):
    """A Cypher query failed (syntax, unknown procedure, constraint violation)."""
