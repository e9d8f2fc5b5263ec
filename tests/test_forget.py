"""kg forget: a person leaves no trace in the graph, the ledger or any file under KG_HOME; aggregates equal
those of a graph built without them; re-ingests skip them unless asked (real FalkorDB, hand-made shops)."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kg.embeddings.forget import forget_entity, forget_in_export, record_export, recorded_exports
from kg.embeddings.runs import RunResult, read_id_map
from kg.foundation.errors import ConfigError
from kg.foundation.forgotten import ForgottenUsers, forget_log
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ledger import EventLedger
from kg.operations.forget import find_traces, forget_user
from kg.store import GraphStore, open_store
from kg.store.queries import Query
from tests.helpers import clean_twin, run_cli

GONE = "XFORGETME42"  # the person to forget: a raw id no file would hold by chance
KEPT = ("YKEEPUSER07", "ZKEEPUSER08")
DAY = 86_400_000
T0 = 1_704_067_200_000

# X bought P1, P2, P3; Y bought P1, P2; Z bought P2, P3 (and carted P4). BOUGHT_TOGETHER counts (distinct
# users who bought or rated both, both directions) are P1-P2: 2, P2-P3: 2, P1-P3: 1; without X: P1-P2: 1,
# P2-P3: 1 and no P1-P3 edge.
EVENTS = [
    (GONE, "P1", "purchase"),
    (GONE, "P2", "purchase"),
    (GONE, "P3", "purchase"),
    (GONE, "P4", "view"),
    (GONE, "P4", "view"),
    (KEPT[0], "P1", "purchase"),
    (KEPT[0], "P2", "purchase"),
    (KEPT[0], "P3", "view"),
    (KEPT[1], "P2", "purchase"),
    (KEPT[1], "P3", "purchase"),
    (KEPT[1], "P4", "cart"),
]
# X's review of P1 praises the battery life, Y's complains about it: P1's aspect score moves with X.
REVIEWS = [
    (GONE, "P1", 5, "The battery life is great and the screen is excellent."),
    (GONE, "P5", 4, "Great sound."),  # P5 exists only because X reviewed it
    (KEPT[0], "P1", 2, "The battery life is terrible."),
    (KEPT[1], "P2", 4, "The screen is great."),
]


def _events_csv(path: Path, users: set[str], *, bad_row_for: str | None = None) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["user_id", "item_id", "event_type", "timestamp", "rating"])
        for n, (user, item, kind) in enumerate(EVENTS):
            if user in users:
                w.writerow([user, item, kind, T0 + n * DAY, ""])
        if bad_row_for:
            w.writerow([bad_row_for, "P9", "purchase", "not a time", ""])  # quarantined, raw id kept raw
    return path


def _reviews_csv(path: Path, users: set[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["user_id", "item_id", "rating", "text", "timestamp"])
        for n, (user, item, rating, text) in enumerate(REVIEWS):
            if user in users:
                w.writerow([user, item, rating, text, (T0 + n * DAY) // 1000])
    return path


def _products_csv(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["item_id", "title", "brand", "category"])
        for i in range(1, 5):
            w.writerow([f"P{i}", f"Phone {i}", "Acme", "Electronics > Phones"])
    return path


def _load(
    store: GraphStore, settings: Settings, folder: Path, users: set[str], *, bad_row_for: str | None = None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ingest_file(store, settings, _products_csv(folder / "products.csv"), kind="products", fmt="csv")
    ingest_file(
        store,
        settings,
        _events_csv(folder / "events.csv", users, bad_row_for=bad_row_for),
        kind="events",
        fmt="csv",
        max_bad_ratio=1.0,
    )
    ingest_file(
        store,
        settings,
        _reviews_csv(folder / "reviews.csv", users),
        kind="reviews",
        fmt="csv",
        sentiment="lexicon",
        lang="en",
    )


def _pseudonym(settings: Settings, raw: str = GONE) -> str:
    return Pseudonymiser.from_settings(settings).user_id(raw)


def _together(store: GraphStore) -> dict[tuple[str, str], int]:
    rows = store.execute("MATCH (p:Product)-[r:BOUGHT_TOGETHER]->(q:Product) RETURN p.id AS s, q.id AS t, r.count AS n")
    return {(r["s"], r["t"]): int(r["n"]) for r in rows}


def _aspects(store: GraphStore) -> dict[tuple[str, str], tuple]:
    rows = store.execute(
        "MATCH (p:Product)-[h:HAS_ASPECT]->(a:Aspect) RETURN p.id AS p, a.name AS a, "
        "h.mentions AS m, h.positive AS pos, h.negative AS neg, h.score AS s"
    )
    return {(r["p"], r["a"]): (r["m"], r["pos"], r["neg"], r["s"]) for r in rows}


def _shape(store: GraphStore) -> dict[str, dict[str, int]]:
    """Node and relationship counts, less what a profiles run derives (segments are re-clustered)."""
    stats = store.stats()
    derived = {"IN_SEGMENT", "POPULAR_IN", "RECOMMENDED", "INTERESTED_IN", "BOUGHT_TOGETHER"}
    return {
        "nodes": {k: v for k, v in stats["nodes"].items() if k not in ("Segment", "IngestRun")},
        "relationships": {k: v for k, v in stats["relationships"].items() if k not in derived},
    }


# -- runs and exports, no database --------------------------------------------------------------------
def _fake_run(runs_dir: Path, labels: list[str]) -> Path:
    import torch

    run = RunResult(
        run_id="r1",
        path=runs_dir / "r1",
        config={"model": "TransE"},
        status="succeeded",
        entity_to_id={label: i for i, label in enumerate(labels)},
        relation_to_id={"PURCHASED": 0},
        entity_embeddings=np.ones((len(labels), 4), np.float32),
    )
    run.save()
    np.savez_compressed(run.path / "triples.npz", train=np.array([[0, 0, 1], [2, 0, 1]]), test=np.array([[0, 0, 1]]))
    torch.save(
        {
            "entity_representations.0._embeddings.weight": torch.ones(len(labels), 4),
            "relation_representations.0._embeddings.weight": torch.ones(1, 4),
        },
        run.path / "model.pt",
    )
    return run.path


def test_forget_entity_rewrites_every_run_file(tmp_path: Path) -> None:
    import torch

    run_dir = _fake_run(tmp_path / "runs", ["User:aaaa1111", "Product:P1", "User:bbbb2222"])
    assert forget_entity(tmp_path / "runs", "User:aaaa1111") == 1
    assert read_id_map(run_dir / "entity_to_id.tsv.gz") == {"User:forgotten-0": 0, "Product:P1": 1, "User:bbbb2222": 2}
    vectors = np.load(run_dir / "entity_embeddings.npy")
    assert vectors[0].tolist() == [0.0] * 4 and vectors[1:].sum() == 8.0
    with np.load(run_dir / "triples.npz") as triples:
        assert triples["train"].tolist() == [[2, 0, 1]] and triples["test"].shape == (0, 3)
    state = torch.load(run_dir / "model.pt", weights_only=True)
    assert state["entity_representations.0._embeddings.weight"].sum().item() == 8.0
    assert state["relation_representations.0._embeddings.weight"].sum().item() == 4.0
    assert forget_entity(tmp_path / "runs", "User:aaaa1111") == 0  # nothing left to forget
    assert not any(
        b"aaaa1111" in (gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes())
        for p in run_dir.iterdir()
    )


def test_forget_in_export_drops_the_edges_of_the_entity(tmp_path: Path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "entities.tsv").write_text("0\tUser:aaaa1111\n1\tProduct:P1\n2\tUser:bbbb2222\n", encoding="utf-8")
    (out / "relations.tsv").write_text("0\tPURCHASED\n", encoding="utf-8")
    (out / "train.tsv").write_text("0\t0\t1\n2\t0\t1\n", encoding="utf-8")
    (out / "entity_embeddings.tsv").write_text("User:aaaa1111\t0.5\t0.5\nProduct:P1\t1\t1\n", encoding="utf-8")
    assert sorted(forget_in_export(out, "User:aaaa1111")) == ["entities.tsv", "entity_embeddings.tsv", "train.tsv"]
    assert (out / "entities.tsv").read_text() == "0\tUser:forgotten-0\n1\tProduct:P1\n2\tUser:bbbb2222\n"
    assert (out / "train.tsv").read_text() == "2\t0\t1\n"
    assert (out / "entity_embeddings.tsv").read_text() == "Product:P1\t1\t1\n"
    home = tmp_path / "home"
    record_export(home, out)
    record_export(home, out)
    assert recorded_exports(home) == [out.resolve()]


# -- the graph ---------------------------------------------------------------------------------------
def test_aggregates_equal_a_graph_built_without_the_person(
    settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    from kg.profiles import compute_profiles

    everyone = {GONE, *KEPT}
    _load(store, settings, tmp_path / "a", everyone)
    compute_profiles(store, settings, train=False, k=2, seed=1)
    both = {
        (s, t): n
        for (a, b), n in {("P1", "P2"): 2, ("P2", "P3"): 2, ("P1", "P3"): 1}.items()
        for s, t in ((a, b), (b, a))
    }
    assert _together(store) == both
    assert _aspects(store)[("P1", "battery life")][0] == 2
    assert store.execute("MATCH (s:Segment) RETURN sum(s.size) AS n") == [{"n": 3}]

    report = forget_user(store, settings, GONE)
    assert report.ok and report.found and report.graph["user"] == 1 and report.graph["reviews"] == 2
    assert report.aggregates["together_decremented"] == 6 and report.aggregates["together_deleted"] == 2
    assert report.ledger == {"events": 5, "pairs": 4}  # two views of P4 are one pair
    pseudonym = _pseudonym(settings)
    assert store.execute("MATCH (u:User {id: $id}) RETURN count(u) AS n", {"id": pseudonym}) == [{"n": 0}]
    assert store.execute("MATCH (s:Segment) RETURN sum(s.size) AS n") == [{"n": 2}]
    after = _together(store)
    assert after == {k: 1 for k in (("P1", "P2"), ("P2", "P1"), ("P2", "P3"), ("P3", "P2"))}
    with EventLedger.from_settings(settings) as ledger:
        assert list(ledger.pairs(users=[pseudonym])) == [] and ledger.counts()["pairs"] == 6

    forgotten_aspects, forgotten_shape = _aspects(store), _shape(store)
    assert forgotten_aspects[("P1", "battery life")][0] == 1
    with clean_twin(settings) as (built, built_settings):  # the shop built without the person
        _load(built, built_settings, tmp_path / "b", set(KEPT))
        compute_profiles(built, built_settings, train=False, k=2, seed=1)
        assert after == _together(built)
        assert forgotten_aspects == _aspects(built)
        assert forgotten_shape == _shape(built)  # P5 and X's aspects went with X's review
        with EventLedger.from_settings(built_settings) as ledger:
            assert ledger.counts()["pairs"] == 6


def _derived(store: GraphStore) -> dict[str, Any]:
    """Everything a forget corrects: BOUGHT_TOGETHER counts, segment sizes, POPULAR_IN shares, aspects, shape."""
    popular = store.execute(
        "MATCH (p:Product)-[r:POPULAR_IN]->(s:Segment) RETURN p.id AS p, s.size AS n, r.share AS share"
    )
    sizes = store.execute("MATCH (s:Segment) RETURN s.size AS n")
    return {
        "together": _together(store),
        "aspects": _aspects(store),
        "shape": _shape(store),
        "sizes": sorted(int(r["n"]) for r in sizes),
        "popular": sorted((r["p"], int(r["n"]), round(float(r["share"]), 4)) for r in popular),
    }


class _Crash(Exception):
    pass


def _crashing(real: Callable[..., Any], point: str) -> Callable[..., Any]:
    """``real`` (a store's query or write) that raises :class:`_Crash` before the query named ``point``, or once
    the query that ``point`` names as ``after:NAME`` has committed."""

    def call(query: Query, *args: Any, **kw: Any) -> Any:
        if query.name == point:
            raise _Crash(point)
        result = real(query, *args, **kw)
        if f"after:{query.name}" == point:  # the query committed, the forget's record did not
            raise _Crash(point)
        return result

    return call


#: where a forget is interrupted: before a graph query of that name (after it, once done: "after:"), or in a
#: step that kg.operations.forget.person (where forget_user runs) calls by that name
CRASH_POINTS = (
    "forget_together",
    "after:forget_together",
    "forget_together_zero",
    "forget_segment",
    "after:forget_segment",
    "forget_popular",
    "after:forget_popular",
    "forget_reviews_delete",
    "reviews_product_aspects_clear",
    "forget_user_delete",
    "forget_orphans",
    "_forget_ledger",
    "_scrub_quarantine",
    "_scrub_runs",
    "record_forget",
)


def test_a_forget_interrupted_at_any_step_and_run_again_corrects_once(
    settings: Settings, store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 item 5: a crash between forget's steps, then ``kg forget`` again, gives the same graph as one
    uninterrupted forget (no aggregate corrected twice, no review, aspect or orphan left behind)."""
    import kg.operations.forget.person as forget_module
    from kg.profiles import compute_profiles

    everyone = {GONE, *KEPT}
    _load(store, settings, tmp_path / "a", everyone)
    compute_profiles(store, settings, train=False, k=2, seed=1)
    assert forget_user(store, settings, GONE).ok
    wanted = _derived(store)
    assert wanted["sizes"] and wanted["popular"] and wanted["together"]
    pseudonym = _pseudonym(settings)
    for n, point in enumerate(CRASH_POINTS):
        ForgottenUsers.from_settings(settings).remove(pseudonym)  # FalkorDB twins share KG_HOME
        with clean_twin(settings) as (twin, twin_settings):
            _load(twin, twin_settings, tmp_path / f"b{n}", everyone)
            compute_profiles(twin, twin_settings, train=False, k=2, seed=1)
            with monkeypatch.context() as patch:
                if point.startswith(("forget_", "reviews_", "after:")):
                    for method in ("query", "write"):
                        patch.setattr(twin, method, _crashing(getattr(twin, method), point))
                else:
                    patch.setattr(
                        forget_module, point, lambda *a, _point=point, **k: (_ for _ in ()).throw(_Crash(_point))
                    )
                with pytest.raises(_Crash, match=point):
                    forget_user(twin, twin_settings, GONE)
            report = forget_user(twin, twin_settings, GONE)  # run again: resumes
            assert report.ok and report.found, point
            assert _derived(twin) == wanted, point
            assert twin.execute("MATCH (u:User {id: $id}) RETURN count(u) AS n", {"id": pseudonym}) == [{"n": 0}]
            assert not (twin_settings.home / "privacy" / "forget-pending.json").exists(), point
            with EventLedger.from_settings(twin_settings) as ledger:
                assert list(ledger.pairs(users=[pseudonym])) == [], point


def test_dry_run_changes_nothing(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    _load(store, settings, tmp_path, {GONE, *KEPT})
    before = store.stats()
    report = forget_user(store, settings, GONE, dry_run=True)
    assert report.dry_run and report.found and report.ledger["pairs"] == 4 and report.graph["wrote"] == 2
    assert store.stats() == before
    assert len(ForgottenUsers.from_settings(settings)) == 0 and forget_log(settings) == []
    with pytest.raises(ConfigError):
        forget_user(store, settings, "  ")


def test_reingest_skips_the_forgotten_unless_allowed(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    events = _events_csv(tmp_path / "events.csv", {GONE, *KEPT})
    ingest_file(store, settings, events, kind="events", fmt="csv")
    result = run_cli(settings, "forget", GONE, "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["found"] and printed["ok"] and printed["ledger"]["events"] == 5
    pseudonym = _pseudonym(settings)
    assert pseudonym not in result.stdout and GONE not in result.stdout

    again = ingest_file(store, settings, events, kind="events", fmt="csv", force=True)
    assert (again.rows_forgotten, again.rows_ok) == (5, 6)
    assert any("forgotten" in line for line in again.lines())
    assert store.execute("MATCH (u:User {id: $id}) RETURN count(u) AS n", {"id": pseudonym}) == [{"n": 0}]
    reviews = ingest_file(
        store,
        settings,
        _reviews_csv(tmp_path / "reviews.csv", {GONE, *KEPT}),
        kind="reviews",
        fmt="csv",
        sentiment="lexicon",
        lang="en",
    )
    assert reviews.rows_forgotten == 2 and reviews.rows_ok == 2

    result = run_cli(settings, "ingest", "events", str(events), "--format", "csv", "--force", "--allow-forgotten")
    assert result.exit_code == 0, result.output
    assert store.execute("MATCH (u:User {id: $id})-[r]->() RETURN count(r) AS n", {"id": pseudonym}) == [{"n": 4}]
    assert pseudonym not in ForgottenUsers.from_settings(settings)
    log = forget_log(settings)
    assert len(log) == 1 and log[0]["ledger.events"] == 5 and pseudonym not in json.dumps(log)


def test_reingest_quarantines_no_bad_row_of_the_forgotten(
    settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    """Issue 18 item 3: suppression applies before the quarantine (public and raw files)."""
    events = _events_csv(tmp_path / "events.csv", {GONE, *KEPT}, bad_row_for=GONE)
    first = ingest_file(store, settings, events, kind="events", fmt="csv", max_bad_ratio=1.0)
    assert first.rows_bad == 1
    forget_user(store, settings, GONE)
    needles = [_pseudonym(settings).encode(), GONE.encode()]
    assert _holders(settings.quarantine_dir, needles) == []

    again = ingest_file(store, settings, events, kind="events", fmt="csv", max_bad_ratio=1.0, force=True)
    assert (again.rows_forgotten, again.rows_ok, again.rows_bad) == (6, 6, 0)
    assert _holders(settings.quarantine_dir, needles) == []
    with_kept_bad = _events_csv(tmp_path / "kept.csv", set(KEPT), bad_row_for=KEPT[0])  # others still quarantined
    assert ingest_file(store, settings, with_kept_bad, kind="events", fmt="csv", max_bad_ratio=1.0).rows_bad == 1


def test_lookups_of_the_forgotten_never_reach_the_server(
    settings: Settings, store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 item 4: ``kg user`` and the explorer's search of a forgotten person send nothing to the
    server (its query log would keep the pseudonym); the explorer never sends a known user's raw id."""
    from kg.analyst.explore import graph
    from kg.analyst.users import describe_user

    _load(store, settings, tmp_path, {GONE, *KEPT})
    forget_user(store, settings, GONE)
    sent: list[str] = []

    def spying(real: Callable[..., Any]) -> Callable[..., Any]:
        """``real``, recording every call's arguments in ``sent``."""

        def spy(*args: Any, **kw: Any) -> Any:
            sent.append(repr((args, kw)))
            return real(*args, **kw)

        return spy

    for method in ("query", "execute", "write"):
        monkeypatch.setattr(store, method, spying(getattr(store, method)))
    report = describe_user(store, settings, GONE)
    assert report.forgotten and not report.found and _pseudonym(settings) not in " ".join(report.lines())
    result = run_cli(settings, "user", GONE)
    assert result.exit_code == 1 and "forgotten" in result.output
    pseudonymise = Pseudonymiser.from_settings(settings).user_id
    forgotten = ForgottenUsers.from_settings(settings).__contains__
    assert graph.search(store, GONE, pseudonymise=pseudonymise, forgotten=forgotten) == []
    assert graph.search(store, _pseudonym(settings), pseudonymise=pseudonymise, forgotten=forgotten) == []
    from kg.analyst.library import run_library_query

    for params in ({"user": GONE}, {"pseudonym": _pseudonym(settings)}):  # kg query run / the explorer's queries
        with pytest.raises(ConfigError, match="forgotten"):
            run_library_query(store, "user_profile", params, settings=settings)
    assert sent == []
    kept = graph.search(store, KEPT[0], pseudonymise=pseudonymise, forgotten=forgotten)
    assert [n["id"] for n in kept] == [f"User:{_pseudonym(settings, KEPT[0])}"]
    assert sent and not any(KEPT[0] in call for call in sent)  # its pseudonym was sent, never the raw id
    assert graph.search(store, "Phone 2", pseudonymise=pseudonymise, forgotten=forgotten)  # other searches work


def test_the_trace_check_reads_the_servers_query_log(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    """Issue 18 item 4: a query naming a forgotten person after the forget (FalkorDB keeps it, with its
    parameters, in the ``telemetry{graph}`` stream, compressed in the snapshot) is found by the check."""
    import time

    from kg.operations.forget import find_server_traces

    _load(store, settings, tmp_path, {GONE, *KEPT})
    report = forget_user(store, settings, GONE)
    pseudonym = _pseudonym(settings)
    assert report.ok and find_server_traces(store, pseudonym, GONE) == []
    store.execute("MATCH (u:User) WHERE u.id = $id OR u.id = $raw RETURN count(u) AS n", {"id": pseudonym, "raw": GONE})
    if settings.neo4j_uri:
        assert find_server_traces(store, pseudonym, GONE) == []  # an external server's logs are the operator's
        return
    deadline = time.monotonic() + 10
    while not (found := find_server_traces(store, pseudonym, GONE)) and time.monotonic() < deadline:
        time.sleep(0.2)  # (a) poll, bounded: the server flushes its telemetry about once a second
    assert found == [f"server key telemetry{{{settings.graph}}}"]
    again = forget_user(store, settings, GONE)  # a second forget drops it, and says so when it cannot
    assert again.ok and find_server_traces(store, pseudonym, GONE) == []


# -- the disk ----------------------------------------------------------------------------------------
def _holders(root: Path, needles: list[bytes]) -> list[str]:
    """Every file under ``root`` whose bytes (gunzipped too) hold a needle: grep -r, no cleverness."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data += gzip.decompress(data)
            except (OSError, EOFError):
                pass
        if any(n in data for n in needles):
            found.append(str(path.relative_to(root)))
    return found


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[GraphStore, Settings]]:
    """A server of its own whose append-only log lives in this test's KG_HOME (not the session's), with
    uncompressed snapshots: LZF would hide a string from grep, and the test must be able to see one."""
    import redis

    from kg.store.falkordb_server import EmbeddedServer

    settings = Settings(home=tmp_path / "h", pseudonym_key="test-key", batch_size=500)
    store = open_store(settings)
    endpoint = EmbeddedServer(settings).endpoint()
    assert endpoint is not None
    with redis.Redis(**endpoint.client_kwargs()) as client:
        client.config_set("rdbcompression", "no")
    try:
        yield store, settings
    finally:
        store.close()
        EmbeddedServer(settings).stop()


def test_forgetting_leaves_no_trace_on_disk(own_server: tuple[GraphStore, Settings], tmp_path: Path) -> None:
    from kg.embeddings.workflow import export_graph

    store, settings = own_server
    _load(store, settings, tmp_path / "in", {GONE, *KEPT}, bad_row_for=GONE)
    pseudonym = _pseudonym(settings)
    _fake_run(settings.runs_dir, [f"User:{pseudonym}", "Product:P1", f"User:{_pseudonym(settings, KEPT[0])}"])
    export_graph(store, tmp_path / "export", fmt="pbg", settings=settings)
    needles = [pseudonym.encode(), GONE.encode()]
    before = _holders(settings.home, needles)
    for place in ("db/appendonlydir", "ledger/", "quarantine/raw/", "quarantine/events-", "runs/r1/entity_to_id"):
        assert any(p.startswith(place) for p in before), (place, before)  # the check can fail
    assert _holders(tmp_path / "export", needles) == ["entities.tsv"]

    report = forget_user(store, settings, GONE)
    assert report.ok and report.disk["traces"] == [] and report.disk["compacted"]
    assert report.files["quarantine_files"] == 2 and report.files["embedding_runs"] == 1
    assert report.files["export_folders"] == 1
    assert _holders(settings.home, needles) == []
    assert _holders(tmp_path / "export", needles) == []
    assert find_traces(settings.home, pseudonym, GONE) == []
    # the kept people are still there, in the graph and on disk
    kept = _pseudonym(settings, KEPT[0])
    assert store.execute("MATCH (u:User {id: $id}) RETURN count(u) AS n", {"id": kept}) == [{"n": 1}]
    assert _holders(settings.home, [kept.encode()])
    store.close()
    from kg.store.falkordb_server import EmbeddedServer

    EmbeddedServer(settings).stop()  # shutdown writes dump.rdb: it holds no trace either
    assert (settings.db_dir / "dump.rdb").exists()
    assert _holders(settings.home, needles) == []


def test_forget_rewrites_the_schedulers_done_copies_and_names_the_inbox(
    settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    """Issue 20: after kg schedule moved ``events__2018-09-01.csv`` to ``inbox/done/`` (outside KG_HOME), the
    forget rewrites that copy without the person's rows (the others and the header kept), its report holds no
    id, and a file still waiting in the inbox (never kg's) is left as it is and named in the report."""
    from kg.operations.scheduler import Inbox, known_inboxes, run_batch

    inbox = tmp_path / "shop" / "inbox"
    inbox.mkdir(parents=True)
    events = _events_csv(inbox / "events__2018-09-01.csv", {GONE, *KEPT}, bad_row_for=GONE)
    with open(events, "a", newline="", encoding="utf-8") as handle:  # a quoted field over two lines
        csv.writer(handle).writerow([GONE, "P7", "view", T0, "a\nb"])
    gz = inbox / "events__2018-09-02.jsonl.gz"
    gz.write_bytes(
        gzip.compress(
            b"".join(
                json.dumps({"user_id": u, "item_id": "P1", "event_type": "view", "timestamp": T0 // 1000}).encode()
                + b"\n"
                for u in (GONE, KEPT[0])
            )
        )
    )
    (inbox / (events.name + ".kg.json")).write_text('{"kind": "events", "format": "csv", "max_bad_ratio": 1.0}')
    past = T0 / 1000
    for path in inbox.iterdir():
        os.utime(path, (past, past))
    batch = run_batch(settings, Inbox(inbox), profiles=False)
    assert [f.status for f in batch.files] == ["done", "done"], batch.lines()
    assert known_inboxes(settings.home) == [inbox.resolve()]
    done = inbox / "done"
    needles = [_pseudonym(settings).encode(), GONE.encode()]
    assert set(_holders(inbox, needles)) >= {"done/events__2018-09-01.csv", "done/events__2018-09-02.jsonl.gz"}

    report = forget_user(store, settings, GONE)
    assert report.ok, report.lines()
    assert _holders(inbox, needles) == [] and _holders(settings.home, needles) == []
    assert report.files["inbox_files"] >= 2 and report.files["inbox_rows"] == 7 + 1
    kept = list(csv.reader((done / "events__2018-09-01.csv").open(encoding="utf-8")))
    assert kept[0] == ["user_id", "item_id", "event_type", "timestamp", "rating"]
    assert sorted({row[0] for row in kept[1:]}) == sorted(KEPT) and len(kept) == 1 + 6
    assert [json.loads(line)["user_id"] for line in gzip.decompress((done / gz.name).read_bytes()).splitlines()] == [
        KEPT[0]
    ]
    assert any(str(inbox.resolve()) in line for line in report.lines())

    waiting = inbox / "events__2018-09-03.csv"  # dropped in after the batch: the user's, not kg's
    waiting.write_text(f"user_id,item_id,event_type,timestamp\n{GONE},P1,view,1700000000\n", encoding="utf-8")
    again = forget_user(store, settings, GONE)
    assert not again.ok and str(waiting.resolve()) in again.disk["traces"]
    assert GONE in waiting.read_text(encoding="utf-8")  # left as it is
    text = "\n".join(again.lines())
    assert str(waiting.resolve()) in text and "kg never owned it" in text
