"""Finding one person in files: their pseudonym anywhere, their raw id as a whole token in text files
(gunzipped, read in overlapping chunks); dropping the lines that name them; and what the graph's server
keeps outside the graph."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.store import GraphStore

__all__ = ["TEXT_SUFFIXES", "LINE_SUFFIXES", "MIN_RAW_SEARCH", "find_traces", "find_server_traces"]

#: files read as lines of text (after gunzip for ``.gz``); the raw id is searched for in these
TEXT_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".tsv", ".csv", ".txt", ".log")
#: text files whose lines are independent records (quarantine, logs): a line naming the person is dropped;
#: in any other file a trace is reported, never edited blindly (an id map would lose its numbering)
LINE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".txt", ".log")
#: raw ids shorter than this are searched for in the quarantine only: elsewhere "42" is any number
MIN_RAW_SEARCH = 6
_CHUNK = 1 << 20
_WORD = rb"A-Za-z0-9_"


class _Needles:
    """The byte patterns of one person: their pseudonym anywhere, their raw id as a whole token in text."""

    def __init__(self, pseudonym: str, raw_id: str | None) -> None:
        self.pseudonym = pseudonym.encode("utf-8")
        self._any = re.compile(re.escape(self.pseudonym))
        if raw_id:
            forms = {raw_id, json.dumps(raw_id)[1:-1], json.dumps(raw_id, ensure_ascii=False)[1:-1]}
            alternatives = b"|".join(re.escape(f.encode("utf-8")) for f in sorted(forms) if f)
            raw = rb"(?<![" + _WORD + rb"])(?:" + alternatives + rb")(?![" + _WORD + rb"])"
            self._any = re.compile(re.escape(self.pseudonym) + b"|" + raw)

    def without_short_raw(self, raw_id: str) -> _Needles:
        """These needles, less the raw id when it is too short to search for outside the quarantine."""
        return self if len(raw_id) >= MIN_RAW_SEARCH else _Needles(self.pseudonym.decode("utf-8"), None)

    def in_text(self, data: bytes) -> bool:
        return self._any.search(data) is not None

    def in_binary(self, data: bytes) -> bool:
        return self.pseudonym in data


def _is_text(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith(TEXT_SUFFIXES)


def _is_lines(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith(LINE_SUFFIXES)


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _chunks(path: Path, overlap: int) -> Iterator[bytes]:
    """``path``'s bytes (gunzipped for ``.gz``) in chunks that overlap by ``overlap`` bytes."""
    tail = b""
    with _open(path) as handle:
        while block := handle.read(_CHUNK):
            yield tail + block
            tail = block[-overlap:]


def _holds(path: Path, needles: _Needles, *, text: bool) -> bool:
    overlap = 4 * 1024
    try:
        for chunk in _chunks(path, overlap):
            if needles.in_text(chunk) if text else needles.in_binary(chunk):
                return True
    except (OSError, EOFError, gzip.BadGzipFile):
        try:  # a .gz that is not gzip: read it as it is
            if path.suffix == ".gz":
                data = path.read_bytes()
                return needles.in_text(data) if text else needles.in_binary(data)
        except OSError:
            return False
    return False


def _drop_lines(path: Path, needles: _Needles) -> int:
    """Rewrite a text file (gzip kept) without the lines that name the person; lines dropped."""
    gz = path.suffix == ".gz"
    opener: Callable[..., Any] = gzip.open if gz else open
    with opener(path, "rb") as handle:
        lines = handle.read().splitlines(keepends=True)
    kept = [line for line in lines if not needles.in_text(line)]
    dropped = len(lines) - len(kept)
    if dropped:
        tmp = path.with_name(f".{path.name}.forget-tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, path.stat().st_mode & 0o777)
        with os.fdopen(fd, "wb") as raw:
            if gz:
                with gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as out:
                    out.write(b"".join(kept))
            else:
                raw.write(b"".join(kept))
        os.replace(tmp, path)
    return dropped


def _files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def find_traces(root: Path, pseudonym: str, raw_id: str | None = None) -> list[Path]:
    """Files under ``root`` holding ``pseudonym`` (any file, gunzipped) or ``raw_id`` as a token (text files;
    only when it has :data:`MIN_RAW_SEARCH` characters or more)."""
    needles = _Needles(pseudonym, raw_id if raw_id and len(raw_id) >= MIN_RAW_SEARCH else None)
    return [p for p in _files(root) if _holds(p, needles, text=_is_text(p) or _looks_text(p))]


def find_server_traces(store: GraphStore, pseudonym: str, raw_id: str | None = None) -> list[str]:
    """What the graph's server keeps outside the graph (FalkorDB: its query telemetry stream and plain keys)
    that holds ``pseudonym`` or ``raw_id``, read through the client, decompressed: grepping the server's
    compressed snapshot would find nothing. External Neo4j: not checked (its logs are the operator's)."""
    needles = [pseudonym] + ([raw_id] if raw_id and len(raw_id) >= MIN_RAW_SEARCH else [])
    return store.server_traces(needles)


def _looks_text(path: Path) -> bool:
    """No NUL byte in the first 8 KiB (logs, JSON, manifests), and not gzip."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    return b"\0" not in head and not head.startswith(b"\x1f\x8b")
