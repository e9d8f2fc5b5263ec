"""kg update after one event reads that user's rows, not the shop: the frozen state is memory-mapped, the
ledger and the graph are asked about the touched user and the products their reasons need; a state of
the older one-pickle format still loads and is rewritten."""

from __future__ import annotations

import csv
import pickle
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.synthetic import generate_shop
from kg.ledger import EventLedger
from kg.profiles import compute_profiles, update_profiles
from kg.profiles.cypher import USER_RECOMMENDED
from kg.profiles.incremental import latest_state, rebuild_with_state
from kg.profiles.load import GraphCatalogue
from kg.profiles.state import LEGACY_STATE_FILE, STATE_DIR, load_state
from kg.store import GraphStore

DAY = 86_400_000
K = 5
#: queries that read every product, category, review aggregate or member: none may run for one event
WHOLE_SHOP = {"catalogue", "category_parents", "also_bought", "product_aspects", "user_mentions", "segment_sizes"}


@pytest.fixture(autouse=True)
def _every_array_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The small test shops' arrays are small: keep none of them inside the pickle."""
    monkeypatch.setattr("kg.profiles.state.INLINE_BYTES", 0)


def _profiled(tmp_path: Path, settings: Settings, store: GraphStore) -> int:
    """A small shop ingested and profiled; the time of its newest event."""
    files = generate_shop(tmp_path / "shop", users=50, products=30, events=1_500, seed=5)
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    compute_profiles(store, settings, train=False, k=K, top=10, seed=2)
    with open(files.events, encoding="utf-8") as handle:
        return max(int(r[3]) for r in csv.reader(handle) if r[3].isdigit())


def _one_event(tmp_path: Path, settings: Settings, store: GraphStore, user: str, item: str, at: int) -> None:
    path = tmp_path / f"new-{at}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["user_id", "item_id", "event_type", "timestamp", "rating"]])
        csv.writer(handle).writerow([user, item, "purchase", at, ""])
    ingest_file(store, settings, path, kind="events", fmt="csv")


def _arrays(obj: Any, seen: set[int] | None = None) -> list[np.ndarray]:
    """Every numpy array reachable from ``obj`` through attributes, dicts, lists and sparse matrices."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if sparse.issparse(obj):
        return [a for name in ("data", "indices", "indptr") if hasattr(obj, name) for a in [getattr(obj, name)]]
    if isinstance(obj, dict):
        return [a for value in obj.values() for a in _arrays(value, seen)]
    if isinstance(obj, (list, tuple, set)):
        return [a for value in obj for a in _arrays(value, seen)]
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith("kg."):
        return _arrays(vars(obj), seen)
    return []


def _mapped(array: np.ndarray) -> bool:
    node: Any = array
    while node is not None:
        if isinstance(node, np.memmap):
            return True
        node = getattr(node, "base", None)
    return False


def test_the_frozen_state_is_memory_mapped(tmp_path: Path, settings: Settings, store: GraphStore) -> None:
    _profiled(tmp_path, settings, store)
    run_dir, state = latest_state(settings)
    assert (run_dir / STATE_DIR / "arrays").is_dir() and not (run_dir / LEGACY_STATE_FILE).exists()
    large = [a for a in _arrays(state) if a.nbytes and not a.dtype.hasobject]
    assert len(large) >= 3  # co-purchase counts at least (data, indices, indptr)
    assert all(_mapped(a) for a in large)
    assert _mapped(state.together.indptr) and _mapped(state.together.data)


def test_an_update_after_one_event_reads_only_that_users_rows(
    tmp_path: Path, settings: Settings, store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    newest = _profiled(tmp_path, settings, store)
    _one_event(tmp_path, settings, store, "U0000003", "P0000001", newest + DAY)
    user = Pseudonymiser.from_settings(settings).user_id("U0000003")

    ran: list[str] = []
    query = store.query

    def counted(q: Any, *args: Any, **params: Any) -> Any:
        ran.append(getattr(q, "name", str(q)))
        return query(q, *args, **params)

    asked: list[str] = []
    require = GraphCatalogue.require

    def required(self: GraphCatalogue, products: Any) -> None:
        asked.extend(p for p in products if p not in self.loaded)
        require(self, products)

    read_users: list[str] = []
    events_of_users = EventLedger.events_of_users

    def of_users(self: EventLedger, users: Any, **kw: Any) -> Any:
        users = list(users)
        read_users.extend(users)
        return events_of_users(self, users, **kw)

    def every_event(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("kg update read the whole ledger")

    monkeypatch.setattr(store, "query", counted)
    monkeypatch.setattr(GraphCatalogue, "require", required)
    monkeypatch.setattr(EventLedger, "events_of_users", of_users)
    monkeypatch.setattr(EventLedger, "events_between", every_event)
    report = update_profiles(store, settings)

    assert report.users_updated == 1 and read_users == [user]
    assert not WHOLE_SHOP & set(ran), ran
    with EventLedger(settings.ledger_path, readonly=True) as ledger:
        own = {e.item for e in events_of_users(ledger, [user])}
    assert len(asked) == len(set(asked))  # each product fetched once
    assert set(asked) - own, "the candidates' catalogue rows are fetched when their reasons need them"
    assert len(set(asked) - own) <= 3 * K + 10  # no more than one user's candidate pool
    monkeypatch.undo()

    state = latest_state(settings)[1]
    reference = rebuild_with_state(store, settings, None, as_of_ms=state.as_of_ms)
    written = [(r["id"], int(r["rank"]), r["reason"]) for r in store.query(USER_RECOMMENDED, id=user)]
    assert written == [
        (r["product"], r["rank"], r["reason"]) for r in reference["recommendations"] if r["user"] == user
    ]


class _InMemory(pickle.Pickler):
    """Pickles memory-mapped arrays as plain ones: the one-file state kg 0.5 wrote."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, np.memmap):
            return np.array, (np.asarray(obj),)
        return NotImplemented


def test_a_state_of_the_older_format_loads_and_the_first_update_rewrites_it(
    tmp_path: Path, settings: Settings, store: GraphStore
) -> None:
    newest = _profiled(tmp_path, settings, store)
    run_dir, state = latest_state(settings)
    state.version = 1
    with open(run_dir / LEGACY_STATE_FILE, "wb") as handle:
        _InMemory(handle, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    shutil.rmtree(run_dir / STATE_DIR)

    legacy = load_state(run_dir)
    assert legacy.version == 1 and not any(_mapped(a) for a in _arrays(legacy))
    _one_event(tmp_path, settings, store, "U0000004", "P0000002", newest + DAY)
    assert update_profiles(store, settings).users_updated == 1
    assert (run_dir / STATE_DIR / "state.pkl").exists() and not (run_dir / LEGACY_STATE_FILE).exists()
    rewritten = load_state(run_dir)
    assert rewritten.version == 2 and rewritten.bookmark > state.bookmark
    assert _mapped(rewritten.together.data)

    _one_event(tmp_path, settings, store, "U0000005", "P0000003", newest + 2 * DAY)
    assert update_profiles(store, settings).users_updated == 1  # the bookmark moved: only the new event's user
    assert load_state(run_dir).bookmark > rewritten.bookmark


def test_a_state_of_an_unknown_version_asks_for_kg_profiles(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with open(run_dir / LEGACY_STATE_FILE, "wb") as handle:
        pickle.dump(SimpleNamespace(version=0), handle)
    with pytest.raises(ConfigError, match="another version") as raised:
        load_state(run_dir)
    assert "kg profiles" in str(raised.value.hint)
