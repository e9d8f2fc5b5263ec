"""The analyst query library: headers, typed parameters, and every query's exact rows on a fixed small shop.

The shop is ``tests/fixtures/analyst_shop.cypher``; every expected row below was worked out by hand from it
(the comments say how). Runs on the embedded FalkorDB, and on Neo4j too when ``KG_NEO4J_URI`` is set.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.analyst import library as analyst
from kg.analyst.library import QueryParam, bind_params, coerce, get_query, list_queries, parse_header, run_library_query
from kg.analyst.statements import referenced_params
from kg.foundation.errors import ConfigError
from kg.foundation.privacy import Pseudonymiser
from kg.foundation.settings import Settings
from kg.store import GraphStore, open_store
from kg.store.falkordb_server import EmbeddedServer
from tests.helpers import neo4j_settings
from tests.shop_fixtures import ALICE, BOB, DAVE, HEADPHONES, alice_profile, load_shop


@pytest.fixture(scope="module", params=("falkordb", "neo4j"))
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GraphStore, Settings]]:
    """The fixture shop on each configured backend, loaded once per module (the queries only read)."""
    if request.param == "neo4j":
        settings = neo4j_settings(request.getfixturevalue("neo4j_server"), tmp_path_factory.mktemp("neo4j"))
        store = open_store(settings)
        store.clear()
    else:
        server: EmbeddedServer = request.getfixturevalue("falkordb_server")
        home = tmp_path_factory.mktemp("analyst")
        (home / "db").mkdir()
        for name in ("password", "redis.pid", "server.json"):
            (home / "db" / name).write_bytes((server.dir / name).read_bytes())
        settings = Settings(home=home, graph=f"t_{uuid.uuid4().hex[:12]}", pseudonym_key="test-key")
        store = open_store(settings, start=False)
    store.clear()
    load_shop(store)
    yield store, settings
    store.clear()
    store.close()


def _run(shop: tuple[GraphStore, Settings], name: str, **params: Any) -> list[dict[str, Any]]:
    store, settings = shop
    return run_library_query(store, name, params, settings=settings).rows


#: segment 1's top interest: alice, bob, dave hold Headphones .9/.6/.5 -> 3 users, mean .667
AUDIO_FANS_HEADPHONES = {
    "segment": 1,
    "label": "Audio fans",
    "kind": "Category",
    "interest": HEADPHONES,
    "users": 3,
    "avg_score": 0.667,
}
#: the latest ingest run, of February's events file
FEBRUARY_EVENTS_RUN = {
    "id": "events:csv:ccc",
    "kind": "events",
    "file": "events-2024-02.csv",
    "status": "finished",
    "rows_ok": 95,
    "rows_bad": 0,
    "started_at": 1709287200000,
    "finished_at": 1709287203000,
    "seconds": 3.0,
}

# name, params, expected rows (in order)
CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    # alice's row: see alice_profile; her interests by score
    (
        "user_profile",
        {"user": "alice", "top": "3"},
        [alice_profile(f"Category:{HEADPHONES}", "Brand:Sonic", "Aspect:sound")],
    ),
    ("user_profile", {"user": "nobody"}, []),
    # the texts of kg profiles --text: alice's profile text and her one reason sentence (bob has none)
    (
        "user_texts",
        {"user": "alice"},
        [
            {
                "user": ALICE,
                "profile_text": "Mostly into Headphones and Sonic.",
                "source": "template",
                "model": "template",
                "run": "run-1",
                "reasons": ["Popular with the Audio fans segment."],
            }
        ],
    ),
    (
        "user_texts",
        {"user": "bob"},
        [{"user": BOB, "profile_text": None, "source": None, "model": None, "run": None, "reasons": []}],
    ),
    (
        "segment_texts",
        {},
        [
            {
                "segment": 1,
                "label": "Audio fans",
                "name": "Headphone lovers",
                "description": "Shoppers of Sonic headphones.",
                "source": "model",
                "model": "tiny",
                "size": 3,
            },
            {
                "segment": 2,
                "label": "Home cooks",
                "name": None,
                "description": None,
                "source": None,
                "model": None,
                "size": 2,
            },
        ],
    ),
    (
        "user_interests",
        {"user": "alice", "limit": "2"},
        [
            {"kind": "Category", "interest": HEADPHONES, "score": 0.9, "updated_at": 1711965600000},
            {"kind": "Brand", "interest": "Sonic", "score": 0.8, "updated_at": 1711965600000},
        ],
    ),
    (
        "user_aspects",
        {"user": "bob"},
        [
            {"aspect": "battery", "mentions": 2, "score": -0.05},
            {"aspect": "fit", "mentions": 1, "score": 0.5},
            {"aspect": "sound", "mentions": 1, "score": 0.6},
        ],
    ),
    (
        "user_recommendations",
        {"user": "alice"},
        [
            {
                "rank": 1,
                "product": "P3",
                "title": "Sonic Speaker",
                "score": 0.62,
                "reason": "popular with shoppers like you (Audio fans)",
                "path": [f"User:{ALICE}", "Segment:1", "Product:P3"],
                "path_types": ["-[:IN_SEGMENT]->", "<-[:POPULAR_IN]-"],
            },
            {
                "rank": 2,
                "product": "P5",
                "title": "Chef Kettle",
                "score": 0.41,
                "reason": "often bought with Sonic Buds",
                "path": [f"User:{ALICE}", "Product:P1", "Product:P5"],
                "path_types": ["-[:PURCHASED]->", "-[:BOUGHT_TOGETHER]->"],
            },
        ],
    ),
    # sizes 3 and 2 of 5 profiled users
    (
        "segment_sizes",
        {},
        [
            {
                "segment": 1,
                "label": "Audio fans",
                "size": 3,
                "share": 0.6,
                "top_interests": [f"Category:{HEADPHONES}", "Brand:Sonic"],
            },
            {
                "segment": 2,
                "label": "Home cooks",
                "size": 2,
                "share": 0.4,
                "top_interests": ["Category:Home > Kitchen", "Brand:Chef"],
            },
        ],
    ),
    # segment 1 = alice, bob, dave: Headphones .9/.6/.5 -> 3 users, mean .667; Sonic .8/.7/.4 -> 3, .633;
    # then single holders by score: sound .5 (alice), Cameras .4 (bob); Lumen .3 (Brand) before Audio .3 (Category)
    (
        "segment_top_interests",
        {"segment": "1", "limit": "6"},
        [
            AUDIO_FANS_HEADPHONES,
            {"segment": 1, "label": "Audio fans", "kind": "Brand", "interest": "Sonic", "users": 3, "avg_score": 0.633},
            {"segment": 1, "label": "Audio fans", "kind": "Aspect", "interest": "sound", "users": 1, "avg_score": 0.5},
            {
                "segment": 1,
                "label": "Audio fans",
                "kind": "Category",
                "interest": "Electronics > Cameras",
                "users": 1,
                "avg_score": 0.4,
            },
            {"segment": 1, "label": "Audio fans", "kind": "Brand", "interest": "Lumen", "users": 1, "avg_score": 0.3},
            {
                "segment": 1,
                "label": "Audio fans",
                "kind": "Category",
                "interest": "Electronics > Audio",
                "users": 1,
                "avg_score": 0.3,
            },
        ],
    ),
    # every segment (0), 1 interest each; segment 2 = carol, erin: Kitchen .9/.6 -> 2 users, .75
    (
        "segment_top_interests",
        {"limit": "1"},
        [
            AUDIO_FANS_HEADPHONES,
            {
                "segment": 2,
                "label": "Home cooks",
                "kind": "Category",
                "interest": "Home > Kitchen",
                "users": 2,
                "avg_score": 0.75,
            },
        ],
    ),
    (
        "segment_popular_products",
        {"segment": "2", "limit": "2"},
        [
            {"rank": 1, "product": "P5", "title": "Chef Kettle", "share": 0.5},
            {"rank": 2, "product": "P6", "title": "Chef Toaster", "share": 0.5},
        ],
    ),
    # cosines with P1 = (1, 0): P2 (.8, .6) .8, P3 (.6, .8) .6, P7 (.28, .96) .28, P4 (0, 1) 0
    (
        "similar_products",
        {"product": "P1", "k": "3"},
        [
            {"product": "P2", "title": "Sonic Over-Ear", "similarity": 0.8},
            {"product": "P3", "title": "Sonic Speaker", "similarity": 0.6},
            {"product": "P7", "title": "Lumen Tripod", "similarity": 0.28},
        ],
    ),
    ("similar_products", {"product": "P8"}, []),  # a stub without an embedding
    # P1: viewed by alice; bought by alice, bob (2), carol; events 3+1+1 (alice) + 2 (bob) + 1 (carol) = 8;
    # reviews R1 (5) and R2 (3)
    (
        "product_overview",
        {"product": "P1"},
        [
            {
                "product": "P1",
                "title": "Sonic Buds",
                "price": 49.0,
                "brand": "Sonic",
                "category": HEADPHONES,
                "viewers": 1,
                "buyers": 3,
                "events": 8,
                "reviews": 2,
                "avg_rating": 4.0,
            }
        ],
    ),
    (
        "product_overview",
        {"product": "P8"},
        [
            {
                "product": "P8",
                "title": None,
                "price": None,
                "brand": None,
                "category": None,
                "viewers": 0,
                "buyers": 0,
                "events": 0,
                "reviews": 0,
                "avg_rating": None,
            }
        ],
    ),
    (
        "product_aspects",
        {"product": "P1"},
        [
            {"aspect": "battery", "mentions": 2, "positive": 0, "negative": 2, "score": -0.5},
            {"aspect": "fit", "mentions": 1, "positive": 1, "negative": 0, "score": 0.5},
            {"aspect": "sound", "mentions": 1, "positive": 1, "negative": 0, "score": 0.9},
        ],
    ),
    # Sonic = P1, P2, P3. battery: P1 (2 mentions, -.5) + P3 (1, .5) -> (-1 + .5) / 3 = -.167;
    # sound: P1 .9, P2 .7, P3 .6 -> 2.2 / 3 = .733; fit: P1 only
    (
        "brand_aspects",
        {"brand": "Sonic"},
        [
            {"aspect": "battery", "products": 2, "mentions": 3, "positive": 1, "negative": 2, "score": -0.167},
            {"aspect": "sound", "products": 3, "mentions": 3, "positive": 3, "negative": 0, "score": 0.733},
            {"aspect": "fit", "products": 1, "mentions": 1, "positive": 1, "negative": 0, "score": 0.5},
        ],
    ),
    (
        "aspect_products",
        {"aspect": "sound", "limit": "2"},
        [
            {"product": "P1", "title": "Sonic Buds", "mentions": 1, "positive": 1, "negative": 0, "score": 0.9},
            {"product": "P2", "title": "Sonic Over-Ear", "mentions": 1, "positive": 1, "negative": 0, "score": 0.7},
        ],
    ),
    # Electronics and below: only battery has negative mentions (P1: 2 of 2; P3: 0 of 1)
    (
        "category_complaints",
        {"category": "Electronics"},
        [{"aspect": "battery", "negative": 2, "mentions": 3, "negative_share": 0.667, "products": 2}],
    ),
    (
        "category_complaints",
        {"category": "Home > Kitchen"},
        [{"aspect": "lid", "negative": 1, "mentions": 1, "negative_share": 1.0, "products": 1}],
    ),
    # P1-P5 bought by bob and carol; the others by one person each
    (
        "bought_together",
        {"product": "P1"},
        [
            {"product": "P5", "title": "Chef Kettle", "count": 2},
            {"product": "P2", "title": "Sonic Over-Ear", "count": 1},
            {"product": "P3", "title": "Sonic Speaker", "count": 1},
            {"product": "P6", "title": "Chef Toaster", "count": 1},
        ],
    ),
    # directed, source towards target: P4 -> P2 (BOUGHT_TOGETHER), P2 -> P1 (BOUGHT_TOGETHER; ALSO_BOUGHT runs
    # P1 -> P2, the wrong way), P1 -> P6
    (
        "copurchase_paths",
        {"source": "P4", "target": "P6"},
        [
            {
                "hops": 3,
                "products": ["P4", "P2", "P1", "P6"],
                "via": ["BOUGHT_TOGETHER", "BOUGHT_TOGETHER", "BOUGHT_TOGETHER"],
            }
        ],
    ),
    # P2 -> P5 in two hops via P1, or via P3 (ALSO_BOUGHT then BOUGHT_TOGETHER); then three hops, by product ids
    (
        "copurchase_paths",
        {"source": "P2", "target": "P5", "limit": "3"},
        [
            {"hops": 2, "products": ["P2", "P1", "P5"], "via": ["BOUGHT_TOGETHER", "BOUGHT_TOGETHER"]},
            {"hops": 2, "products": ["P2", "P3", "P5"], "via": ["ALSO_BOUGHT", "BOUGHT_TOGETHER"]},
            {
                "hops": 3,
                "products": ["P2", "P1", "P3", "P5"],
                "via": ["BOUGHT_TOGETHER", "BOUGHT_TOGETHER", "BOUGHT_TOGETHER"],
            },
        ],
    ),
    ("copurchase_paths", {"source": "P8", "target": "P3"}, []),  # ALSO_BOUGHT runs P3 -> P8 only
    # March 2024: Kitchen/Home: carol (first 03-02) and erin (03-25) both new; bob's last was 01-15.
    # Headphones/Audio/Electronics: alice (since January, active to 03-20) and carol (new, 03-04);
    # Cameras: carol (new, 03-05), bob's last view 01-20 is before the window, dave's in 2023
    (
        "trending_categories",
        {"since": "2024-03-01", "until": "2024-03-31"},
        [
            {"category": "Home", "users": 2, "new_users": 2, "new_share": 1.0},
            {"category": "Home > Kitchen", "users": 2, "new_users": 2, "new_share": 1.0},
            {"category": "Electronics", "users": 2, "new_users": 1, "new_share": 0.5},
            {"category": "Electronics > Audio", "users": 2, "new_users": 1, "new_share": 0.5},
            {"category": HEADPHONES, "users": 2, "new_users": 1, "new_share": 0.5},
            {"category": "Electronics > Cameras", "users": 1, "new_users": 1, "new_share": 1.0},
        ],
    ),
    # January 2024 only: Electronics: alice (new 01-05), bob (new 01-01; dave last active 2023 -> out)
    (
        "trending_categories",
        {"since": "2024-01-01", "until": "2024-01-31", "limit": "1"},
        [{"category": "Electronics", "users": 2, "new_users": 2, "new_share": 1.0}],
    ),
    # events per catalogued product: P7 0; P3 alice cart + bob purchase = 2; P6 carol + erin = 2;
    # P5 bob 1 + carol purchase and rating = 3; (P4 6, P1 8, P2 9 are above 3; P8 is not catalogued)
    (
        "cold_start_products",
        {"max_events": "3"},
        [
            {"product": "P7", "title": "Lumen Tripod", "events": 0, "users": 0},
            {"product": "P3", "title": "Sonic Speaker", "events": 2, "users": 2},
            {"product": "P6", "title": "Chef Toaster", "events": 2, "users": 2},
            {"product": "P5", "title": "Chef Kettle", "events": 3, "users": 2},
        ],
    ),
    # silent since 2024-02-15: bob (8 events, last 02-11), dave (7, last 2023-12-20); erin has 1 event only
    (
        "dropped_users",
        {"since": "2024-02-15"},
        [
            {"user": BOB, "events": 8, "products": 4, "first_date": "2024-01-01", "last_date": "2024-02-11"},
            {"user": DAVE, "events": 7, "products": 2, "first_date": "2023-11-01", "last_date": "2023-12-20"},
        ],
    ),
    (
        "dropped_users",
        {"since": "2024-02-15", "min_events": "8"},
        [{"user": BOB, "events": 8, "products": 4, "first_date": "2024-01-01", "last_date": "2024-02-11"}],
    ),
    # Sonic buyers: alice (P1 + P2 = 2), bob (P1 x2 + P3 = 3), carol (1), dave (1) -> 2 of 4 repeat;
    # Chef: bob (1), carol (P5 + P6 = 2) -> 1 of 2; Lumen: dave (1) -> 0 of 1
    (
        "brand_loyalty",
        {},
        [
            {"brand": "Sonic", "buyers": 4, "repeat_buyers": 2, "repeat_share": 0.5},
            {"brand": "Chef", "buyers": 2, "repeat_buyers": 1, "repeat_share": 0.5},
            {"brand": "Lumen", "buyers": 1, "repeat_buyers": 0, "repeat_share": 0.0},
        ],
    ),
    (
        "brand_loyalty",
        {"min_buyers": "2"},
        [
            {"brand": "Sonic", "buyers": 4, "repeat_buyers": 2, "repeat_share": 0.5},
            {"brand": "Chef", "buyers": 2, "repeat_buyers": 1, "repeat_share": 0.5},
        ],
    ),
    # 2024-02: R2 (3, -.1) and R5 (4, .4); 2024-03: R1 (5, .8) and R3 (2, -.7)
    (
        "review_volume",
        {},
        [
            {"month": "2023-12", "reviews": 1, "avg_rating": 4.0, "avg_sentiment": 0.6},
            {"month": "2024-02", "reviews": 2, "avg_rating": 3.5, "avg_sentiment": 0.15},
            {"month": "2024-03", "reviews": 2, "avg_rating": 3.5, "avg_sentiment": 0.05},
        ],
    ),
    (
        "review_volume",
        {"from_month": "2024-01", "to_month": "2024-02"},
        [{"month": "2024-02", "reviews": 2, "avg_rating": 3.5, "avg_sentiment": 0.15}],
    ),
    (
        "ingest_runs",
        {"kind": "events"},
        [
            FEBRUARY_EVENTS_RUN,
            {
                "id": "events:csv:aaa",
                "kind": "events",
                "file": "events-2024-01.csv",
                "status": "finished",
                "rows_ok": 120,
                "rows_bad": 2,
                "started_at": 1704880800000,
                "finished_at": 1704880805000,
                "seconds": 5.0,
            },
        ],
    ),
    (
        "ingest_runs",
        {"limit": "1"},
        [FEBRUARY_EVENTS_RUN],
    ),
]


@pytest.mark.parametrize("name, params, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_query_rows_on_the_fixture_shop(
    shop: tuple[GraphStore, Settings], name: str, params: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    rows = _run(shop, name, **params)
    assert rows == expected
    for row, want in zip(rows, expected, strict=True):  # same types on every backend: counts are integers
        assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in want.items()}


def test_every_query_has_a_case_with_rows() -> None:
    covered = {name for name, _, rows in CASES if rows}
    assert covered == {q.name for q in list_queries()}


def test_a_pseudonym_can_stand_for_the_raw_id(shop: tuple[GraphStore, Settings]) -> None:
    assert _run(shop, "user_aspects", pseudonym=BOB) == _run(shop, "user_aspects", user="bob")
    assert Pseudonymiser(b"test-key").user_id("bob") == BOB


def test_results_carry_columns_and_time(shop: tuple[GraphStore, Settings]) -> None:
    store, settings = shop
    result = run_library_query(store, "segment_sizes", {}, settings=settings)
    assert result.columns == ["segment", "label", "size", "share", "top_interests"]
    assert 0 < result.seconds < 5
    empty = run_library_query(store, "bought_together", {"product": "nope"}, settings=settings)
    assert empty.rows == [] and empty.columns == ["product", "title", "count"]


# --------------------------------------------------------------------------- the library itself


def test_the_library_covers_the_issue() -> None:
    names = {q.name for q in list_queries()}
    assert len(names) >= 15
    assert {
        "user_profile",
        "segment_top_interests",
        "segment_sizes",
        "similar_products",
        "user_recommendations",
        "product_aspects",
        "brand_aspects",
        "category_complaints",
        "bought_together",
        "copurchase_paths",
        "trending_categories",
        "cold_start_products",
        "dropped_users",
        "brand_loyalty",
        "review_volume",
        "ingest_runs",
    } <= names


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_headers_match_the_text(name: str) -> None:
    query = get_query(name)
    for dialect in analyst.DIALECTS:
        text = query.text_for(dialect)
        assert text.startswith(f"// name: {name}\n")
        assert referenced_params(text) == {p.name for p in query.params}, dialect
        returned = re.search(r"RETURN (?:DISTINCT )?(.*?)(?:\nORDER BY|\nLIMIT|$)", text, re.S).group(1)
        aliases = [part.split(" AS ")[-1].strip() for part in re.split(r",\s*(?![^\[\(\{]*[\]\)\}])", returned)]
        assert aliases == query.columns, dialect
        header = parse_header(text)
        assert (header["columns"], header["params"], header["subject"]) == (
            query.columns,
            query.params,
            query.subject,
        ), dialect
    for param in query.params:  # every example and default has the declared type
        coerce(param, param.example)
        if not param.required:
            assert param.default is not None
    if query.params and query.subject != "shop":
        assert query.params[0].name in (query.subject, "source")


def test_only_similar_products_needs_a_dialect_variant() -> None:
    assert [q.name for q in list_queries() if not q.portable] == ["similar_products"]
    similar = get_query("similar_products")
    assert "db.idx.vector.queryNodes" in similar.text_for("falkordb")
    assert "db.index.vector.queryNodes" in similar.text_for("neo4j")
    assert get_query("bought_together").text_for("falkordb") == get_query("bought_together").text_for("neo4j")
    with pytest.raises(ConfigError, match="unknown dialect"):
        similar.text_for("sqlite")


def test_unknown_names_list_the_library() -> None:
    with pytest.raises(ConfigError) as caught:
        get_query("user_profiel")
    message = str(caught.value)
    assert "unknown query 'user_profiel'" in message and "user_profile" in message and "\n" not in message


@pytest.mark.parametrize(
    "params, reason",
    [
        ({}, "missing parameter product"),
        ({"product": "P1", "limit": "ten"}, "parameter limit: 'ten' is not an integer"),
        ({"product": "P1", "limit": "-1"}, "parameter limit: -1 is below the minimum 0"),
        ({"product": "P1", "limt": "5"}, "unknown parameter(s) limt"),
    ],
)
def test_bad_parameters_are_one_line_errors_listing_what_is_expected(params: dict[str, str], reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        bind_params(get_query("product_aspects"), params)
    message = str(caught.value)
    assert reason in message and "\n" not in message
    assert "expects: product (text, e.g. B004LLIKVU), limit (int, default 10, e.g. 5)" in message


def test_raw_user_ids_are_pseudonymised_and_pseudonyms_checked() -> None:
    query = get_query("user_interests")
    assert bind_params(query, {"user": "alice"}, lambda raw: f"<{raw}>") == {"user": "<alice>", "limit": 10}
    assert bind_params(query, {"pseudonym": ALICE.upper()}) == {"user": ALICE, "limit": 10}
    with pytest.raises(ConfigError, match="not a pseudonym"):
        bind_params(query, {"pseudonym": "alice"})
    with pytest.raises(ConfigError, match="not both"):
        bind_params(query, {"pseudonym": ALICE, "user": "alice"}, str)
    with pytest.raises(ConfigError, match="unknown parameter"):  # only queries about a person take one
        bind_params(get_query("segment_sizes"), {"pseudonym": ALICE})


@pytest.mark.parametrize(
    "kind, raw, value",
    [
        ("text", " a b ", " a b "),
        ("int", " 42", 42),
        ("float", "0.25", 0.25),
        ("bool", "Yes", True),
        ("bool", "0", False),
        ("list", "a, b,,c", ["a", "b", "c"]),
        ("list", '["x", 2]', ["x", 2]),
        ("list", "", []),
    ],
)
def test_parameter_types(kind: str, raw: str, value: Any) -> None:
    assert coerce(QueryParam("x", kind, "e"), raw) == value


@pytest.mark.parametrize(
    "kind, raw",
    [
        ("int", "2.5"),
        ("int", "99999999999999999999"),
        ("float", "nan"),
        ("float", "inf"),
        ("bool", "maybe"),
        ("list", "[1, [2]]"),
        ("list", "[1,"),
        ("int", True),
    ],
)
def test_ill_typed_values_are_refused(kind: str, raw: Any) -> None:
    with pytest.raises(ValueError):
        coerce(QueryParam("x", kind, "e"), raw)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("// param: limit number example=1", "bad param line"),
        ("// param: limit int example=1 max=3", "unknown option"),
        ("// param: limit int default=x example=1", "is not an integer"),
        ("// param: limit int", "no example"),
        ("// param: user int raw-user-id example=1", "must be text"),
    ],
)
def test_malformed_headers_are_reported(line: str, problem: str) -> None:
    text = f"// name: q\n// description: d\n// subject: shop\n{line}\n// returns: a\nRETURN 1 AS a\n"
    with pytest.raises(ConfigError, match=problem):
        parse_header(text)
    with pytest.raises(ConfigError, match="subject 'planet'"):
        parse_header("// name: q\n// description: d\n// subject: planet\n// returns: a\nRETURN 1 AS a\n")
    with pytest.raises(ConfigError, match="lacks returns"):
        parse_header("// name: q\n// description: d\n// subject: shop\nRETURN 1 AS a\n")


# --------------------------------------------------------------------------- Neo4j Browser exports


def test_browser_guide_has_a_slide_per_query_with_runnable_blocks() -> None:
    guide = analyst.browser_guide(base_url="http://127.0.0.1:7475/browser/")
    slides = guide.split("\n---\n")
    queries = list_queries()
    assert len(slides) == len(queries) + 2  # the intro and the graph slide first
    assert slides[1].lstrip().startswith("## product_neighbourhood\n") and "RETURN path" in slides[1]
    assert "http://127.0.0.1:7475/browser/kg-queries.zip" in slides[0]
    profile = next(s for s in slides if s.lstrip().startswith("## user_profile\n"))
    assert "```cypher\n:param user => 'PSEUDONYM';\n:param top => 3;\n```" in profile  # integers stay integers
    assert "```cypher\nMATCH (u:User {id: $user})" in profile
    similar = next(s for s in slides if s.lstrip().startswith("## similar_products\n"))
    assert "db.index.vector.queryNodes" in similar and "vecf32" not in guide and "db.idx." not in guide
    assert "// name:" not in guide  # headers become prose, the blocks hold only Cypher
    assert guide.count("```cypher") == 2 + len(queries) + sum(1 for q in queries if q.params)
    assert analyst.browser_guide().count("kg-queries.zip") == 0


def test_export_zip_holds_one_favourite_per_query(tmp_path: Path) -> None:
    path = analyst.export_zip(tmp_path / "q.zip")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [f"{q.name}.cypher" for q in list_queries()]
        text = archive.read("similar_products.cypher").decode("utf-8")
    assert text.splitlines()[0] == f"// similar_products: {get_query('similar_products').description}"
    assert "db.index.vector.queryNodes('product_embedding'" in text
    assert analyst.export_zip(tmp_path / "again.zip").read_bytes() == path.read_bytes()  # reproducible
