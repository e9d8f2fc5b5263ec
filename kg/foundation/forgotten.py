"""The people who asked to be forgotten, kept so that a re-ingest does not bring them back.

The list holds a keyed token per person, never the pseudonym or the raw id: ``HMAC-SHA256(key,
"forgotten:" + pseudonym)``, so the file cannot be matched to anyone without the installation's key,
and grepping ``KG_HOME`` for the pseudonym finds nothing. A log of forget operations records when
and how much, never whom.

>>> import tempfile, pathlib
>>> from kg.foundation.settings import Settings
>>> with tempfile.TemporaryDirectory() as tmp:
...     forgotten = ForgottenUsers.from_settings(Settings(home=pathlib.Path(tmp), pseudonym_key="k"))
...     forgotten.add("0123abcd")
...     ("0123abcd" in forgotten, "ffff" in forgotten, "0123abcd" in forgotten.path.read_text())
(True, False, False)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from kg.foundation.home import private_dir, write_private
from kg.foundation.privacy import load_or_create_key
from kg.foundation.settings import Settings

__all__ = ["ForgottenUsers", "record_forget", "forget_log"]


def _privacy_dir(settings: Settings) -> Path:
    return private_dir(settings.home / "privacy")


class ForgottenUsers:
    """A set of forgotten pseudonyms, stored as keyed tokens (``KG_HOME/privacy/forgotten.txt``)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key
        self._tokens: set[str] = set()
        if path.exists():
            self._tokens = {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}

    @classmethod
    def from_settings(cls, settings: Settings) -> ForgottenUsers:
        return cls(settings.home / "privacy" / "forgotten.txt", load_or_create_key(settings))

    def token(self, pseudonym: str) -> str:
        return hmac.new(self._key, b"forgotten:" + pseudonym.encode("utf-8"), hashlib.sha256).hexdigest()

    def __contains__(self, pseudonym: object) -> bool:
        return bool(self._tokens) and isinstance(pseudonym, str) and self.token(pseudonym) in self._tokens

    def __len__(self) -> int:
        return len(self._tokens)

    def __bool__(self) -> bool:
        return bool(self._tokens)

    def add(self, pseudonym: str) -> None:
        """Remember ``pseudonym`` as forgotten (idempotent; the file is rewritten atomically, mode 600)."""
        self._tokens.add(self.token(pseudonym))
        private_dir(self.path.parent)
        write_private(self.path, "".join(f"{t}\n" for t in sorted(self._tokens)))

    def remove(self, pseudonym: str) -> bool:
        """Take ``pseudonym`` off the list (a re-ingest with --allow-forgotten brought them back)."""
        token = self.token(pseudonym)
        if token not in self._tokens:
            return False
        self._tokens.discard(token)
        write_private(self.path, "".join(f"{t}\n" for t in sorted(self._tokens)))
        return True


def record_forget(settings: Settings, counts: dict[str, Any]) -> Path:
    """Append one line to ``KG_HOME/privacy/forget-log.jsonl``: the time and what was removed, not whom."""
    path = _privacy_dir(settings) / "forget-log.jsonl"
    line = json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **counts}, sort_keys=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    write_private(path, existing + line + "\n")
    return path


def forget_log(settings: Settings) -> list[dict[str, Any]]:
    """Every forget operation recorded so far, oldest first."""
    path = settings.home / "privacy" / "forget-log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
