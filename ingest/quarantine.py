"""The quarantine: bad input rows as JSON lines (source, line, reason, raw) under ``KG_HOME/quarantine``.

Nothing private goes into the file a user reads and shares: user-id fields hold the graph's HMAC
pseudonyms (:class:`kg.foundation.privacy.Pseudonymiser`), name fields ``[PERSON]``, and every other text
value is PII-scrubbed (:func:`kg.foundation.privacy.scrub_text`). A row that does not parse is scrubbed as a
whole, its id-like tokens masked as ``[ID]``, and cut short. The untouched row is kept only when
``raw_days`` > 0, in an owner-only file (0600 in a 0700 folder) ``KG_HOME/quarantine/raw/``, and
such files are deleted at the start of the first ingest after ``raw_days`` days.

>>> q = Quarantine.from_settings(settings, Path("events.csv"), kind="events", checksum=digest)  # doctest: +SKIP
>>> q.add(bad_row); q.close()                                                               # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from kg.foundation.errors import ConfigError, shorten
from kg.foundation.home import private_dir
from kg.foundation.privacy import Pseudonymiser, scrub_text
from kg.foundation.settings import Settings
from kg.ingest.records import BadRow

__all__ = ["Quarantine", "USER_ID_FIELDS", "PERSON_FIELDS", "quarantine_name", "purge_raw", "sanitise_row"]

logger = logging.getLogger(__name__)

#: field names (lower case) whose values are user ids, pseudonymised in the quarantine
USER_ID_FIELDS: frozenset[str] = frozenset(
    {
        "user_id",
        "userid",
        "user",
        "uid",
        "reviewerid",
        "reviewer_id",
        "visitorid",
        "visitor_id",
        "customer",
        "customer_id",
        "customerid",
        "client_id",
        "clientid",
        "buyer_id",
        "member_id",
        "account_id",
        "author_id",
        "profile_id",
        "session_user",
    }
)
#: field names (lower case) whose values are people's names or contacts, replaced by ``[PERSON]``
PERSON_FIELDS: frozenset[str] = frozenset(
    {
        "reviewername",
        "reviewer_name",
        "username",
        "user_name",
        "author",
        "author_name",
        "customer_name",
        "full_name",
        "first_name",
        "last_name",
        "nickname",
        "email",
        "e_mail",
        "mail",
        "phone",
        "telephone",
        "mobile",
        "address",
    }
)

NAME_MAX_BYTES = 255  # a file name in common file systems
_PREFIX_MAX_BYTES = 120  # readable part of the source name in a quarantine file name
_MAX_RAW = 10_000  # characters of a raw row in the owner-only file
_MAX_VALUE = 500  # characters of one scrubbed text value in the public file
_MAX_PUBLIC = 2_000  # characters of the scrubbed row in the public file
_MAX_UNPARSED = 500  # characters of a scrubbed row that did not parse
_DAY_S = 86_400
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
_TOKEN = re.compile(r"[^\W_]+(?:[_.:-][^\W_]+)*")


def quarantine_name(kind: str, source_name: str, checksum: str) -> str:
    """``{kind}-{source name prefix}-{checksum[:12]}.jsonl``, within :data:`NAME_MAX_BYTES` bytes."""
    fixed = f"{kind}--{checksum[:12]}.jsonl"
    budget = max(0, min(_PREFIX_MAX_BYTES, NAME_MAX_BYTES - len(fixed.encode("utf-8"))))
    prefix = _UNSAFE.sub("_", source_name).encode("utf-8")[:budget].decode("utf-8", "ignore")
    return f"{kind}-{prefix}-{checksum[:12]}.jsonl"


def _fit_name(name: str) -> str:
    """``name`` cut in the middle to :data:`NAME_MAX_BYTES` bytes, keeping its last 19 characters."""
    if len(name.encode("utf-8")) <= NAME_MAX_BYTES:
        return name
    tail = name[-19:]
    budget = NAME_MAX_BYTES - len(tail.encode("utf-8")) - 1
    return name.encode("utf-8")[: min(budget, _PREFIX_MAX_BYTES)].decode("utf-8", "ignore") + "~" + tail


def _masked_id(_raw: str) -> str:
    return "[ID]"


def purge_raw(raw_dir: Path, days: int, *, now: float | None = None) -> int:
    """Delete the raw quarantine files (``*.jsonl``) in ``raw_dir`` older than ``days`` (all of them
    when ``days`` is 0); return how many. Other files, links and folders are left alone."""
    if not raw_dir.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for entry in raw_dir.iterdir():
        if entry.suffix != ".jsonl" or entry.is_symlink() or not entry.is_file():
            continue
        if days == 0 or now - entry.stat().st_mtime > days * _DAY_S:
            entry.unlink(missing_ok=True)
            removed += 1
    if removed:
        logger.info("deleted %d raw quarantine file(s) past the %d-day retention in %s", removed, days, raw_dir)
    return removed


def _mask_ids(text: str) -> str:
    """Mask tokens that look like ids (a digit with a letter, or 4+ digits) as ``[ID]``."""

    def mask(m: re.Match[str]) -> str:
        token = m.group()
        has_digit = any(c.isdigit() for c in token)
        return "[ID]" if has_digit and (any(c.isalpha() for c in token) or len(token) >= 4) else token

    return _TOKEN.sub(mask, text)


class _RowCleaner:
    """Pseudonymises, redacts and scrubs one bad row (see :func:`sanitise_row`)."""

    def __init__(
        self,
        pseudonymise: Callable[[str], str],
        scrub: Callable[[str], str],
        user_fields: frozenset[str],
        columns: Sequence[str] | None,
        delimiter: str,
    ) -> None:
        self.pseudonymise, self.scrub = pseudonymise, scrub
        self.user_fields = user_fields
        self.columns = [c.strip().lower() for c in columns] if columns else None
        self.delimiter = delimiter
        keys = "|".join(re.escape(k) for k in sorted(user_fields | PERSON_FIELDS, key=len, reverse=True))
        self._pair = re.compile(rf'"(?i:({keys}))"\s*:\s*"((?:[^"\\]|\\.)*)"?')

    def __call__(self, raw: str) -> str:
        if not raw:
            return ""
        row = self._parse(raw)
        if row is not None:
            try:
                return json.dumps(self._value(row, ""), ensure_ascii=False)[:_MAX_PUBLIC]
            except RecursionError:
                pass
        return self._unparsed(raw)

    def _parse(self, raw: str) -> dict[str, Any] | None:
        if raw.lstrip().startswith("{"):
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):
                return None
            return value if isinstance(value, dict) else None
        if self.columns:
            try:
                values = next(csv.reader([raw], delimiter=self.delimiter))
            except (csv.Error, StopIteration):
                return None
            if len(values) == len(self.columns):
                return dict(zip(self.columns, values, strict=True))
        return None

    def _value(self, value: Any, key: str) -> Any:
        field = key.strip().lower()
        if isinstance(value, dict):
            return {self._key(k): self._value(v, str(k)) for k, v in value.items()}
        if field in self.user_fields and value not in (None, "") and not isinstance(value, bool):
            return self.pseudonymise(str(value)) if isinstance(value, (str, int, float)) else "[ID]"
        if field in PERSON_FIELDS and value not in (None, ""):
            return "[PERSON]"
        if isinstance(value, list):
            return [self._value(v, key) for v in value]
        if isinstance(value, str):
            return self.scrub(value)[:_MAX_VALUE]
        return value

    def _key(self, key: Any) -> str:
        key = str(key)
        lowered = key.strip().lower()
        return key if lowered in self.user_fields or lowered in PERSON_FIELDS else self.scrub(key)[:100]

    def _unparsed(self, raw: str) -> str:
        """A row that did not parse: known ``"field": "value"`` pairs handled, the rest scrubbed and masked."""
        out: list[str] = []
        pos = 0
        for m in self._pair.finditer(raw):
            out.append(_mask_ids(self.scrub(raw[pos : m.start()])))
            field, value = m.group(1), m.group(2)
            safe = "[PERSON]" if field.lower() in PERSON_FIELDS else self.pseudonymise(value) if value else ""
            out.append(f'"{field}": "{safe}"')
            pos = m.end()
        out.append(_mask_ids(self.scrub(raw[pos:])))
        text = "".join(out)
        return text if len(text) <= _MAX_UNPARSED else text[:_MAX_UNPARSED] + "..."


def sanitise_row(
    raw: str,
    *,
    pseudonymise: Callable[[str], str],
    scrub: Callable[[str], str] = scrub_text,
    user_fields: Iterable[str] = (),
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
) -> str:
    """The shareable form of a bad row's raw text.

    A JSON object (or a CSV record with as many fields as ``columns``) comes back as JSON with
    user-id fields (:data:`USER_ID_FIELDS` plus ``user_fields``) pseudonymised, name and contact
    fields (:data:`PERSON_FIELDS`) as ``[PERSON]`` and every other text scrubbed. Anything else
    is scrubbed as a whole, id-like tokens become ``[ID]``, and it is cut to 500 characters.
    """
    fields = USER_ID_FIELDS | {f.strip().lower() for f in user_fields}
    return _RowCleaner(pseudonymise, scrub, fields, columns, delimiter)(raw)


def _private_file(path: Path) -> IO[str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


class Quarantine:
    """Collects the bad rows of one ingest of one file; its files are rewritten on each run.

    ``directory`` is ``KG_HOME/quarantine``; the scrubbed file is ``directory/<name>`` and the raw
    one ``directory/raw/<name>`` (see :func:`quarantine_name`). Expired raw files are purged here,
    at the start of each ingest. ``user_fields`` adds user-id field names to :data:`USER_ID_FIELDS`
    (e.g. the file's column mapped to ``user_id``); ``columns`` is the CSV header, to read CSV rows.
    """

    def __init__(
        self,
        directory: Path,
        source: Path,
        *,
        kind: str | None = None,
        checksum: str | None = None,
        pseudonymiser: Pseudonymiser | None = None,
        raw_days: int = 7,
        user_fields: Iterable[str] = (),
        columns: Sequence[str] | None = None,
        delimiter: str = ",",
        scrubber: Callable[[str], str] = scrub_text,
        now: float | None = None,
    ) -> None:
        if raw_days < 0:
            raise ConfigError(
                f"quarantine raw_days must be 0 or more, not {raw_days}",
                hint="set KG_QUARANTINE_RAW_DAYS to 0 (never keep raw rows) or a number of days",
            )
        if kind is None or checksum is None:
            # legacy form Quarantine(file_path, source) until ingest/runner.py passes kind and checksum;
            # without a pseudonymiser, user ids are masked as [ID]
            directory, name = Path(directory).parent, _fit_name(Path(directory).name)
        else:
            name = quarantine_name(kind, Path(source).name, checksum)
        self.directory = Path(directory)
        self.path = self.directory / name
        self.raw_dir = self.directory / "raw"
        self.raw_path: Path | None = self.raw_dir / name if raw_days else None
        self.raw_days = raw_days
        self.source = str(source)
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self._scrub = scrubber
        fields = USER_ID_FIELDS | {f.strip().lower() for f in user_fields}
        pseudonymise = pseudonymiser.user_id if pseudonymiser is not None else _masked_id
        self._clean = _RowCleaner(pseudonymise, scrubber, fields, columns, delimiter)
        self._handle: IO[str] | None = None
        self._raw_handle: IO[str] | None = None
        purge_raw(self.raw_dir, raw_days, now=now)
        self.path.unlink(missing_ok=True)
        (self.raw_dir / name).unlink(missing_ok=True)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        source: Path,
        *,
        kind: str,
        checksum: str,
        pseudonymiser: Pseudonymiser | None = None,
        user_fields: Iterable[str] = (),
        columns: Sequence[str] | None = None,
        delimiter: str = ",",
    ) -> Quarantine:
        """The quarantine of one ingest: ``settings.quarantine_dir``, ``settings.quarantine_raw_days``."""
        return cls(
            settings.quarantine_dir,
            source,
            kind=kind,
            checksum=checksum,
            pseudonymiser=pseudonymiser or Pseudonymiser.from_settings(settings),
            raw_days=settings.quarantine_raw_days,
            user_fields=user_fields,
            columns=columns,
            delimiter=delimiter,
        )

    def add(self, bad: BadRow) -> None:
        """Write one bad row: scrubbed to the quarantine file, untouched to the raw file if kept."""
        reason = self._scrub(bad.reason)
        if self._handle is None:
            self._open()
        assert self._handle is not None
        record = {"source": self.source, "line": bad.line, "reason": reason, "raw": self._clean(bad.raw)}
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        if self._raw_handle is not None:
            raw = {"source": self.source, "line": bad.line, "reason": bad.reason, "raw": bad.raw[:_MAX_RAW]}
            self._raw_handle.write(json.dumps(raw, ensure_ascii=False) + "\n")
        self.count += 1
        self.reasons[shorten(reason.split(":")[0], 80)] += 1

    def _open(self) -> None:
        private_dir(self.directory)  # also tightens a folder an older version left world-readable
        self._handle = _private_file(self.path)
        if self.raw_path is not None:
            private_dir(self.raw_dir)
            self._raw_handle = _private_file(self.raw_path)

    def close(self) -> None:
        for handle in (self._handle, self._raw_handle):
            if handle is not None:
                handle.close()
        self._handle = self._raw_handle = None
