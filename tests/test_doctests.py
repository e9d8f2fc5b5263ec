"""Docstring examples in the library run as tests: every module of the ``kg`` namespace, by import name."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest


def _modules() -> list[str]:
    """Every module under ``kg``, including the packages mapped from other folders (kg.ingest, kg.embeddings)."""
    names = {"kg"}
    for root in ("kg", "kg.ingest", "kg.embeddings"):
        package = importlib.import_module(root)
        names |= {root} | {m.name for m in pkgutil.walk_packages(package.__path__, root + ".")}
    return sorted(n for n in names if not n.endswith("__main__"))


MODULES = _modules()


def test_the_walk_sees_every_layer() -> None:
    layers = {name.split(".")[1] for name in MODULES if "." in name}
    assert {
        "foundation",
        "store",
        "ledger",
        "ingest",
        "embeddings",
        "analyst",
        "profiles",
        "operations",
        "cli",
    } <= layers


@pytest.mark.parametrize("name", [m for m in MODULES if "doctest" not in m])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
