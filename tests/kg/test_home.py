"""KG_HOME is owner-only (folders 0o700, files 0o600) whatever the umask, and a bad KG_HOME is a ConfigError."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError
from kg.foundation.home import create_private, ensure_home, write_private
from kg.foundation.settings import Settings
from kg.store.falkordb_server import EmbeddedServer, _servers_in
from tests.helpers import overlapped, release_together

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _python(code: str, *args: str, umask: int = 0) -> str:
    """Run ``code`` in a fresh interpreter under ``umask`` (the test process keeps its own)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, umask=umask
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


_ENSURE = """
import sys
from kg.foundation.home import ensure_home
from kg.foundation.settings import Settings
print(ensure_home(Settings(home=sys.argv[1])))
"""


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_ensure_home_creates_owner_only_folders_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "a" / "kg"
    assert _python(_ENSURE, str(home), umask=umask).strip() == str(home)
    assert _mode(home) == 0o700
    for name in ("db", "locks", "ledger", "runs", "quarantine"):
        assert _mode(home / name) == 0o700, name


def test_ensure_home_tightens_kg_folders_but_keeps_an_existing_home(tmp_path: Path) -> None:
    home = tmp_path / "old"
    (home / "runs").mkdir(parents=True)
    os.chmod(home, 0o755)
    os.chmod(home / "runs", 0o755)
    assert ensure_home(Settings(home=home)) == home
    assert _mode(home) == 0o755  # may be the user's folder: left as it is
    assert _mode(home / "runs") == 0o700


def test_neo4j_home_has_no_db_folder(tmp_path: Path) -> None:
    ensure_home(Settings(home=tmp_path / "n", neo4j_uri="bolt://localhost:7687"))
    assert not (tmp_path / "n" / "db").exists() and (tmp_path / "n" / "locks").is_dir()


def test_home_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    file = tmp_path / "kg-home"
    file.write_text("not a folder")
    with pytest.raises(ConfigError) as info:
        ensure_home(Settings(home=file))
    assert "not a directory" in str(info.value) and info.value.hint
    with pytest.raises(ConfigError):  # the server's start path checks it too (was NotADirectoryError)
        EmbeddedServer(Settings(home=file)).start()
    with pytest.raises(ConfigError) as below:
        ensure_home(Settings(home=file / "sub"))
    assert "not a directory" in str(below.value)
    assert file.read_text() == "not a folder"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_home_that_is_not_writable_is_a_config_error(tmp_path: Path) -> None:
    home = tmp_path / "ro"
    home.mkdir()
    os.chmod(home, 0o500)
    try:
        with pytest.raises(ConfigError) as info:
            ensure_home(Settings(home=home))
        assert "not writable" in str(info.value)
    finally:
        os.chmod(home, 0o700)


_PRIVATE = """
import sys
from pathlib import Path
from kg.foundation.home import create_private, write_private
write_private(Path(sys.argv[1]) / "w.json", "{}")
print(create_private(Path(sys.argv[1]) / "c.key", "secret"))
"""


def test_private_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    assert _python(_PRIVATE, str(tmp_path), umask=0).strip() == "True"
    assert _mode(tmp_path / "w.json") == 0o600 and _mode(tmp_path / "c.key") == 0o600
    write_private(tmp_path / "w.json", "[1]")
    assert (tmp_path / "w.json").read_text() == "[1]" and _mode(tmp_path / "w.json") == 0o600
    assert create_private(tmp_path / "c.key", "other") is False
    assert (tmp_path / "c.key").read_text() == "secret"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


_RACE = """
import sys, time
from pathlib import Path
from kg.foundation.home import create_private
print("ready", flush=True); sys.stdin.readline()  # released with the others (release_together)
began = time.monotonic()
made = create_private(Path(sys.argv[1]), sys.argv[2])
ended = time.monotonic()
print(made, Path(sys.argv[1]).read_text(), began, ended)
"""


def test_create_private_race_has_one_winner_and_no_half_written_reads(tmp_path: Path) -> None:
    # create_private takes well under a millisecond: released together, two of the four calls overlap in
    # about four rounds of five on a busy machine; up to five rounds run until one has (the race was run)
    raced = False
    for attempt in range(5):
        target = tmp_path / f"key{attempt}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _RACE, str(target), f"value-{i}"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(4)
        ]
        release_together(procs)
        outs = [p.communicate(timeout=60)[0].split() for p in procs]
        assert sum(made == "True" for made, *_ in outs) == 1
        assert {content for _, content, *_ in outs} == {target.read_text()}
        spans = [(float(began), float(ended)) for *_, began, ended in outs]
        if any(overlapped([a, b]) for i, a in enumerate(spans) for b in spans[i + 1 :]):
            raced = True
            break
    assert raced, "in five rounds no two create_private calls overlapped"


_SERVER = """
import json, sys
from kg.store.falkordb_server import EmbeddedServer
from kg.foundation.settings import Settings
server = EmbeddedServer(Settings(home=sys.argv[1]))
server.start()
print(json.dumps(server.status()["running"]))
"""


def test_server_files_are_owner_only_even_under_umask_0(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("m")
    settings = Settings(home=home)
    try:
        assert json.loads(_python(_SERVER, str(home), umask=0)) is True
        db = settings.db_dir
        for name in ("password", "server.json", "redis.pid", "redis.log", "server.lock"):
            assert _mode(db / name) == 0o600, name
        assert _mode(db) == 0o700 and _mode(db / "appendonlydir") == 0o700
        assert {_mode(p) for p in (db / "appendonlydir").iterdir()} == {0o600}
        assert _mode(db / "redis.sock") == 0o700
    finally:
        EmbeddedServer(settings).stop()
        for pid in _servers_in(settings.db_dir):
            os.kill(pid, signal.SIGKILL)


def test_start_tightens_files_an_older_kg_left_readable(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(home=tmp_path_factory.mktemp("o"))
    server = EmbeddedServer(settings)
    try:
        server.start()
        server.stop()
        for path in [settings.db_dir / "redis.log", *(settings.db_dir / "appendonlydir").iterdir()]:
            os.chmod(path, 0o644)
        os.chmod(settings.db_dir / "appendonlydir", 0o755)
        server.start()
        assert _mode(settings.db_dir / "redis.log") == 0o600
        assert _mode(settings.db_dir / "appendonlydir") == 0o700
        assert {_mode(p) for p in (settings.db_dir / "appendonlydir").iterdir()} == {0o600}
    finally:
        server.stop()
