"""Reading input files: ``.gz`` transparently, bad bytes replaced, progress in bytes, checksums."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from kg.errors import InputError

__all__ = ["LineSource", "file_checksum"]


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
        binary = gzip.GzipFile(fileobj=self._raw) if self.compressed else self._raw
        self._text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="")
        self.data_rows = 0
        self.warnings: Counter[str] = Counter()

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
        """Raw text lines, newline included."""
        try:
            yield from self._text
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise InputError(f"{self.path}: cannot decompress/read: {e}") from e

    def numbered(self) -> Iterator[tuple[int, str]]:
        """(1-based line number, line without newline), skipping blank lines."""
        for number, line in enumerate(self.lines(), start=1):
            text = line.rstrip("\r\n")
            if text.strip():
                yield number, text

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def __enter__(self) -> "LineSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
