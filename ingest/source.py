"""Reading input files: ``.gz`` transparently, bad bytes replaced, progress in bytes, checksums.

Limits against hostile files (a gzip bomb): a line over :data:`MAX_LINE_CHARS` characters is skipped
without being held in memory and recorded as a :class:`~ingest.records.BadRow` in
:attr:`LineSource.bad_lines` (the row readers quarantine it); a ``.gz`` that decompresses to more than
:data:`MAX_GZIP_RATIO` times its size on disk (and over :data:`GZIP_FLOOR_BYTES`) stops the read with
an :class:`~kg.foundation.errors.InputError`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kg.foundation.errors import InputError
from kg.ingest.records import BadRow

__all__ = ["LineSource", "file_checksum", "MAX_LINE_CHARS", "MAX_GZIP_RATIO", "GZIP_FLOOR_BYTES"]

#: longest line (characters, newline excluded) a reader gets; longer ones are quarantined, never read whole
MAX_LINE_CHARS = 1 << 20
#: a ``.gz`` may decompress to this many times its size on disk (text compresses 3-20 times, a bomb ~1,000)
MAX_GZIP_RATIO = 200
#: ... and always to this many bytes, whatever its size (small, very repetitive files are fine)
GZIP_FLOOR_BYTES = 64 << 20
_SHOWN = 200  # characters of an over-long line kept for the quarantine


class _CappedReader(io.RawIOBase):
    """The decompressed bytes of a ``.gz``; InputError once they pass ``limit``."""

    def __init__(self, inner: gzip.GzipFile, limit: int, path: Path, size: int) -> None:
        self._inner, self.limit, self.path, self.size = inner, limit, path, size
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer)
        self.count += n
        if self.count > self.limit:
            raise InputError(
                f"{self.path}: decompresses to over {self.limit:,} bytes, more than {MAX_GZIP_RATIO} "
                f"times its compressed size ({self.size:,} bytes): not read (a gzip bomb?)",
                hint="decompress it yourself and ingest the plain file if it is genuine",
            )
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def file_checksum(path: Path, *, chunk: int = 1 << 20) -> str:
    """sha256 of the file's bytes as stored (compressed files hash compressed)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(chunk):
                digest.update(block)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    return digest.hexdigest()


class LineSource:
    """Lines of a text file (optionally gzip), decoded as UTF-8 with bad bytes replaced.

    Readers report through the source what is not a bad row: ``data_rows`` counts the data rows
    they parsed (header excluded; 0 after reading = an empty or header-only file), ``warnings``
    counts fixes applied to rows that were kept (e.g. a dropped self-link).

    >>> src = LineSource(Path("events.csv.gz"))   # doctest: +SKIP
    >>> for number, text in src.numbered(): ...    # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise InputError(f"{self.path}: not a regular file")
        try:
            self.total_bytes = self.path.stat().st_size
            self._raw = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise InputError(f"{self.path}: cannot read: {e.strerror or e}") from e
        self.compressed = self.path.suffix == ".gz"
        binary: Any = self._raw
        if self.compressed:
            limit = max(MAX_GZIP_RATIO * self.total_bytes, GZIP_FLOOR_BYTES)
            binary = io.BufferedReader(
                _CappedReader(gzip.GzipFile(fileobj=self._raw), limit, self.path, self.total_bytes), buffer_size=1 << 16
            )
        self._text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="")
        self.data_rows = 0
        self.warnings: Counter[str] = Counter()
        #: over-long lines (BadRow) not yet taken by a row reader (:func:`kg.ingest.tabular.csv_values`,
        #: :func:`kg.ingest.tabular.json_rows`), which quarantine them in line order with the rows
        self.bad_lines: list[BadRow] = []

    @property
    def no_data(self) -> bool:
        """True when the readers found no data row (empty or header-only file); read it first."""
        return self.data_rows == 0

    def warn(self, reason: str, count: int = 1) -> None:
        """Count a fix applied to a kept row."""
        self.warnings[reason] += count

    @property
    def bytes_read(self) -> int:
        """Position in the file as stored (for progress bars)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return self.total_bytes

    def lines(self) -> Iterator[str]:
        """Raw text lines, newline included; a line over :data:`MAX_LINE_CHARS` comes out as an empty
        line (so line numbers hold) and its BadRow is appended to :attr:`bad_lines`."""
        read, limit = self._text.readline, MAX_LINE_CHARS
        try:
            for number, line in enumerate(iter(functools.partial(read, limit + 1), ""), start=1):
                if len(line) <= limit or line[-1] in "\r\n":
                    yield line
                    continue
                shown, length = line[:_SHOWN], len(line)
                while line and line[-1] not in "\r\n":  # skip the rest of the line, a chunk at a time
                    line = read(limit)
                    length += len(line)
                length -= len(line) - len(line.rstrip("\r\n"))
                self.bad_lines.append(
                    BadRow(number, f"line is {length:,} characters, over the {limit:,}-character line limit", shown)
                )
                yield "\n"
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise InputError(f"{self.path}: cannot decompress/read: {e}") from e

    def take_bad_lines(self) -> list[BadRow]:
        """The over-long lines found since the last call (see :meth:`lines`)."""
        taken, self.bad_lines[:] = list(self.bad_lines), []
        return taken

    def numbered(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, line without newline), skipping blank lines."""
        for number, line in enumerate(self.lines(), start=1):
            text = line.rstrip("\r\n")
            if text.strip():
                yield number, text

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def __enter__(self) -> LineSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
