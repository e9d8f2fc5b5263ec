"""Reviews of the shared Amazon Gift Cards 5-core data (skipped when ../shared/data is absent).

What is asserted: all 2,972 reviews become Review nodes (ids hash user, item, time and text; the
file has no exact duplicates, so nothing merges — its 7 repeated (user, item) pairs differ in time
or text); aspects and mentions exist in plausible numbers; the stored (cross-fitted) sentiment and
a classifier judged on one seeded held-out split both beat plain VADER measured in the same test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kg.foundation.settings import Settings
from kg.operations.cypher import REVIEWS_TOP_ASPECTS
from kg.store import GraphStore
from tests.helpers import run_cli

#: every rated review's stored sentiment (for evaluation)
SENTIMENT_OF_RATED_REVIEWS = """MATCH (r:Review)
WHERE r.rating IS NOT NULL AND r.sentiment IS NOT NULL
RETURN r.id AS id, r.rating AS rating, r.sentiment AS sentiment, r.sentiment_method AS method"""
#: products with the most reviews
MOST_REVIEWED = """MATCH (r:Review)-[:ABOUT]->(p:Product)
RETURN p.id AS id, p.title AS title, count(r) AS reviews
ORDER BY reviews DESC, id
LIMIT $limit"""

pytestmark = pytest.mark.slow


def test_gift_cards_reviews(amazon_dir: Path, settings: Settings, store: GraphStore) -> None:
    from sklearn.metrics import roc_auc_score

    from kg.foundation.privacy import Pseudonymiser
    from kg.ingest.reviews.loader import ReviewLoader
    from kg.ingest.reviews.readers import REVIEW_READERS
    from kg.ingest.reviews.sentiment import LexiconScorer, evaluate_holdout
    from kg.ingest.reviews.text import clean_text
    from kg.ingest.runner import run_ingest

    meta = run_cli(settings, "ingest", "products", str(amazon_dir / "meta_Gift_Cards.json"), "--format", "amazon-meta")
    assert meta.exit_code == 0, meta.output
    loader = ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings))
    summary = run_ingest(
        store,
        settings,
        amazon_dir / "Gift_Cards_5.json",
        kind="reviews",
        fmt="amazon",
        reader=REVIEW_READERS["amazon"],
        loader=loader,
    )
    assert summary.rows_ok == 2972 and summary.rows_bad == 0
    assert summary.warnings == {"empty review text (review kept, nothing extracted)": 6}

    stats = store.stats()
    assert stats["nodes"]["Review"] == 2972
    assert 50 <= stats["nodes"]["Aspect"] <= 1500
    aspect_mentions = store.execute("MATCH (:Review)-[m:MENTIONS]->(:Aspect) RETURN count(m) AS n")[0]["n"]
    brand_mentions = store.execute("MATCH (:Review)-[m:MENTIONS]->(:Brand) RETURN count(m) AS n")[0]["n"]
    assert 1000 <= aspect_mentions <= 6000
    assert brand_mentions >= 100
    assert stats["relationships"]["HAS_ASPECT"] > 100 and stats["relationships"]["CARES_ABOUT"] > 100

    # sentiment: stored scores are cross-fitted (every review scored by a model that never saw it)
    assert loader.report.method == "encoder+ngram-crossfit"
    rows = store.execute(SENTIMENT_OF_RATED_REVIEWS)
    y = np.array([r["rating"] >= 4 for r in rows], dtype=int)
    stored_auc = roc_auc_score(y, [r["sentiment"] for r in rows])
    with open(amazon_dir / "Gift_Cards_5.json", encoding="utf-8") as handle:
        raw = [json.loads(line) for line in handle]
    clean = [clean_text(r.get("reviewText"))[0] for r in raw]
    ratings = [r["overall"] for r in raw]
    lex = LexiconScorer("en")
    kept = [i for i, t in enumerate(clean) if t]
    vader_auc = roc_auc_score([ratings[i] >= 4 for i in kept], [lex.score(clean[i]) for i in kept])
    holdout = evaluate_holdout(clean, ratings, test_size=0.3, seed=0)
    enc, vad = holdout["encoder (MiniLM + LR)"], holdout["lexicon (VADER)"]
    print(
        f"\nsentiment AUC: VADER all {vader_auc:.3f}; stored cross-fitted {stored_auc:.3f}; "
        f"held-out split VADER {vad['auc']:.3f} vs encoder {enc['auc']:.3f}"
    )
    assert 0.65 <= vader_auc <= 0.75
    assert stored_auc > vader_auc + 0.1
    assert enc["auc"] > vad["auc"] + 0.1

    top = store.execute(MOST_REVIEWED, {"limit": 1})[0]
    aspects = store.query(REVIEWS_TOP_ASPECTS, id=top["id"], limit=8)
    print(f"most reviewed product {top['id']} {top['title']!r} ({top['reviews']} reviews), top aspects:")
    for a in aspects:
        print(f"  {a['aspect']}: {a['mentions']} mentions (+{a['positive']}/-{a['negative']}, score {a['score']})")
    assert aspects and aspects[0]["mentions"] >= 5
