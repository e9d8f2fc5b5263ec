"""``KG_HOME``: the state folder, kept owner-only (folders 0o700, files 0o600) whatever the umask.

>>> ensure_home(Settings(home="/tmp/kg-doc"))      # doctest: +SKIP
PosixPath('/tmp/kg-doc')
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "ensure_home", "private_dir", "write_private", "create_private"]

logger = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_HINT = "set KG_HOME to a folder you can write (it is created when missing)"


def _subdirs(settings: Settings) -> tuple[str, ...]:
    """The folders kg keeps in ``KG_HOME`` (``db`` only when kg runs its own server)."""
    embedded = settings.backend == "falkordb" and not settings.falkordb_url
    dirs = ("locks", "ledger", "runs", "quarantine", "pykeen")
    return ("db", *dirs) if embedded else dirs


def ensure_home(settings: Settings) -> Path:
    """Create ``KG_HOME`` and its folders owner-only; ConfigError when it is a file or not writable.

    A home created here gets mode 0o700; kg's own folders in it (db, locks, runs, quarantine) are
    created or tightened to 0o700. An existing home folder keeps its mode (it may be the user's).
    """
    home = settings.home
    if home.exists() and not home.is_dir():
        raise ConfigError(f"KG_HOME {home} is not a directory", hint=_HINT)
    private_dir(home, tighten=False)
    if not os.access(home, os.W_OK | os.X_OK):
        raise ConfigError(f"KG_HOME {home} is not writable", hint=_HINT)
    for name in _subdirs(settings):
        private_dir(home / name)
    return home


def private_dir(path: Path, *, tighten: bool = True) -> Path:
    """``mkdir -p path``; the folder gets 0o700 when created here (or always, with ``tighten``).

    Missing parents are created with the default mode: they are not kg's. Raises ConfigError when
    the folder cannot be created (a parent is a file, no permission, read-only file system).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path} is not a directory", hint=_HINT)
    created = not path.exists()
    try:
        if created:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        if created or tighten:
            _chmod(path, PRIVATE_DIR)
    except OSError as e:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is not a directory" if blocker else (e.strerror or str(e))
        raise ConfigError(f"cannot create {path}: {reason}", hint=_HINT) from e
    return path


def _chmod(path: Path, mode: int) -> None:
    """chmod when the mode differs and the file is ours; a foreign owner is left alone (logged)."""
    st = path.stat()
    if st.st_mode & 0o777 == mode:
        return
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid() and os.geteuid() != 0:
        logger.info("%s belongs to another user; its mode %o is left as is", path, st.st_mode & 0o777)
        return
    os.chmod(path, mode)


def _write_temp(path: Path, text: str) -> Path:
    """A new 0o600 file next to ``path`` holding ``text`` (fsynced)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # umask-independent
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, mode 0o600 (readers see the old or the new file)."""
    path = Path(path)
    tmp = _write_temp(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_private(path: Path, text: str) -> bool:
    """Create ``path`` (mode 0o600) holding ``text`` unless it exists; True when this call created it.

    Atomic: of several processes racing, exactly one creates the file and none ever reads it half
    written (the content is written first, then linked into place).
    """
    path = Path(path)
    if path.exists():
        return False
    tmp = _write_temp(path, text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True
