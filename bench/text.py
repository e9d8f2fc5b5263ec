"""Words from the graph: how faithful and how fast each text route is (``kg profiles --text``).

For each shop (the demo's synthetic shop with its reviews; the shared Gift Cards data when ../shared/data has
it), on a fresh embedded server: ingest, ``kg profiles`` (no KGE training), then write the texts with each
route: ``template`` for every profiled user; ``local`` (the packaged SmolLM2-135M through llama.cpp, the
``text`` extra) for a seeded sample of ``--users``; ``endpoint`` when ``KG_TEXT_ENDPOINT_URL`` is set. The table
gives, per shop and route: the subjects written (users, segments, reasons) and how many the model wrote, the
share of the model's claims (products, brands, categories, aspects, segments, numbers, dates) that the
subject's facts support as written and as stored (after the checker dropped failing sentences), seconds per
user, and the time ``--text`` adds for 1,000 users (measured for the template on every user; projected from the
sample for a model). A second table counts the recommendations' reason kinds (the path each reason follows).

Usage:
    python bench/text.py                              # demo shop + Gift Cards, template and local, 5 users
    python bench/text.py --routes template --json
    python bench/text.py --shops demo --users 20
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import Report, add_json_flag, bench_settings  # noqa: E402
from bench.recommend import GIFT_CARDS  # noqa: E402

#: the reason kinds, by the relationship types of the reason's path (``RECOMMENDED.path_types``)
REASON_KINDS = (
    ("bought with something you bought", ("-[:PURCHASED]->", "-[:BOUGHT_TOGETHER]->")),
    ("bought with something you rated", ("-[:RATED]->", "-[:BOUGHT_TOGETHER]->")),
    ("your own interest (brand, category, aspect)", ("-[:INTERESTED_IN]->",)),
    ("segment popularity", ("-[:IN_SEGMENT]->",)),
    *((f"your own {rel.lower()} event", (f"-[:{rel}]->",)) for rel in ("VIEWED", "CARTED", "FAVORITED")),
)
REASON_PATHS = "MATCH (:User)-[r:RECOMMENDED]->(:Product) RETURN r.path_types AS types"
STORED_TEXTS = "UNWIND $ids AS id MATCH (u:User {id: id}) RETURN u.id AS id, u.profile_text AS text"
MODEL_TEXTS = "MATCH (u:User) WHERE u.profile_text_source = 'model' RETURN u.profile_text AS text ORDER BY u.id"
#: users whose stored profile text the bench checks again (the template's texts are not checked when written)
CHECKED_USERS = 200


def _ingest_demo(store: Any, settings: Any, work: Path, users: int, events: int, reviews: int) -> None:
    """The demo's synthetic shop (catalogue, events, reviews), as ``kg demo`` ingests it."""
    from kg.ingest import ingest_file
    from kg.ingest.reviews.synthetic import generate_reviews
    from kg.ingest.synthetic import generate_shop

    files = generate_shop(work, users=users, products=max(users * 2 // 3, 10), events=events, seed=7)
    review_file = generate_reviews(work / "reviews.csv", n=reviews, shop=files, users=users, seed=7)
    for kind, path in (("products", files.products), ("events", files.events), ("reviews", review_file)):
        ingest_file(store, settings, path, kind=kind, fmt="csv")


def _ingest_gift_cards(store: Any, settings: Any) -> None:
    """The shared Gift Cards catalogue, reviews as events, and reviews (aspects, sentiment)."""
    from kg.ingest import ingest_file

    ingest_file(store, settings, GIFT_CARDS / "meta_Gift_Cards.json", kind="products", fmt="amazon-meta")
    for kind in ("events", "reviews"):
        ingest_file(store, settings, GIFT_CARDS / "Gift_Cards_5.json", kind=kind, fmt="amazon")


def _reason_kinds(store: Any) -> Counter[str]:
    """Recommendations per reason kind (the first kind whose relationship types the path starts with)."""
    kinds: Counter[str] = Counter()
    for row in store.execute(REASON_PATHS):
        types = tuple(row["types"] or ())
        kind = next((name for name, start in REASON_KINDS if types[: len(start)] == start), "other")
        kinds[kind] += 1
    return kinds


def _stored_share(store: Any, users: list[str]) -> float | None:
    """The share of the claims of the stored profile texts of ``users`` that their facts support (the checker
    run again over what is in the graph, whoever wrote it)."""
    from kg.profiles.text import grounding
    from kg.profiles.text.checker import Catalogue, check_text

    catalogue = Catalogue.from_names(grounding.catalogue_names(store))
    facts = {g.user: grounding.user_facts(g) for g in grounding.read_users(store, users)}
    supported = claims = 0
    for row in store.execute(STORED_TEXTS, {"ids": users}):
        if not row["text"] or row["id"] not in facts:
            continue
        for verdict in check_text(row["text"], facts[row["id"]], catalogue):
            claims += len(verdict.claims)
            supported += sum(claim.supported for claim in verdict.claims)
    return supported / claims if claims else None


def texts_users(store: Any) -> list[str]:
    """The users whose profile text a model wrote or tried (``profile_text_model`` not the template)."""
    rows = store.execute("MATCH (u:User) WHERE u.profile_text_model <> 'template' RETURN u.id AS id")
    return [row["id"] for row in rows]


def _model_for(route: str, settings: Any) -> tuple[Any, str | None]:
    """The model of ``route`` (None for the template) or why it is not available here."""
    from kg.profiles.text.generate import open_model

    if route == "endpoint" and not os.environ.get("KG_TEXT_ENDPOINT_URL"):
        return None, "no KG_TEXT_ENDPOINT_URL set"
    try:
        model, missing = open_model(settings.model_copy(update={"text_route": route}))
    except Exception as e:  # noqa: BLE001 - a route that cannot start here is reported, not fatal
        return None, f"{type(e).__name__}: {e}"
    return model, missing


def bench_shop(name: str, settings: Any, store: Any, routes: list[str], users: int, report: Report) -> list[list[Any]]:
    """Profiles, then texts by each route; one table row per route."""
    from kg.profiles import compute_profiles
    from kg.profiles.text.generate import write_texts
    from kg.profiles.text.grounding import profiled_users

    started = time.perf_counter()
    compute_profiles(store, settings, train=False, seed=0)
    report.log(f"{name}: profiles in {time.perf_counter() - started:.1f} s")
    kinds = _reason_kinds(store)
    total = sum(kinds.values()) or 1
    report.table(
        f"{name}: reason kinds of the recommendations",
        ["kind", "recommendations", "share"],
        [[kind, n, round(n / total, 3)] for kind, n in kinds.most_common()],
    )
    rows: list[list[Any]] = []
    for route in routes:
        model = None
        if route != "template":
            model, why = _model_for(route, settings)
            if model is None:
                report.note(f"{name}: route {route} skipped ({why})")
                continue
        sample = None if route == "template" else users
        texts = write_texts(store, settings, model=model, sample=sample, seed=0)
        checked = _stored_share(store, profiled_users(store)[:CHECKED_USERS] if sample is None else texts_users(store))
        written = sum(texts.model_written.values())
        subjects = sum(texts.subjects.values())
        per_user = texts.seconds / max(texts.users, 1)
        rows.append(
            [
                route,
                texts.model,
                texts.users,
                subjects,
                written if model is not None else 0,
                None if texts.raw_supported_share is None else round(texts.raw_supported_share, 3),
                None if checked is None else round(checked, 3),
                round(per_user, 3),
                round(per_user * 1000, 1),
            ]
        )
        report.log(f"{name}: {route} route, {texts.users} users in {texts.seconds:.1f} s")
        if model is not None:
            for row in store.execute(MODEL_TEXTS)[:2]:
                report.note(f"{name}, {route} route, stored as the model wrote it: {row['text']}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", default="demo,gift", help="comma-separated: demo, gift")
    parser.add_argument("--routes", default="template,local", help="comma-separated: template, local, endpoint")
    parser.add_argument("--users", type=int, default=5, help="users sampled for a model route (the template: all)")
    parser.add_argument("--demo-users", type=int, default=300)
    parser.add_argument("--demo-events", type=int, default=20_000)
    parser.add_argument("--demo-reviews", type=int, default=2_000)
    add_json_flag(parser)
    args = parser.parse_args()
    report = Report.from_args("text", args, "shops", "routes", "users", "demo_users", "demo_events", "demo_reviews")
    from kg.store import open_store

    columns = [
        "route",
        "model",
        "users",
        "subjects",
        "by the model",
        "supported as written",
        "supported as stored",
        "s per user",
        "s per 1,000 users",
    ]
    for shop in [s.strip() for s in args.shops.split(",") if s.strip()]:
        if shop == "gift" and not (GIFT_CARDS / "Gift_Cards_5.json").is_file():
            report.note(f"Gift Cards data not found at {GIFT_CARDS}; skipped")
            continue
        name = "demo shop" if shop == "demo" else "Gift Cards"
        with bench_settings() as settings, open_store(settings) as store:
            started = time.perf_counter()
            if shop == "demo":
                shop_dir = settings.home / "shop"
                _ingest_demo(store, settings, shop_dir, args.demo_users, args.demo_events, args.demo_reviews)
            else:
                _ingest_gift_cards(store, settings)
            report.log(f"{name}: ingested in {time.perf_counter() - started:.1f} s")
            routes = [r.strip() for r in args.routes.split(",") if r.strip()]
            rows = bench_shop(name, settings, store, routes, args.users, report)
        report.table(f"{name}: texts by route", columns, rows)
    report.emit()


if __name__ == "__main__":
    main()
