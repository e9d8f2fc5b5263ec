"""What the distribution installs: one import namespace (``kg``) with its data files, every package listed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _folder_of(package: str) -> Path:
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    for prefix in sorted(mapping, key=len, reverse=True):
        if package == prefix or package.startswith(prefix + "."):
            return ROOT / mapping[prefix] / package[len(prefix) :].lstrip(".").replace(".", "/")
    raise AssertionError(f"{package} has no folder")


def test_every_package_folder_is_listed() -> None:
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = set()
    for package in listed:
        folder = _folder_of(package)
        assert (folder / "__init__.py").is_file(), f"{package}: {folder} is no package"
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder).parts
            on_disk.add(".".join((package, *relative)))
    assert on_disk == listed


def _source_files() -> list[str]:
    """The files a clean checkout has: tracked ones and untracked ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel built from a copy of the source files (the build writes nothing into the repository)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in _source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return zipfile.ZipFile(next(out.glob("kg-*.whl")))


def test_the_wheel_installs_one_namespace(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"kg"}


def test_the_wheel_carries_its_data_files(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for expected in (
        "kg/ingest/api.py",
        "kg/embeddings/train.py",
        "kg/cypher/analyst/segment_sizes.cypher",
        "kg/store/neo4j_server/pom.xml",
        "kg/foundation/data/given_names.txt",
        "kg/analyst/explore/static/index.html",
        "kg/py.typed",
    ):
        assert expected in names, expected
    assert any(n.startswith("kg/ingest/reviews/data/") and n.endswith(".json") for n in names)
    for expected in (
        "kg/ingest/cypher/events_merge.cypher",
        "kg/store/cypher/neo4j/server_version.cypher",
        "kg/profiles/cypher/segments_write.cypher",
    ):
        assert expected in names, expected  # queries beside the code that runs them
    shipped = sum(1 for folder in ("kg", "ingest", "embeddings", "cypher") for _ in (ROOT / folder).rglob("*.cypher"))
    assert sum(n.endswith(".cypher") for n in names) == shipped
