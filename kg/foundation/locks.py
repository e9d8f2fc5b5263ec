"""Inter-process locks on files (``fcntl.flock``): one writer per graph, one starter per server.

The OS drops a flock when its holder dies, so a crashed or killed process never leaves a lock held.
The holder writes its pid and what it does into the lock file, so a waiter can say what it waits for.
Readers never take these locks.

>>> with writer_lock(settings, what="kg ingest events"):   # doctest: +SKIP
...     ingest(...)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kg.foundation.errors import BusyError
from kg.foundation.home import PRIVATE_FILE, ensure_home, private_dir
from kg.foundation.settings import Settings

__all__ = ["writer_lock", "file_lock", "lock_name", "lock_path", "holder"]

logger = logging.getLogger(__name__)

_POLL_FIRST = 0.02
_POLL_MAX = 0.25
_REMIND_EVERY = 60.0

# Re-entry within one thread: {path: (thread id, depth)}. flock conflicts between two open files
# even inside one process, so a nested ``writer_lock`` on the same graph would wait for itself.
_held: dict[str, tuple[int, int]] = {}
_held_guard = threading.Lock()


def lock_name(settings: Settings) -> str:
    """The writer-lock key of the configured graph: the graph name, or ``neo4j-<database>``."""
    raw = f"neo4j-{settings.neo4j_database}" if settings.backend == "neo4j" else settings.graph
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw) or "_"


def lock_path(settings: Settings) -> Path:
    """``KG_HOME/locks/<graph>.lock``."""
    return settings.home / "locks" / f"{lock_name(settings)}.lock"


@contextmanager
def writer_lock(settings: Settings, *, what: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive writer lock of the configured graph; wait (logging for whom) while another holds it.

    ``what`` describes this writer to waiters ("kg ingest events"). ``timeout`` None means
    ``settings.writer_wait`` (unset: wait for ever), 0 tries once; past it :class:`~kg.foundation.errors.BusyError`
    is raised. Re-entrant in one thread.
    """
    ensure_home(settings)
    timeout = settings.writer_wait if timeout is None else timeout
    with file_lock(lock_path(settings), what=what, timeout=timeout, subject=f"graph {lock_name(settings)!r}"):
        yield


def holder(path: Path) -> str | None:
    """Who holds (or last held) the lock at ``path``: ``"pid 123 (kg ingest events, since 12:00:01)"``."""
    try:
        info = json.loads(Path(path).read_text() or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or "pid" not in info:
        return None
    since = time.strftime("%H:%M:%S", time.localtime(float(info.get("since", 0))))
    return f"pid {info['pid']} ({info.get('what', '?')}, since {since})"


@contextmanager
def file_lock(
    path: Path, *, what: str, timeout: float | None = None, subject: str | None = None, notice_after: float = 0.0
) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created 0o600); see :func:`writer_lock`.

    The "waiting for" warning comes once the wait passes ``notice_after`` seconds."""
    key = str(Path(path).absolute())
    me = threading.get_ident()
    with _held_guard:
        owner, depth = _held.get(key, (None, 0))
        if owner == me:
            _held[key] = (me, depth + 1)
    if owner == me:
        try:
            yield
        finally:
            _release_reentry(key)
        return
    fd = _acquire(Path(path), what=what, timeout=timeout, subject=subject or str(path), notice_after=notice_after)
    with _held_guard:
        _held[key] = (me, 1)
    try:
        yield
    finally:
        with _held_guard:
            _held.pop(key, None)
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # releases the flock


def _release_reentry(key: str) -> None:
    with _held_guard:
        owner, depth = _held[key]
        _held[key] = (owner, depth - 1)


def _open(path: Path) -> int:
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    try:
        if os.fstat(fd).st_mode & 0o777 != PRIVATE_FILE:
            os.fchmod(fd, PRIVATE_FILE)
    except OSError:  # not ours: the lock still works
        pass
    return fd


def _acquire(path: Path, *, what: str, timeout: float | None, subject: str, notice_after: float) -> int:
    """An fd holding the flock on ``path``, with this process described in the file."""
    fd = _open(path)
    started = time.monotonic()
    deadline = None if timeout is None else started + max(0.0, timeout)
    delay, told, told_at = _POLL_FIRST, None, 0.0
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            who = holder(path) or "another process"
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise BusyError(
                    f"{subject} is busy: held by {who}", hint="wait for it to finish and retry (or give a longer wait)"
                )
            if now - started >= notice_after and (who != told or now - told_at >= _REMIND_EVERY):
                logger.warning("%s is busy: waiting for %s", subject, who)
                told, told_at = who, now
            time.sleep(delay if deadline is None else min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, _POLL_MAX)
        if told is not None:
            logger.info("%s: got the lock", subject)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": time.time()}).encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd
