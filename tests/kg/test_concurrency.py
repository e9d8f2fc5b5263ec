"""Several kg processes on one KG_HOME: one server per home, one writer per graph, clean errors.

Real processes (``python -c``) against real embedded servers in temporary homes (not the session
server); every server a test starts is stopped by the ``home`` fixture.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.foundation.errors import BusyError, ServerError
from kg.foundation.locks import holder, lock_path, writer_lock
from kg.foundation.settings import Settings
from kg.store import open_store
from kg.store.cypher import SCHEMA_CONSTRAINTS
from kg.store.falkordb_server import EmbeddedServer, _servers_in
from tests.helpers import overlapped, release_together

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings on a fresh KG_HOME (short path: the unix socket must fit); its servers are stopped after."""
    settings = Settings(home=tmp_path_factory.mktemp("c"), graph="g", pseudonym_key="test-key")
    yield settings
    EmbeddedServer(settings).stop()
    for pid in _servers_in(settings.db_dir):  # anything a failed test left behind
        os.kill(pid, signal.SIGKILL)


def _spawn(code: str, settings: Settings, *args: str) -> subprocess.Popen[str]:
    """``python -c code settings.home args...`` from the repository root."""
    return subprocess.Popen(
        [sys.executable, "-c", code, str(settings.home), *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: list[subprocess.Popen[str]], timeout: float = 90) -> list[str]:
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-2000:]
        outs.append(out)
    return outs


_START_AT = """
import json, os, sys, time
from kg.store.falkordb_server import EmbeddedServer
from kg.foundation.settings import Settings
server = EmbeddedServer(Settings(home=sys.argv[1], graph="g"))
import falkordb
print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
began = time.monotonic()
endpoint = server.start()
ended = time.monotonic()
rows = falkordb.FalkorDB(**endpoint.client_kwargs()).select_graph("g").query("RETURN 41 + 1").result_set
print(json.dumps({"pid": server._pid(), "answer": rows[0][0], "span": [began, ended]}))
"""


@pytest.mark.parametrize("n", [2, 3, 4])
def test_processes_starting_one_stopped_home_share_one_server(home: Settings, n: int) -> None:
    EmbeddedServer(home).start()  # creates the home and its log, as a used home has them
    EmbeddedServer(home).stop()
    procs = [_spawn(_START_AT, home) for _ in range(n)]
    release_together(procs)
    results = [json.loads(out) for out in _finish(procs)]
    assert overlapped([r["span"] for r in results])  # the race was run: every start() began before one returned
    assert {r["answer"] for r in results} == {42}
    pids = {r["pid"] for r in results}
    assert len(pids) == 1 and None not in pids
    assert _servers_in(home.db_dir) == sorted(pids)


def _count(settings: Settings) -> int:
    with open_store(settings, start=False) as store:
        return int(store._run("MATCH (n:Probe) RETURN count(n) AS c")[0]["c"])


def _started_with(settings: Settings, statement: str, *, compact: bool = False) -> EmbeddedServer:
    """The home's server, started, once ``statement`` has run on its graph (then an AOF rewrite if ``compact``)."""
    server = EmbeddedServer(settings)
    server.start()
    with open_store(settings, start=False) as store:
        store._run(statement)
        if compact:
            store.compact()
    return server


def test_stop_then_start_works_repeatedly_and_keeps_data(home: Settings) -> None:
    server = EmbeddedServer(home)
    for i in range(5):
        server.start()
        with open_store(home, start=False) as store:
            store._run("CREATE (:Probe {i: $i})", {"i": i})
            store.compact()  # a rewrite every round: new base/incr files and manifest
        assert server.stop() is True
        assert server.stop() is False
        assert _servers_in(home.db_dir) == []
    server.start()
    assert _count(home) == 5


# A starter racing a stop: its server may be stopped between start() and the query, which is the
# stop doing its job; what must hold is that the home starts again afterwards.
_START_MAY_BE_STOPPED = """
import json, sys, time
import redis
from kg.store.falkordb_server import EmbeddedServer
from kg.foundation.settings import Settings
server = EmbeddedServer(Settings(home=sys.argv[1], graph="g"))
import falkordb
print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
began = time.monotonic()
endpoint = server.start()
print(json.dumps({"span": [began, time.monotonic()]}))
try:
    rows = falkordb.FalkorDB(**endpoint.client_kwargs()).select_graph("g").query("RETURN 41 + 1").result_set
    print(json.dumps({"answer": rows[0][0]}))
except redis.exceptions.ConnectionError:
    print(json.dumps({"answer": None}))
"""

_STOP = """
import json, sys, time
from kg.store.falkordb_server import EmbeddedServer
from kg.foundation.settings import Settings
server = EmbeddedServer(Settings(home=sys.argv[1]))
print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
began = time.monotonic()
server.stop()
print(json.dumps({"span": [began, time.monotonic()]}))
"""


def test_stop_racing_starts_leaves_a_home_that_starts(home: Settings) -> None:
    server = _started_with(home, "CREATE (:Probe)")
    raced = 0
    for _ in range(3):
        procs = [_spawn(_START_MAY_BE_STOPPED, home), _spawn(_STOP, home), _spawn(_START_MAY_BE_STOPPED, home)]
        release_together(procs)
        outs = [[json.loads(line) for line in out.splitlines()] for out in _finish(procs)]
        stop = outs[1][0]["span"]
        raced += any(overlapped([stop, out[0]["span"]]) for out in (outs[0], outs[2]))  # a start() during the stop
        assert {line["answer"] for out in (outs[0], outs[2]) for line in out[1:]} <= {42, None}
        assert len(_servers_in(home.db_dir)) <= 1
        server.start()
        assert len(_servers_in(home.db_dir)) == 1
        assert _count(home) == 1
    # released together, a start() runs during the stop in most rounds; one round in three is asked for
    assert raced > 0, "no start() overlapped the stop: the race was not run"


def test_server_killed_during_aof_rewrite_starts_again(home: Settings) -> None:
    server = _started_with(home, "UNWIND range(1, 20000) AS i CREATE (:Probe {i: i, s: 'x' + toString(i)})")
    mid_rewrite = 0
    for delay in (0.0, 0.005, 0.02):
        client = server._redis(server.endpoint())
        client.bgrewriteaof()
        # (c) a kill at three points of the rewrite (at once, 5 ms and 20 ms in): the delays are the test's inputs
        time.sleep(delay)
        mid_rewrite += bool(client.info("persistence")["aof_rewrite_in_progress"])
        server.kill()
        client.close()
        server.start()
        assert _count(home) == 20000
    assert mid_rewrite > 0, "no kill landed while the AOF rewrite ran"


def test_a_manifest_naming_missing_files_is_reported_then_repaired(home: Settings) -> None:
    server = _started_with(home, "CREATE (:Probe)", compact=True)  # files become appendonly.aof.2.*
    server.stop()
    manifest = home.db_dir / "appendonlydir" / "appendonly.aof.manifest"
    assert ".1." not in manifest.read_text()
    # what a second server on the same folder writes at shutdown: its stale view of the files
    manifest.write_text(
        "file appendonly.aof.1.base.rdb seq 1 type b\n"
        "file appendonly.aof.1.incr.aof seq 1 type i startoffset 0 endoffset 0\n"
    )
    with pytest.raises(ServerError) as info:
        server.start()
    assert "damaged" in str(info.value) and "kg db repair" in (info.value.hint or "")
    backup = server.repair_aof()
    assert backup is not None and "appendonly.aof.1.base.rdb" in backup.read_text()
    assert server.repair_aof() is None  # sound now
    server.start()
    assert _count(home) == 1


_HOLD = """
import os, sys, time
from kg.foundation.locks import writer_lock
from kg.foundation.settings import Settings
settings = Settings(home=sys.argv[1], graph="g")
log = sys.argv[2]
print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
for _ in range(int(sys.argv[3])):
    with open(log, "a") as f:
        f.write(f"{os.getpid()} want {time.monotonic()}\\n"); f.flush()
    with writer_lock(settings, what=f"test writer {os.getpid()}"):
        with open(log, "a") as f:
            f.write(f"{os.getpid()} in {time.monotonic()}\\n"); f.flush()
        time.sleep(0.03)  # (c) a holder holds a while, so that the others queue for the lock
        with open(log, "a") as f:
            f.write(f"{os.getpid()} out {time.monotonic()}\\n"); f.flush()
"""


@pytest.mark.parametrize("n", [2, 3])
def test_writer_lock_holders_never_overlap(home: Settings, tmp_path: Path, n: int) -> None:
    log = tmp_path / "sections.log"
    procs = [_spawn(_HOLD, home, str(log), "8") for _ in range(n)]
    release_together(procs)
    _finish(procs)
    everything = [line.split() for line in log.read_text().splitlines()]
    lines = [line for line in everything if line[1] != "want"]
    assert len(lines) == 2 * 8 * n
    assert len({pid for pid, _, _ in lines}) == n
    # the race was run: a process asked for the lock and waited while another one held it
    held = [(float(a[2]), float(b[2]), a[0]) for a, b in zip(lines[::2], lines[1::2], strict=True)]
    waits = []
    for pid in {line[0] for line in everything}:
        own = [(what, float(t)) for who, what, t in everything if who == pid and what in ("want", "in")]
        waits += [
            (pid, asked, got)
            for (w, asked), (i, got) in zip(own[::2], own[1::2], strict=True)
            if (w, i) == ("want", "in")
        ]
    assert any(pid != who and asked < ended and began < got for pid, asked, got in waits for began, ended, who in held)
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):  # in/out pairs of one process, never interleaved
        assert enter[1] == "in" and leave[1] == "out" and enter[0] == leave[0]
    times = [float(t) for _, _, t in lines]
    assert times == sorted(times)


_HOLD_FOREVER = """
import sys, time
from kg.foundation.locks import writer_lock
from kg.foundation.settings import Settings
with writer_lock(Settings(home=sys.argv[1], graph="g"), what="kg ingest events"):
    print("held", flush=True)
    time.sleep(120)  # (c) holds until the test kills it; bounded, so a child left by a failed run goes
"""


def test_holder_killed_with_sigkill_does_not_block_the_next(home: Settings, caplog: pytest.LogCaptureFixture) -> None:
    proc = _spawn(_HOLD_FOREVER, home)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert f"pid {proc.pid} (kg ingest events" in (holder(lock_path(home)) or "")
        with pytest.raises(BusyError) as info:
            with writer_lock(home, what="second", timeout=0.3):
                pass
        assert f"pid {proc.pid}" in str(info.value) and info.value.hint
        assert any(f"waiting for pid {proc.pid} (kg ingest events" in r.getMessage() for r in caplog.records)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    began = time.monotonic()
    with writer_lock(home, what="after the crash", timeout=5):
        assert "after the crash" in (holder(lock_path(home)) or "")
    assert time.monotonic() - began < 1.0


def test_writer_lock_is_reentrant_per_thread_and_keyed_by_graph(home: Settings) -> None:
    other = home.model_copy(update={"graph": "other"})
    with writer_lock(home, what="outer", timeout=1):
        with writer_lock(home, what="inner", timeout=1):  # same thread: no self-deadlock
            pass
        with writer_lock(other, what="another graph", timeout=0):  # different graph: free
            pass
        code = _HOLD_FOREVER.replace('what="kg ingest events"', 'what="x", timeout=0')
        proc = subprocess.run(
            [sys.executable, "-c", code, str(home.home)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode != 0 and "BusyError" in proc.stderr and "held" not in proc.stdout
    assert (home.home / "locks" / "g.lock").stat().st_mode & 0o777 == 0o600


_SCHEMA = """
import json, sys, time
from kg.foundation.settings import Settings
from kg.store import open_store
settings = Settings(home=sys.argv[1], graph=sys.argv[2])
with open_store(settings) as store:
    print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
    began = time.monotonic()
    store.ensure_schema()
    print(json.dumps([began, time.monotonic()]))
"""


def test_ensure_schema_racing_in_four_processes(home: Settings) -> None:
    EmbeddedServer(home).start()
    for graph in ("s1", "s2"):
        procs = [_spawn(_SCHEMA, home, graph) for _ in range(4)]
        release_together(procs)
        assert overlapped([json.loads(out) for out in _finish(procs)])  # the race was run: four at once
        with open_store(home.model_copy(update={"graph": graph}), start=False) as store:
            constraints = store.query(SCHEMA_CONSTRAINTS)
            assert len(constraints) == len({(c["label"], tuple(c["properties"])) for c in constraints}) > 0


def test_compaction_on_an_unreachable_server_is_a_server_error(home: Settings) -> None:
    server = EmbeddedServer(home)
    server.start()
    store = open_store(home, start=False)
    try:
        state = json.loads(server.statefile.read_text())
        server.statefile.write_text(json.dumps({**state, "unix_socket": str(home.db_dir / "gone.sock")}))
        with pytest.raises(ServerError) as unreachable:
            store.compact()
        assert "compacting" in str(unreachable.value) and unreachable.value.hint
        server.statefile.write_text(json.dumps(state))
        server.kill()
        with pytest.raises(ServerError) as stopped:
            store.compact()
        assert "stopped" in str(stopped.value) and "kg db start" in (stopped.value.hint or "")
    finally:
        try:
            store.close()
        except Exception:  # noqa: BLE001 - the server is gone; closing is best effort
            logging.getLogger(__name__).debug("close after kill")
