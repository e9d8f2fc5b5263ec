"""``kg demo``: the whole chain on a synthetic shop, in a home and graph of its own.

The demo never touches the user's data: on the embedded backend it lives in ``KG_HOME/demo`` (its
own server, ledger, runs and keys, marked by a ``.kg-demo`` file); on an external database it refuses
to run when the graph holds data it did not create.

This module is top-layer orchestration (like the CLI): it may use ``ingest``, ``embeddings`` and ``profiles``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kg.foundation.errors import ConfigError
from kg.foundation.settings import Settings
from kg.operations.cypher import EMBED_TOP_PRODUCTS, REVIEWS_TOP_ASPECTS, TOP_PRODUCTS
from kg.store import GraphStore, open_store

__all__ = ["run_demo", "demo_settings", "DemoReport", "DEMO_MARKER"]

logger = logging.getLogger(__name__)

DEMO_MARKER = ".kg-demo"
DEMO_GRAPH = "kg_demo"


@dataclass
class DemoReport:
    """What the demo built and found; renders as text lines and JSON."""

    home: str
    graph: str
    backend: str = ""
    shop_dir: str = ""
    ingest: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    top_products: list[dict[str, Any]] = field(default_factory=list)
    top_aspects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    embeddings: dict[str, Any] | None = None
    profiles: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"demo graph {self.graph!r} in {self.home} ({self.backend})"]
        nodes = ", ".join(f"{n:,} {label}" for label, n in self.stats.get("nodes", {}).items())
        rels = ", ".join(f"{n:,} {rel}" for rel, n in self.stats.get("relationships", {}).items())
        out += [f"nodes: {nodes}", f"relationships: {rels}"]
        for row in self.top_products:
            out.append(f"top product {row['id']} {row.get('title') or ''}: {int(row['buyers']):,} buyers")
        for pid, aspects in self.top_aspects.items():
            out.append(
                f"aspects of {pid}: "
                + ", ".join(f"{a['aspect']} ({int(a['mentions'])}x, score {a['score']:+.2f})" for a in aspects)
            )
        return out


def demo_settings(settings: Settings) -> Settings:
    """Settings of the demo's own home (embedded) or graph name (external FalkorDB)."""
    if settings.neo4j_uri or settings.falkordb_url:
        return settings.model_copy(update={"graph": DEMO_GRAPH})
    home = settings.home / "demo"
    return settings.model_copy(update={"home": home, "falkordb_port": 0})


def _claim_home(settings: Settings) -> None:
    """Create the demo home, or refuse when that folder holds something that is not the demo's."""
    home = settings.home
    if home.exists() and any(home.iterdir()) and not (home / DEMO_MARKER).exists():
        raise ConfigError(
            f"{home} exists and was not made by kg demo; the demo never touches other data",
            hint="move that folder away, or run the demo with another --home",
        )
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (home / DEMO_MARKER).write_text("made by kg demo: safe to delete\n", encoding="utf-8")


def _check_external_graph(store: GraphStore) -> None:
    """On an external database, only a graph that is empty or the demo's own may be cleared."""
    rows = store.execute("MATCH (n) WHERE NOT n:DemoMarker RETURN count(n) AS n")
    marked = store.execute("MATCH (m:DemoMarker) RETURN count(m) AS n")
    if rows[0]["n"] and not marked[0]["n"]:
        raise ConfigError(
            "the demo graph holds data the demo did not create; it is left alone",
            hint="point KG_NEO4J_DATABASE (or KG_GRAPH) at an empty database, or use the embedded default",
        )


def run_demo(
    settings: Settings,
    *,
    users: int,
    products: int,
    events: int,
    reviews: int = 2000,
    epochs: int = 20,
    seed: int = 7,
    fresh: bool = True,
    progress: bool = False,
    profiles: bool = True,
    say: Callable[[str], Any] = print,
) -> DemoReport:
    """Generate a synthetic shop, ingest catalogue, events and reviews, train embeddings, show results.

    ``settings`` are the user's; the demo derives its own with :func:`demo_settings`.
    ``reviews=0`` skips the review step, ``epochs=0`` the embedding step and ``profiles=False`` the
    profile step (interests, segments, recommendations, one user's profile).
    """
    from kg.ingest import ingest_file
    from kg.ingest.reviews.synthetic import generate_reviews
    from kg.ingest.synthetic import generate_shop

    own = demo_settings(settings)
    embedded = not (own.neo4j_uri or own.falkordb_url)
    if embedded:
        _claim_home(own)
    shop_dir = own.home / "demo-shop" if embedded else own.home / "demo-shop-external"
    files = generate_shop(shop_dir, users=users, products=products, events=events, seed=seed)
    say(
        f"generated a synthetic shop in {shop_dir}: {users} users, {products} products, {events} events, "
        f"{reviews} reviews"
    )
    steps: list[tuple[str, Path, str]] = [("products", files.products, "csv"), ("events", files.events, "csv")]
    if reviews:
        steps.append(
            (
                "reviews",
                generate_reviews(shop_dir / "reviews.csv", n=reviews, shop=files, users=users, seed=seed),
                "csv",
            )
        )
    report = DemoReport(home=str(own.home), graph=own.graph, shop_dir=str(shop_dir))
    with open_store(own) as store:
        if not embedded:
            _check_external_graph(store)
        if fresh:
            _clear_demo(store, own)
        store.execute("MERGE (:DemoMarker {id: 'kg demo'})")
        report.backend = store.version()
        for kind, path, fmt in steps:
            summary = ingest_file(store, own, path, kind=kind, fmt=fmt, force=True)
            say(f"ingested {kind}: {summary.rows_ok:,} rows in {summary.seconds:.1f} s")
            report.ingest.append(summary.as_dict())
        report.stats = store.stats()
        report.top_products = store.query(TOP_PRODUCTS, limit=5)
        if reviews and report.top_products:
            top = report.top_products[0]["id"]
            report.top_aspects = {top: store.query(REVIEWS_TOP_ASPECTS, id=top, limit=5)}
        for line in report.lines():
            say(line)
        if epochs:
            report.embeddings = _embeddings(store, own, epochs=epochs, seed=seed, progress=progress, say=say)
        if profiles:
            report.profiles, report.profile = _profiles(store, own, seed=seed, say=say)
    return report


def _profiles(
    store: GraphStore, settings: Settings, *, seed: int, say: Callable[[str], Any], user: str = "U0000001"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo's profile step: interests, segments and recommendations for everyone; one user shown."""
    from kg.profiles import compute_profiles, user_profile

    computed = compute_profiles(store, settings, seed=seed, train=False)
    for line in computed.lines():
        say(line)
    shown = user_profile(store, settings, user, k=5)
    say(f"profile of demo user {user}:")
    for line in shown.lines():
        say("  " + line)
    return computed.as_dict(), shown.as_dict()


def _embeddings(
    store: GraphStore,
    settings: Settings,
    *,
    epochs: int,
    seed: int,
    progress: bool,
    say: Callable[[str], Any],
    dim: int = 32,
    k: int = 5,
) -> dict[str, Any]:
    """The demo's embedding step: a small TransE, written back, similar products for the top three."""
    from kg.embeddings import TrainConfig, similar_items, train_graph

    config = TrainConfig(model="TransE", dim=dim, epochs=epochs, seed=seed, early_stopping=False)
    trained = train_graph(store, settings, config, progress=say if progress else None)
    m = trained.metrics
    say(
        f"trained TransE dim {dim}, {epochs} epochs (run {trained.run_id}): MRR {m['mrr']:.3f}, "
        f"Hits@10 {m['hits_at_10']:.3f}"
    )
    result = trained.as_dict()
    result["similar"] = {}
    for row in store.query(EMBED_TOP_PRODUCTS, limit=3):
        neighbours = similar_items(store, row["id"], k=k, settings=settings)
        result["similar"][row["id"]] = neighbours
        say(
            f"  similar to {row.get('title') or row['id']}: "
            + ", ".join(f"{n.get('title') or n['id']} ({n['score']:.2f})" for n in neighbours)
        )
    return result


def _clear_demo(store: GraphStore, settings: Settings) -> None:
    """Start the demo afresh: its graph and its own event ledger (never the user's)."""
    store.clear()
    ledger = getattr(settings, "ledger_path", None)
    if ledger is not None and Path(ledger).exists():
        from kg.ledger import EventLedger

        with EventLedger.open(settings) as opened:
            opened.clear()
