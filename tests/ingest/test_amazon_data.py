"""The shared Amazon Gift Cards data, end to end through the CLI (skipped when the data is absent)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from kg.foundation.settings import Settings
from kg.store import GraphStore
from tests.helpers import run_cli


@pytest.mark.slow
def test_amazon_counts_are_exact(store: GraphStore, settings: Settings, amazon_dir) -> None:  # type: ignore[no-untyped-def]
    reviews = [json.loads(line) for line in open(amazon_dir / "Gift_Cards_5.json", encoding="utf-8")]
    meta = [json.loads(line) for line in open(amazon_dir / "meta_Gift_Cards.json", encoding="utf-8")]
    pairs = Counter((r["reviewerID"], r["asin"]) for r in reviews)

    result = run_cli(
        settings, "ingest", "events", str(amazon_dir / "Gift_Cards_5.json"), "--format", "amazon", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows_ok"] == 2 * 2972
    result = run_cli(
        settings, "ingest", "products", str(amazon_dir / "meta_Gift_Cards.json"), "--format", "amazon-meta", "--json"
    )
    assert result.exit_code == 0, result.output

    stats = json.loads(run_cli(settings, "stats", "--json").stdout)
    assert stats["nodes"]["User"] == 458 == len({r["reviewerID"] for r in reviews})
    reviewed = store.execute("MATCH (:User)-[:RATED]->(p:Product) RETURN count(DISTINCT p) AS n")[0]["n"]
    assert reviewed == 148
    catalogued = store.execute("MATCH (p:Product) WHERE p.catalogued RETURN count(p) AS n")[0]["n"]
    assert catalogued == 1547 == len({m["asin"] for m in meta})
    assert stats["relationships"]["RATED"] == stats["relationships"]["PURCHASED"] == len(pairs) == 2965
    assert stats["relationships"]["ALSO_BOUGHT"] == 21681
    assert stats["relationships"]["ALSO_VIEWED"] == 34098
    assert stats["relationships"]["HAS_BRAND"] == sum(1 for m in meta if m.get("brand", "").strip()) == 527
    assert stats["nodes"]["Product"] == len(
        {m["asin"] for m in meta}
        | {r["asin"] for r in reviews}
        | {a for m in meta for a in m.get("also_buy", []) + m.get("also_view", [])}
    )
    # every review counted once per distinct (user, item, time)
    distinct = len({(r["reviewerID"], r["asin"], r["unixReviewTime"]) for r in reviews})
    total = store.execute("MATCH ()-[r:RATED]->() RETURN sum(r.count) AS n")[0]["n"]
    assert total == distinct

    # an analyst can look a reviewer up by raw id
    raw = reviews[0]["reviewerID"]
    result = run_cli(settings, "user", raw, "--json")
    assert result.exit_code == 0
    profile = json.loads(result.stdout)
    assert profile["found"] and {b["type"] for b in profile["behaviour"]} == {"PURCHASED", "RATED"}
    assert raw not in json.dumps(store.execute("MATCH (u:User) RETURN u.id AS id"))

    # re-ingesting changes nothing
    before = run_cli(settings, "stats", "--json").stdout
    result = run_cli(
        settings, "ingest", "events", str(amazon_dir / "Gift_Cards_5.json"), "--format", "amazon", "--force", "--json"
    )
    assert result.exit_code == 0
    assert run_cli(settings, "stats", "--json").stdout == before
