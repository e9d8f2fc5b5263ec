"""``kg forget USER_ID``: remove one person from the graph, the event ledger and every file under ``KG_HOME``.

The raw id is pseudonymised on the way in (as at ingest). Under the graph's writer lock:

1. the person goes on the suppression list (:class:`kg.foundation.forgotten.ForgottenUsers`), so a re-ingest
   skips their rows unless asked (``--allow-forgotten``);
2. the aggregates they contributed to are corrected: ``BOUGHT_TOGETHER`` counts between two products
   they bought or rated lose one (an edge at 0 goes), their segment's ``size`` and ``POPULAR_IN``
   shares drop them, and after their reviews are deleted the ``HAS_ASPECT`` aggregates of the reviewed
   products are recomputed from the remaining ``MENTIONS``;
3. their reviews (with mentions), then their ``User`` node with every edge (behaviour, interests,
   segment membership, recommendations, vectors) are deleted, and nodes only they created (aspects,
   catalogue-less products) with them;
4. the ledger drops their events and pairs and is vacuumed and checkpointed (no old pages left);
5. quarantine files lose the lines naming them; embedding runs and recorded export folders turn their
   label into a tombstone, with zeroed vectors and without their triples;
6. the embedded server's append-only log is rewritten (and its snapshot, when there is one);
7. the inboxes ``kg schedule`` used (recorded in ``KG_HOME/schedule/inboxes.json``, often outside
   ``KG_HOME``): the files kg moved to their ``done/`` and ``failed/`` lose the person's rows (CSV records,
   JSON lines; gzip kept) and their ``.report.json`` the person's id; a file kg never owned (one still
   waiting in the inbox) is left as it is and named in the report, with how to remove it;
8. every file under ``KG_HOME`` is searched for the pseudonym (and, in text files, the raw id);
   line-oriented text files lose matching lines, anything else found is reported as a trace; so is the
   server's own data outside the graph (FalkorDB's query telemetry), read through the client;
9. a line with the time and the counts (never the person) is appended to the forget log.

What was gathered in 1-2 and each decrement made are recorded (``privacy/forget-pending.json``, by token, no
id) until the end, and each decrement marks the person's ``IN_SEGMENT`` edge in the same query: a forget
interrupted at any step is finished by running it again, and corrects nothing twice.

This module is top-layer orchestration (like the CLI): it may use ``ingest``, ``embeddings`` and ``profiles``.

>>> report = forget_user(store, settings, "A31UBHTUUIFJUT")   # doctest: +SKIP
>>> report.found, report.disk["traces"]                        # doctest: +SKIP
(True, [])
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kg.analyst.cypher import USER_EXISTS
from kg.foundation.errors import ConfigError
from kg.foundation.forgotten import ForgottenUsers, record_forget
from kg.foundation.locks import writer_lock
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.cypher import REVIEWS_PRODUCT_ASPECTS, REVIEWS_PRODUCT_ASPECTS_CLEAR
from kg.ledger import EventLedger
from kg.operations.cypher import (
    FORGET_ORPHANS,
    FORGET_POPULAR,
    FORGET_POPULAR_ZERO,
    FORGET_REVIEWS_DELETE,
    FORGET_SEGMENT,
    FORGET_SEGMENT_EMPTY,
    FORGET_TOGETHER,
    FORGET_TOGETHER_ZERO,
    FORGET_USER_DELETE,
    FORGET_USER_ITEMS,
    FORGET_USER_RELATIONSHIPS,
    FORGET_USER_REVIEWS,
    FORGET_USER_SEGMENT,
)
from kg.store import GraphStore

__all__ = ["ForgetReport", "forget_user", "find_traces", "find_server_traces", "TEXT_SUFFIXES"]

logger = logging.getLogger(__name__)

#: files read as lines of text (after gunzip for ``.gz``); the raw id is searched for in these
TEXT_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".tsv", ".csv", ".txt", ".log")
#: text files whose lines are independent records (quarantine, logs): a line naming the person is dropped;
#: in any other file a trace is reported, never edited blindly (an id map would lose its numbering)
LINE_SUFFIXES: tuple[str, ...] = (".jsonl", ".ndjson", ".txt", ".log")
#: raw ids shorter than this are searched for in the quarantine only: elsewhere "42" is any number
MIN_RAW_SEARCH = 6
_POSITIVE = ("purchase", "rating")
_CHUNK = 1 << 20
_WORD = rb"A-Za-z0-9_"
_SETTLE_S = 5.0  # how long to wait for the server to unlink its old log files after a rewrite


@dataclass
class ForgetReport:
    """What a forget removed and corrected; renders as text lines and JSON. Holds no id of the person."""

    found: bool = False
    dry_run: bool = False
    graph: dict[str, int] = field(default_factory=dict)
    aggregates: dict[str, int] = field(default_factory=dict)
    ledger: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    disk: dict[str, Any] = field(default_factory=dict)
    suppressed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no trace of the person was left on disk (always True for a dry run)."""
        return self.dry_run or not self.disk.get("traces")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def counts(self) -> dict[str, Any]:
        """The numbers the forget log keeps (no id, no path)."""
        flat: dict[str, Any] = {"found": self.found}
        for part in ("graph", "aggregates", "ledger", "files"):
            flat.update({f"{part}.{k}": v for k, v in getattr(self, part).items()})
        flat["traces_left"] = len(self.disk.get("traces") or [])
        flat["seconds"] = self.seconds
        return flat

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        if not self.found and not any(self.ledger.values()) and not any(self.files.values()):
            head = "no such user in the graph or the ledger"
            out = [head + ("" if self.dry_run else "; they are on the forgotten list, so re-ingests skip them")]
        else:
            out = [
                f"{verb}: user node {self.graph.get('user', 0)}, "
                + ", ".join(f"{n:,} {k}" for k, n in self.graph.items() if k != "user" and n)
            ]
        if any(self.ledger.values()):
            out.append(
                f"ledger: {verb} {self.ledger.get('events', 0):,} events in {self.ledger.get('pairs', 0):,} pairs"
            )
        if any(self.aggregates.values()):
            out.append(
                "aggregates corrected: "
                + ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in self.aggregates.items() if n)
            )
        if any(self.files.values()):
            out.append("files: " + ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in self.files.items() if n))
        if not self.dry_run:
            if self.disk.get("compacted"):
                out.append("database log rewritten" + (" and snapshot saved" if self.disk.get("snapshot") else ""))
            else:
                out.append("external database: its own logs and backups are outside KG_HOME and were not checked")
            out += [f"database: {note}" for note in self.disk.get("notes") or []]
            out += [f"database keeps: {note}" for note in self.disk.get("stays") or []]
            traces = self.disk.get("traces") or []
            out.append(
                f"disk check: no trace left under KG_HOME ({self.disk.get('files_checked', 0):,} files)"
                if not traces
                else f"disk check: {len(traces)} file(s) still hold a trace:"
            )
            out += [f"  {t}" for t in traces]
            out += [
                f"inbox of kg schedule searched: {inbox} (copies in done/ and failed/ rewritten without them)"
                for inbox in self.disk.get("inboxes") or []
            ]
            out += [f"  {note}" for note in self.disk.get("inbox_notes") or []]
        out.append(f"done in {self.seconds:.1f} s")
        return out


# -- matching ------------------------------------------------------------------------------------------
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


# -- the steps -----------------------------------------------------------------------------------------
def _count_rows(rows: list[dict[str, Any]], key: str) -> int:
    return int(rows[0][key] or 0) if rows else 0


def _gather(store: GraphStore, pseudonym: str) -> dict[str, Any]:
    """What the graph holds about the person, read before anything is deleted."""
    exists = store.query(USER_EXISTS, id=pseudonym)
    rels = {row["type"]: int(row["n"]) for row in store.query(FORGET_USER_RELATIONSHIPS, id=pseudonym)}
    items = store.query(FORGET_USER_ITEMS, id=pseudonym)
    segments = store.query(FORGET_USER_SEGMENT, id=pseudonym)
    reviews = store.query(FORGET_USER_REVIEWS, id=pseudonym)
    row = reviews[0] if reviews else {}
    return {
        "exists": bool(exists),
        "relationships": rels,
        "items": sorted({r["id"] for r in items}),
        "positive": {r["id"] for r in items if int(r["positive"] or 0)},
        "segments": [(int(s["segment"]), s["run"]) for s in segments if s.get("segment") is not None],
        "reviews": int(row.get("reviews") or 0),
        "mentions": int(row.get("mentions") or 0),
        "reviewed": sorted({p for ps in row.get("products") or [] for p in ps or []}),
        "aspects": sorted({a for aspects in row.get("aspects") or [] for a in aspects or []}),
    }


def _ledger_pairs(settings: Settings, pseudonym: str) -> list[Any]:
    if not settings.ledger_path.is_file():
        return []
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        return list(ledger.pairs(users=[pseudonym]))


class _Progress:
    """What a forget of one person gathered before changing anything, and which of its non-repeatable
    corrections (decrements) are done: ``KG_HOME/privacy/forget-pending.json`` (owner-only), keyed by the
    person's forgotten-list token (never the pseudonym; product ids and segment numbers only). A forget
    interrupted at any point is resumed by running it again: it reuses what was gathered (the graph no
    longer holds it) and skips the decrements already made; the entry goes when the forget completes."""

    def __init__(self, settings: Settings, token: str) -> None:
        self.path = settings.home / "privacy" / "forget-pending.json"
        self.token = token
        try:
            self._all: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._all = {}
        self.state: dict[str, Any] | None = self._all.get(token)

    def _save(self) -> None:
        from kg.foundation.home import private_dir, write_private

        private_dir(self.path.parent)
        if self._all:
            write_private(self.path, json.dumps(self._all, sort_keys=True))
        else:
            self.path.unlink(missing_ok=True)

    def start(self, seen: dict[str, Any], positive: list[str], ledger: dict[str, int]) -> None:
        state = {
            "seen": {**seen, "positive": sorted(seen["positive"])},
            "positive": positive,
            "ledger": ledger,
            "done": {},
        }
        self._all[self.token] = self.state = state
        self._save()

    def resumed(self) -> tuple[dict[str, Any], list[str], dict[str, int]]:
        assert self.state is not None
        seen = dict(self.state["seen"])
        seen["positive"] = set(seen["positive"])
        seen["segments"] = [(int(segment), run) for segment, run in seen["segments"]]
        return seen, list(self.state["positive"]), dict(self.state["ledger"])

    def done(self, step: str) -> Any:
        return None if self.state is None else self.state["done"].get(step)

    def mark(self, step: str, value: Any = True) -> None:
        if self.state is not None:
            self.state["done"][step] = value
            self._save()

    def finish(self) -> None:
        if self._all.pop(self.token, None) is not None or self.path.exists():
            self._save()


def _correct_aggregates(
    store: GraphStore, pseudonym: str, seen: dict[str, Any], positive: list[str], progress: _Progress | None = None
) -> dict[str, int]:
    """BOUGHT_TOGETHER counts and the segment's size and POPULAR_IN shares, without the person. Each
    decrement marks the person's IN_SEGMENT edge in the same query (and is recorded in ``progress``), so a
    resumed forget never makes it twice, even after a crash between the query and the record."""
    out = {
        "together_decremented": 0,
        "together_deleted": 0,
        "segment_sizes": 0,
        "popular_updated": 0,
        "popular_deleted": 0,
        "segments_deleted": 0,
    }
    done: Callable[[str], Any] = progress.done if progress is not None else (lambda step: None)
    mark: Callable[..., None] = progress.mark if progress is not None else (lambda step, value=True: None)
    for segment, run in seen["segments"]:
        step = f"{segment}:{run}"
        if len(positive) >= 2:
            if not done(f"together:{step}"):
                out["together_decremented"] += _count_rows(
                    store.query(FORGET_TOGETHER, id=pseudonym, items=positive, run=run), "decremented"
                )
                mark(f"together:{step}")
            out["together_deleted"] += _count_rows(store.query(FORGET_TOGETHER_ZERO, items=positive), "deleted")
        size = done(f"segment:{step}")
        if size is None:
            rows = store.query(FORGET_SEGMENT, id=pseudonym, segment=segment, run=run)
            size = int(rows[0]["size"] or 0) if rows else False
            mark(f"segment:{step}", size)
        if size is False:
            continue
        out["segment_sizes"] += 1
        if size <= 0:
            out["segments_deleted"] += _count_rows(store.query(FORGET_SEGMENT_EMPTY, segment=segment), "deleted")
            continue
        if not done(f"popular:{step}"):
            out["popular_updated"] += _count_rows(
                store.query(FORGET_POPULAR, id=pseudonym, segment=segment, run=run, size=size, items=positive),
                "updated",
            )
            mark(f"popular:{step}")
        out["popular_deleted"] += _count_rows(store.query(FORGET_POPULAR_ZERO, segment=segment), "deleted")
    return out


def _delete_from_graph(store: GraphStore, pseudonym: str, seen: dict[str, Any]) -> dict[str, int]:
    """Reviews (then their products' aspect aggregates), the user node, and nodes only they made."""
    out = {"reviews": _count_rows(store.query(FORGET_REVIEWS_DELETE, id=pseudonym), "deleted")}
    if seen["reviewed"]:
        store.write(REVIEWS_PRODUCT_ASPECTS_CLEAR, seen["reviewed"])
        store.write(REVIEWS_PRODUCT_ASPECTS, seen["reviewed"], batch_size=500)
    out["user"] = _count_rows(store.query(FORGET_USER_DELETE, id=pseudonym), "deleted")
    orphans = 0
    for label, key, values in (
        ("Aspect", "name", seen["aspects"]),
        ("Product", "id", seen["items"] + seen["reviewed"]),
    ):
        if values:
            orphans += _count_rows(
                store.query(FORGET_ORPHANS, identifiers={"label": label, "key": key}, rows=sorted(set(values))),
                "deleted",
            )
    out["orphan_nodes"] = orphans
    store.flush()
    return out


def _forget_ledger(settings: Settings, pseudonym: str) -> None:
    if not settings.ledger_path.is_file():
        return
    with EventLedger.from_settings(settings) as ledger:
        ledger.delete_user(pseudonym, vacuum=True)  # rewrites the file without the freed pages
        ledger.checkpoint()  # and truncates the write-ahead log: no old page stays in it


def _quarantine_files(settings: Settings) -> list[Path]:
    return [p for p in _files(settings.quarantine_dir) if _is_text(p)]


def _scrub_quarantine(settings: Settings, needles: _Needles, *, dry_run: bool) -> dict[str, int]:
    files = lines = 0
    for path in _quarantine_files(settings):
        if not _holds(path, needles, text=True):
            continue
        files += 1
        if dry_run:
            with _open(path) as handle:
                lines += sum(1 for line in handle if needles.in_text(line))
        else:
            lines += _drop_lines(path, needles)
    return {"quarantine_files": files, "quarantine_lines": lines}


def _scrub_runs(settings: Settings, label: str, *, dry_run: bool) -> dict[str, int]:
    from kg.embeddings.forget import forget_in_export, forget_in_run, recorded_exports

    run_dirs = sorted(p for p in settings.runs_dir.iterdir() if p.is_dir()) if settings.runs_dir.is_dir() else []
    runs, run_files = _scrub_folders(run_dirs, "entity_to_id.tsv.gz", forget_in_run, label, dry_run=dry_run)
    exports, export_files = _scrub_folders(
        recorded_exports(settings.home), "entities.tsv", forget_in_export, label, dry_run=dry_run
    )
    return {"embedding_runs": runs, "run_files": run_files, "export_folders": exports, "export_files": export_files}


def _scrub_folders(
    folders: Iterable[Path], id_map: str, forget: Callable[[Path, str], list[str]], label: str, *, dry_run: bool
) -> tuple[int, int]:
    """(folders holding ``label``, files changed): ``forget`` in each folder, or with ``dry_run`` only a look
    at its id map file ``id_map``."""
    from kg.embeddings.runs import read_id_map

    hits = files = 0
    for folder in folders:
        if dry_run:
            path = folder / id_map
            hits += int(path.is_file() and label in read_id_map(path))
            continue
        changed = forget(folder, label)
        hits += bool(changed)
        files += len(changed)
    return hits, files


_KG_OWNED = ("done", "failed")  # inbox sub-folders kg moves files into: kg rewrites those copies


def _csv_groups(lines: list[bytes], tsv: bool) -> list[list[int]]:
    """The line numbers of each CSV record (a quoted field may span lines); one line per record if unreadable."""
    import csv

    text = [line.decode("utf-8", "surrogateescape") for line in lines]
    head = text[0] if text else ""
    delimiter = "\t" if tsv else max(",;\t|", key=head.count)
    consumed = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in text:
            consumed += 1
            yield line

    groups: list[list[int]] = []
    start = 0
    try:
        for _record in csv.reader(feed(), delimiter=delimiter):
            groups.append(list(range(start, consumed)))
            start = consumed
    except csv.Error:
        return [[i] for i in range(len(lines))]
    if start < len(lines):
        groups.append(list(range(start, len(lines))))
    return groups


def _drop_records(path: Path, needles: _Needles) -> int | None:
    """Rewrite an ingest input (CSV/TSV with its header kept, JSON lines; gzip kept) without the records that
    name the person: records dropped, or None when the file is not one kg can rewrite safely."""
    name = path.name.removesuffix(".gz")
    gz = path.suffix == ".gz"
    try:
        with _open(path) as handle:
            data = handle.read()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    lines = data.splitlines(keepends=True)
    if name.endswith((".csv", ".tsv")):
        groups = _csv_groups(lines, name.endswith(".tsv"))
        header, groups = groups[:1], groups[1:]
    elif name.endswith((".jsonl", ".ndjson", ".json")) and data.lstrip()[:1] in (b"{", b""):
        header, groups = [], [[i] for i in range(len(lines))]
    else:
        return None
    kept = [i for g in header for i in g]
    dropped = 0
    for group in groups:
        if needles.in_text(b"".join(lines[i] for i in group)):
            dropped += 1
        else:
            kept += group
    if dropped:
        _replace(path, b"".join(lines[i] for i in kept), gz=gz)
    return dropped


def _replace(path: Path, data: bytes, *, gz: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.forget-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, path.stat().st_mode & 0o777)
    with os.fdopen(fd, "wb") as raw:
        if gz:
            with gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) as out:
                out.write(data)
        else:
            raw.write(data)
    os.replace(tmp, path)


def _scrub_inboxes(settings: Settings, needles: _Needles, *, dry_run: bool) -> tuple[dict[str, int], dict[str, Any]]:
    """The inboxes kg schedule used: copies kg moved (done/, failed/) rewritten without the person, their
    ``.report.json`` redacted; then every file of the inbox searched, and each that still holds the person
    named, with how to remove it (counts, and ``disk`` entries: inboxes, traces, notes)."""
    from kg.operations.scheduler import REPORT, known_inboxes

    counts = {"inbox_files": 0, "inbox_rows": 0}
    traces: list[str] = []
    notes: list[str] = []
    inboxes = known_inboxes(settings.home)
    for inbox in inboxes:
        for path in _files(inbox):
            if not _holds(path, needles, text=True):
                continue
            owned = path.parent.name in _KG_OWNED and path.parent.parent == inbox
            if owned and not dry_run:
                if path.name.endswith(REPORT):  # kg's own report: the id goes, the report stays
                    data = path.read_bytes()
                    _replace(path, needles._any.sub(b"[forgotten]", data))
                    counts["inbox_files"] += 1
                    continue
                dropped = _drop_records(path, needles)
                if dropped is not None:
                    counts["inbox_files"] += 1
                    counts["inbox_rows"] += dropped
                    if not _holds(path, needles, text=True):
                        continue
            elif owned:
                counts["inbox_files"] += 1
                continue
            if dry_run:
                continue
            traces.append(str(path))
            notes.append(
                f"{path}: "
                + (
                    "kg moved it here but cannot rewrite this format: delete it, or remove "
                    "the person's rows and keep the rest"
                    if owned
                    else "not ingested yet (kg never owned it, so it was left as it is): remove "
                    "the person's rows before it is ingested, or delete it (a re-ingest "
                    "skips them anyway)"
                )
            )
    return counts, {"inboxes": [str(p) for p in inboxes], "inbox_traces": traces, "inbox_notes": notes}


def _sweep(settings: Settings, needles: _Needles, extra: Iterable[Path]) -> dict[str, Any]:
    """Search every file under KG_HOME (and the recorded export folders); drop matching lines of
    line-oriented text files; the files that still hold a trace."""
    checked = 0
    traces: list[str] = []
    dropped = 0
    for root in (settings.home, *extra):
        for path in _files(root):
            checked += 1
            text = _is_text(path) or _looks_text(path)
            if not _holds(path, needles, text=text):
                continue
            if _is_lines(path):
                dropped += _drop_lines(path, needles)
                if not _holds(path, needles, text=True):
                    continue
            traces.append(str(path))
    return {"files_checked": checked, "lines_dropped": dropped, "traces": traces}


def forget_user(store: GraphStore, settings: Settings, raw_id: str, *, dry_run: bool = False) -> ForgetReport:
    """Forget the person whose raw id (as in the shop's logs) is ``raw_id``; see the module docstring.

    ``dry_run`` counts what would go and changes nothing (not even the forgotten list).
    """
    raw = str(raw_id).strip() if raw_id is not None else ""
    if not raw:
        raise ConfigError("kg forget needs a user id", hint="pass the raw id as it appears in the shop's files")
    started = time.perf_counter()
    pseudonym = Pseudonymiser.from_settings(settings).user_id(raw)
    needles = _Needles(pseudonym, raw)
    report = ForgetReport(dry_run=dry_run)
    with writer_lock(settings, what="kg forget"):
        if not dry_run:
            ForgottenUsers.from_settings(settings).add(pseudonym)  # first: a crash later still suppresses them
            report.suppressed = True
        progress = None if dry_run else _Progress(settings, ForgottenUsers.from_settings(settings).token(pseudonym))
        if progress is not None and progress.state is not None:  # an interrupted forget: resume it
            seen, positive, report.ledger = progress.resumed()
        else:
            seen = _gather(store, pseudonym)
            pairs = _ledger_pairs(settings, pseudonym)
            positive = sorted(seen["positive"] | {p.item for p in pairs if p.type in _POSITIVE})
            report.ledger = {"events": sum(int(p.count) for p in pairs), "pairs": len(pairs)}
            if progress is not None and (seen["exists"] or pairs):
                progress.start(seen, positive, report.ledger)
        report.found = seen["exists"] or any(report.ledger.values())
        rels = seen["relationships"]
        report.graph = {
            "user": int(seen["exists"]),
            "reviews": seen["reviews"],
            "mentions": seen["mentions"],
            **{k.lower(): v for k, v in sorted(rels.items())},
        }
        if dry_run:
            report.files = {
                **_scrub_quarantine(settings, needles, dry_run=True),
                **_scrub_runs(settings, f"User:{pseudonym}", dry_run=True),
                **_scrub_inboxes(settings, needles.without_short_raw(raw), dry_run=True)[0],
            }
            report.seconds = round(time.perf_counter() - started, 3)
            return report
        report.aggregates = _correct_aggregates(store, pseudonym, seen, positive, progress)
        deleted = _delete_from_graph(store, pseudonym, seen)
        report.graph["user"] = deleted["user"]
        report.graph["reviews"] = deleted["reviews"]
        report.aggregates["product_aspects_recomputed"] = len(seen["reviewed"])
        report.aggregates["orphan_nodes_deleted"] = deleted["orphan_nodes"]
        _forget_ledger(settings, pseudonym)
        inbox_counts, inbox_disk = _scrub_inboxes(settings, needles.without_short_raw(raw), dry_run=False)
        report.files = {
            **_scrub_quarantine(settings, needles, dry_run=False),
            **_scrub_runs(settings, f"User:{pseudonym}", dry_run=False),
            **inbox_counts,
        }
        store.flush()
        # last: the forget's own queries name the person too; the store knows its server's files
        report.disk.update(store.purge_traces())  # disk is still empty here; traces etc. are added below
        from kg.embeddings.forget import recorded_exports

        exports = recorded_exports(settings.home)
        deadline = time.monotonic() + _SETTLE_S
        while True:  # the server unlinks the old log files just after the rewrite: give it a moment
            sweep = _sweep(settings, needles.without_short_raw(raw), exports)
            in_db = [t for t in sweep["traces"] if Path(t).is_relative_to(settings.db_dir)]
            if not in_db or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        report.disk.update(sweep)
        outside = [t for t in inbox_disk.pop("inbox_traces") if t not in sweep["traces"]]  # an inbox in KG_HOME
        report.disk.update(inbox_disk)
        report.disk["traces"] = sweep["traces"] + outside + find_server_traces(store, pseudonym, raw)
        report.files["other_lines"] = sweep["lines_dropped"]
        report.seconds = round(time.perf_counter() - started, 3)
        record_forget(settings, report.counts())
        if progress is not None:
            progress.finish()
    logger.info(
        "forget: user %s, %d events, %d reviews, %d traces left in %.1f s",
        "found" if report.found else "not found",
        report.ledger["events"],
        report.graph["reviews"],
        len(report.disk["traces"]),
        report.seconds,
    )
    return report
