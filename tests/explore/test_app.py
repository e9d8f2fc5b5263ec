"""The explorer's HTTP API through FastAPI's test client, on the small shop."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from kg.analyst.explore.app import STATIC_DIR, create_app
from kg.foundation.settings import Settings
from kg.store import GraphStore
from tests.shop_fixtures import ALICE

LOCAL = "http://127.0.0.1:7475"


@pytest.fixture
def client(settings: Settings, shop: GraphStore, library: ModuleType) -> TestClient:
    return TestClient(create_app(settings, store=shop, library=library), base_url=LOCAL)


def test_page_assets_health_and_security_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "cytoscape.min.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/cytoscape.min.js").status_code == 200
    assert client.get("/health").json()["status"] == "ok"


def test_without_a_token_only_loopback_hosts_are_served(
    settings: Settings, shop: GraphStore, library: ModuleType
) -> None:
    app = create_app(settings, store=shop, library=library)
    assert TestClient(app, base_url="http://localhost:7475").get("/health").status_code == 200
    assert TestClient(app, base_url="http://[::1]:7475").get("/health").status_code == 200
    rebound = TestClient(app, base_url="http://attacker.example:7475")
    assert rebound.get("/api/search", params={"q": "mug"}).status_code == 403


def test_with_a_token_every_api_call_needs_it(settings: Settings, shop: GraphStore, library: ModuleType) -> None:
    client = TestClient(
        create_app(settings, token="s3cret-token-0123456789", store=shop, library=library),
        base_url="http://10.1.2.3:7475",
    )
    assert client.get("/api/search", params={"q": "mug"}).status_code == 401
    assert client.get("/api/queries").status_code == 401
    assert client.post("/api/queries/product_overview", json={"params": {}}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/api/search", params={"q": "mug"}, headers=wrong).status_code == 401
    good = client.get("/api/search", params={"q": "mug"}, headers={"Authorization": "Bearer s3cret-token-0123456789"})
    assert good.status_code == 200
    assert [n["id"] for n in good.json()["nodes"]] == ["Product:P2", "Product:P1", "Segment:1"]  # "mug lovers"
    assert client.get("/api/queries", headers={"X-KG-Token": "s3cret-token-0123456789"}).status_code == 200
    # the page, its assets, health and the Browser guide hold no graph data: open
    assert client.get("/").status_code == 200
    assert client.get("/guide/kg.md").status_code == 200


def test_search_and_neighbourhood(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "alice", "label": "User"}).json()["nodes"]
    assert [n["id"] for n in found] == [f"User:{ALICE}"]  # raw id pseudonymised with the graph's key
    hood = client.get("/api/neighbourhood", params={"node": "Brand:Acme"}).json()
    assert hood["center"] == "Brand:Acme"
    assert {n["id"] for n in hood["nodes"]} == {"Brand:Acme", "Product:P1", "Product:P2"}
    missing = client.get("/api/neighbourhood", params={"node": "Product:nope"})
    assert missing.status_code == 400 and "no Product with key 'nope'" in missing.json()["error"]
    assert client.get("/api/neighbourhood", params={"node": "bogus"}).status_code == 400


def test_guide_is_markdown_with_cors_for_neo4j_browser(client: TestClient) -> None:
    guide = client.get("/guide/kg.md")
    assert guide.status_code == 200
    assert guide.headers["content-type"].startswith("text/markdown")
    assert guide.headers["access-control-allow-origin"] == "*"
    assert "---" in guide.text and "```cypher" in guide.text


def test_query_list(client: TestClient, library: ModuleType) -> None:
    listed = client.get("/api/queries").json()["queries"]
    assert [q["name"] for q in listed] == [q.name for q in library.list_queries()]
    interests = next(q for q in listed if q["name"] == "user_interests")
    assert interests["subject"] == "user" and interests["columns"] == ["kind", "interest", "score", "updated_at"]
    assert [(p["name"], p["type"], p["required"], p["raw_user_id"]) for p in interests["params"]] == [
        ("user", "text", True, True),
        ("limit", "int", False, False),
    ]


def test_run_a_user_query_by_raw_id_drawn_around_the_user(client: TestClient) -> None:
    result = client.post("/api/queries/user_interests", json={"params": {"user": "alice", "limit": ""}}).json()
    assert result["columns"] == ["kind", "interest", "score", "updated_at"]
    assert result["rows"] == [
        {"kind": "Category", "interest": "Home > Kitchen", "score": 0.8, "updated_at": 1700000000000}
    ]
    assert {n["id"] for n in result["graph"]["nodes"]} == {f"User:{ALICE}", "Category:Home > Kitchen"}
    assert [(e["source"], e["type"], e["target"]) for e in result["graph"]["edges"]] == [
        (f"User:{ALICE}", "user_interests", "Category:Home > Kitchen")
    ]
    by_pseudonym = client.post("/api/queries/user_interests", json={"params": {"pseudonym": ALICE}}).json()
    assert by_pseudonym["rows"] == result["rows"]


def test_run_a_product_query(client: TestClient) -> None:
    result = client.post("/api/queries/product_overview", json={"params": {"product": "P1"}}).json()
    assert result["row_count"] == 1
    row = result["rows"][0]
    assert (row["product"], row["title"], row["brand"], row["viewers"], row["buyers"]) == (
        "P1",
        "Red Mug",
        "Acme",
        2,
        1,
    )
    edges = {(e["source"], e["target"]) for e in result["graph"]["edges"]}
    assert ("Product:P1", "Brand:Acme") in edges


def test_query_errors_are_one_line(client: TestClient) -> None:
    unknown = client.post("/api/queries/no_such_query", json={"params": {}})
    assert unknown.status_code == 400 and "no_such_query" in unknown.json()["error"]
    missing = client.post("/api/queries/product_aspects", json={"params": {"product": "  "}})
    assert missing.status_code == 400 and "missing parameter product" in missing.json()["error"]
    typed = client.post("/api/queries/product_aspects", json={"params": {"product": "P1", "limit": "many"}})
    assert typed.status_code == 400 and "limit" in typed.json()["error"]
    assert "\n" not in typed.json()["error"]


def test_csv_download(client: TestClient) -> None:
    response = client.post("/api/queries/product_aspects/csv", json={"params": {"product": "P1"}})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="product_aspects.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [["aspect", "mentions", "positive", "negative", "score"], ["handle", "3", "", "", "0.5"]]


def test_favourites_zip_next_to_the_guide(client: TestClient, library: ModuleType) -> None:
    import zipfile

    response = client.get("/guide/kg-queries.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == len(library.list_queries())
    assert client.get("/guide/other.zip").status_code == 404
    assert "http://127.0.0.1:7475/guide/kg-queries.zip" in client.get("/guide/kg.md").text


def test_the_page_never_puts_data_into_html() -> None:
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "outerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script


def test_the_vendored_renderer_is_the_recorded_one() -> None:
    import hashlib

    record = (STATIC_DIR / "VENDORED.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((STATIC_DIR / "cytoscape.min.js").read_bytes()).hexdigest()
    assert digest in record and "3.35.0" in record and "MIT" in record
    assert (STATIC_DIR / "LICENSE.cytoscape").read_text(encoding="utf-8").startswith("Copyright (c) 2016")
    assert (
        "* Copyright (c) 2016-2026, The Cytoscape Consortium."
        in (STATIC_DIR / "cytoscape.min.js").read_text(encoding="utf-8")[:200]
    )


def test_nothing_is_written(settings: Settings, shop: GraphStore, library: ModuleType, tmp_path: Path) -> None:
    before = shop.stats()
    client = TestClient(create_app(settings, store=shop, library=library), base_url=LOCAL)
    client.get("/api/search", params={"q": "mug"})
    client.get("/api/neighbourhood", params={"node": "Product:P1"})
    for query in library.list_queries():
        example = {p.name: str(p.example) for p in query.params if p.example is not None}
        client.post(f"/api/queries/{query.name}", json={"params": example})
    assert shop.stats() == before
