"""Pseudonymisation of people: raw user ids never reach the graph.

>>> p = Pseudonymiser(b"k" * 32)
>>> p.user_id("A31UBHTUUIFJUT") == p.user_id("A31UBHTUUIFJUT")
True
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from kg.settings import Settings

__all__ = ["Pseudonymiser", "load_or_create_key"]

logger = logging.getLogger(__name__)


def load_or_create_key(settings: Settings) -> bytes:
    """The HMAC key: ``KG_PSEUDONYM_KEY`` if set, else ``KG_HOME/pseudonym.key`` (created once, mode 600)."""
    if settings.pseudonym_key is not None and settings.pseudonym_key.get_secret_value():
        return settings.pseudonym_key.get_secret_value().encode("utf-8")
    path: Path = settings.home / "pseudonym.key"
    if not path.exists():
        settings.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.info("generated pseudonym key in %s", path)
    return path.read_text().strip().encode("utf-8")


class Pseudonymiser:
    """Keyed HMAC-SHA256 of raw user ids (hex, 32 chars = 128 bits)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> "Pseudonymiser":
        return cls(load_or_create_key(settings))

    def user_id(self, raw: str) -> str:
        """Pseudonym of a raw user id."""
        digest = hmac.new(self._key, str(raw).strip().encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:32]
