"""What the distribution installs: one import namespace (``kg``) with its data files, every package listed."""

from __future__ import annotations

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
            return ROOT / mapping[prefix] / package[len(prefix):].lstrip(".").replace(".", "/")
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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(ROOT)], check=True, capture_output=True, timeout=300)
    return zipfile.ZipFile(next(out.glob("kg-*.whl")))


def test_the_wheel_installs_one_namespace(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"kg"}


def test_the_wheel_carries_its_data_files(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for expected in ("kg/ingest/api.py", "kg/embeddings/train.py", "kg/cypher/analyst/segment_sizes.cypher",
                     "kg/store/neo4j_server/pom.xml", "kg/foundation/data/given_names.txt",
                     "kg/analyst/explore/static/index.html", "kg/py.typed"):
        assert expected in names, expected
    assert any(n.startswith("kg/ingest/reviews/data/") and n.endswith(".json") for n in names)
    assert sum(n.endswith(".cypher") for n in names) == sum(1 for _ in (ROOT / "cypher").rglob("*.cypher"))
