"""The explorer's shared state: a given store stays open, one it opened is closed at shutdown."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import kg.store
from kg.analyst.explore.app import create_app
from kg.analyst.explore.state import Explorer
from kg.foundation.settings import Settings


class _FakeStore:
    closed = 0

    def close(self) -> None:
        self.closed += 1


def test_a_given_store_is_never_closed(tmp_path: Any) -> None:
    given = _FakeStore()
    explorer = Explorer(Settings(home=tmp_path), given_store=given)  # type: ignore[arg-type]
    assert explorer.store() is given
    explorer.close()
    assert given.closed == 0


def test_the_store_it_opens_is_opened_once_and_closed_at_shutdown(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[_FakeStore] = []
    monkeypatch.setattr(kg.store, "open_store", lambda settings: opened.append(_FakeStore()) or opened[-1])
    app = create_app(Settings(home=tmp_path))
    with TestClient(app, base_url="http://127.0.0.1:7475"):
        explorer: Explorer = app.state.explorer
        assert explorer.store() is explorer.store() and len(opened) == 1
        assert opened[0].closed == 0
    assert opened[0].closed == 1


def test_the_default_library_is_the_analysts(tmp_path: Any) -> None:
    from kg.analyst import library

    assert Explorer(Settings(home=tmp_path)).library() is library
