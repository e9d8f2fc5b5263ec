"""A local Neo4j 5.26 Community under ``KG_HOME/neo4j``, without Docker: ``kg db start --backend neo4j``.

Neo4j and Neo4j Browser come from Maven Central (``pom.xml`` beside this file). Their class path is
resolved once with ``mvn dependency:build-classpath`` (jars cached in ``~/.m2``) and kept in
``~/.cache/kg/neo4j-classpath-*.txt``; every start runs ``java ... org.neo4j.server.CommunityEntryPoint``
with it. Bolt and HTTP listen on 127.0.0.1 only, authentication is always on (the password is
``KG_NEO4J_PASSWORD``, set once before the first start), Neo4j Browser is served at ``/browser/``
and opens kg's guide on connect. Transaction logs are rotated small and kept one file, so a person
``kg forget`` deleted leaves the data directory within a checkpoint (see :data:`FORGET_WINDOW_S`).

>>> LocalNeo4j(Settings(home="/tmp/kg-doc")).home.name     # doctest: +SKIP
'neo4j'
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kg.foundation.errors import ConfigError, ServerError
from kg.foundation.home import private_dir, write_private
from kg.foundation.maven import maven_classpath, require_tool
from kg.foundation.settings import Settings
from kg.store.falkordb_server import live_pid, process_alive

__all__ = ["LocalNeo4j", "POM", "FORGET_WINDOW_S", "neo4j_conf"]

logger = logging.getLogger(__name__)

POM = Path(__file__).with_name("pom.xml")
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN = "org.neo4j.server.startup.Neo4jAdminCommand"
#: seconds after the last write within which a deleted node's strings leave the transaction logs:
#: the checkpoint interval plus the time a 1 MB log takes to rotate under kg's writes
FORGET_WINDOW_S = 60
JVM_FLAGS = (
    "--add-opens",
    "java.base/java.nio=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.io=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
)


def neo4j_conf(settings: Settings, bolt_port: int, http_port: int) -> dict[str, str]:
    """The ``neo4j.conf`` settings of a local server (validated strictly by Neo4j at start)."""
    guide = f"http://127.0.0.1:{settings.explore_port}/guide/kg.md"
    return {
        "server.default_listen_address": "127.0.0.1",
        "server.bolt.listen_address": f"127.0.0.1:{bolt_port}",
        "server.bolt.advertised_address": f"127.0.0.1:{bolt_port}",
        "server.http.listen_address": f"127.0.0.1:{http_port}",
        "server.http.advertised_address": f"127.0.0.1:{http_port}",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": "true",
        "dbms.usage_report.enabled": "false",
        "client.allow_telemetry": "false",  # Neo4j Browser sends no usage data either
        "server.memory.heap.initial_size": settings.neo4j_heap,
        "server.memory.heap.max_size": settings.neo4j_heap,
        "server.memory.pagecache.size": settings.neo4j_pagecache,
        # forgetting: deleted values leave the logs at the next checkpoint after a rotation
        "db.tx_log.rotation.retention_policy": "1 files",
        "db.tx_log.rotation.size": "1M",
        "db.checkpoint.interval.time": "20s",
        "db.checkpoint.interval.tx": "1000",
        # Neo4j Browser opens kg's guide, served by `kg explore`, when an analyst connects
        "browser.post_connect_cmd": f"guide {guide}",
        # Browser compares the guide's host (or scheme://host), never a port: loopback, any port
        "browser.remote_content_hostname_whitelist": "http://127.0.0.1,http://localhost",
    }


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _is_neo4j(pid: int) -> bool:
    try:
        return ENTRY_POINT.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class LocalNeo4j:
    """Start, stop and inspect the local Neo4j of one ``KG_HOME`` (``KG_HOME/neo4j``)."""

    def __init__(self, settings: Settings, *, extra_conf: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.extra_conf = dict(extra_conf or {})
        self.home: Path = settings.home / "neo4j"
        self.conf_dir = self.home / "conf"
        self.pidfile = self.home / "neo4j.pid"
        self.console = self.home / "logs" / "console.log"
        self.bolt_port, self.http_port = self._ports()

    def _ports(self) -> tuple[int, int]:
        bolt = self.settings.neo4j_bolt_port
        uri = self.settings.neo4j_uri
        if uri:
            parsed = urlparse(uri)
            if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
                raise ConfigError(
                    f"KG_NEO4J_URI points at {parsed.hostname}, not at this machine",
                    hint="unset KG_NEO4J_URI, or point it at bolt://127.0.0.1:PORT for a local Neo4j",
                )
            bolt = parsed.port or 7687
        return bolt, self.settings.neo4j_http_port

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    # -- set-up ----------------------------------------------------------------------------
    def _password(self) -> str:
        password = self.settings.neo4j_password.get_secret_value()
        if len(password) < 8:
            raise ConfigError(
                "a local Neo4j needs KG_NEO4J_PASSWORD of 8 or more characters",
                hint="export KG_NEO4J_PASSWORD=... (or set it in .env)",
            )
        return password

    @staticmethod
    def _tool(name: str) -> str:
        return require_tool(name, "a local Neo4j")

    def classpath(self) -> str:
        """The server's class path, resolved by Maven once per version of ``pom.xml``."""
        return maven_classpath(POM, "Neo4j", size="~150 MB")

    def _write_conf(self) -> None:
        private_dir(self.conf_dir)
        conf = {**neo4j_conf(self.settings, self.bolt_port, self.http_port), **self.extra_conf}
        write_private(self.conf_dir / "neo4j.conf", "".join(f"{k}={v}\n" for k, v in conf.items()))

    def _java(self) -> list[str]:
        return [self._tool("java"), *JVM_FLAGS, "-cp", self.classpath()]

    def _set_initial_password(self) -> None:
        if (self.data_dir / "dbms" / "auth.ini").exists() or (self.data_dir / "dbms" / "auth").exists():
            return
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}
        done = subprocess.run(
            [*self._java(), ADMIN, "dbms", "set-initial-password", self._password()],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = " ".join((done.stdout + done.stderr).split())[-300:]
            raise ServerError(
                f"could not set the local Neo4j's password: {tail}",
                hint=f"check the settings written to {self.conf_dir}/neo4j.conf",
            )

    # -- lifecycle -------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of this home's running Neo4j, or None."""
        return live_pid(self.pidfile, _is_neo4j)

    def start(self, *, timeout: float = 120.0) -> dict[str, Any]:
        """Start the server (no-op when it runs) and wait until Bolt accepts the password; its status."""
        password = self._password()
        if self.pid() is None:
            for port in (self.bolt_port, self.http_port):
                if not _port_free(port):
                    raise ServerError(
                        f"port {port} on 127.0.0.1 is taken by another program",
                        hint="set KG_NEO4J_URI=bolt://127.0.0.1:PORT / KG_NEO4J_HTTP_PORT to free ports",
                    )
            private_dir(self.home)
            self._write_conf()
            self._set_initial_password()
            self.console.parent.mkdir(parents=True, exist_ok=True)
            with open(self.console, "ab") as log:
                process = subprocess.Popen(
                    [*self._java(), ENTRY_POINT, f"--home-dir={self.home}", f"--config-dir={self.conf_dir}"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    cwd=self.home,
                )
            write_private(self.pidfile, str(process.pid))
            self._wait_ready(process, password, timeout)
        return self.status()

    def _wait_ready(self, process: subprocess.Popen[bytes], password: str, timeout: float) -> None:
        import neo4j

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerError(
                    f"Neo4j exited at start (code {process.returncode}): {self._log_tail()}", hint=f"see {self.console}"
                )
            try:
                with neo4j.GraphDatabase.driver(self.uri, auth=(self.settings.neo4j_user, password)) as driver:
                    driver.verify_connectivity()
                return
            except neo4j.exceptions.AuthError as e:
                self.stop()
                raise ServerError(
                    "the local Neo4j refused KG_NEO4J_PASSWORD: its data was set up with another",
                    hint=f"use the first password, or remove {self.data_dir}/dbms/auth.ini",
                ) from e
            except (neo4j.exceptions.ServiceUnavailable, OSError):
                time.sleep(0.5)
        self.stop()
        raise ServerError(f"Neo4j did not start within {timeout:.0f} s: {self._log_tail()}", hint=f"see {self.console}")

    def _log_tail(self) -> str:
        try:
            lines = [line for line in self.console.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        return " | ".join(lines[-3:])[-400:]

    def stop(self, *, timeout: float = 60.0) -> bool:
        """Stop the server cleanly (SIGTERM; SIGKILL after ``timeout``); False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)
        return True

    def status(self) -> dict[str, Any]:
        """``{"backend", "running", "pid", "uri", "browser", "dir", "rss_mb"}``."""
        pid = self.pid()
        rss = None
        if pid:
            try:
                rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20
            except OSError:
                rss = None
        return {
            "backend": "neo4j",
            "running": pid is not None,
            "pid": pid,
            "uri": self.uri,
            "browser": self.browser_url,
            "dir": str(self.home),
            "rss_mb": rss,
        }
