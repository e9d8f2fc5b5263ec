"""Issue 20's presentation defects, each pinned: model notes said once in the summary (never as warnings
after it), labels that agree (segments numbered from 1 everywhere, sizes never inside labels or reasons,
reasons counted by the path stored, a review listed once in ``recent``), interest strengths a person can
read on a shop spanning years, and products without titles described by category and brand."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pytest

from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.synthetic import generate_shop
from kg.profiles import compute_profiles, user_profile, user_recommendations
from kg.profiles.data import Interactions, ShopData
from kg.profiles.recommenders.ease import EASERecommender
from kg.profiles.workflow import ProfileReport
from kg.store import GraphStore

DAY_MS = 86_400_000
START_MS = 1_600_000_000_000


def _small_ease(monkeypatch: pytest.MonkeyPatch, max_items: int = 5) -> None:
    original = EASERecommender.__init__

    def small(self, lam: float = 200.0, max_items_: int = max_items, **_kw) -> None:
        original(self, lam=lam, max_items=max_items_)

    monkeypatch.setattr(EASERecommender, "__init__", small)


def test_ease_limit_is_a_note_said_once_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    from kg.profiles.recommenders.base import collect_notes

    rows = [(f"u{u}", f"p{(u + j) % 12}", "purchase", u * 10 + j, None) for u in range(20) for j in range(3)]
    train = Interactions.from_rows(rows)
    with caplog.at_level(logging.INFO), collect_notes() as notes:
        for _ in range(3):  # validation fit, full fit, ...: one note
            EASERecommender(max_items=5).fit(ShopData(train), train)
    assert list(notes.values()) == ["ease: modelling the 5 most bought of 12 items"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_segment_map_numbers_segments_from_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import kg.profiles.charts as charts

    figures = []
    monkeypatch.setattr(charts, "_save", lambda fig, path: figures.append(fig) or path)
    features = np.vstack([np.zeros((6, 3)), np.ones((6, 3))]) + np.random.default_rng(0).normal(0, 0.01, (12, 3))
    charts.segment_map_png(
        features, np.array([0] * 6 + [1] * 6), ["a · b", "no clear interest"], tmp_path / "segments.png", max_iter=250
    )
    texts = [t.get_text() for t in figures[0].axes[0].get_legend().get_texts()]
    assert texts == ["1: a · b (6 users)", "2: no clear interest (6 users)"]


def test_recent_merges_a_review_said_twice_and_untitled_products_are_described() -> None:
    from kg.profiles.workflow import _merge_recent

    # one untitled product bought and rated at once: the same entry under two relationship types
    untitled = {
        "id": "h1",
        "title": None,
        "category": "furniture_decor",
        "brand": None,
        "last_at": 5,
        "last_date": "2018-01-01",
    }
    rows = [
        {"type": "PURCHASED", **untitled},
        {"type": "RATED", **untitled},
        {"type": "VIEWED", "id": "h2", "title": "Lamp", "last_at": 4, "last_date": "2017-12-31"},
    ]
    recent = _merge_recent(rows, 5)
    assert [(r["id"], r["types"]) for r in recent] == [("h1", ["PURCHASED", "RATED"]), ("h2", ["VIEWED"])]
    recs = [
        {
            "rank": 1,
            "id": "h3",
            "title": None,
            "category": "bed_bath",
            "brand": "Acme",
            "score": 0.5,
            "reason": "bought x; 2 shoppers bought both",
        }
    ]
    report = ProfileReport(
        id="u",
        found=True,
        recent=recent,
        recommendations=recs,
        interests=[{"label": "Category", "key": "furniture_decor", "score": 1e-9, "share": 1.0}],
    )
    lines = report.lines()
    assert "recent: purchased and rated h1 (category furniture_decor) (2018-01-01)" in lines
    assert "1. h3 (category bed_bath, brand Acme) (score 0.500) — bought x; 2 shoppers bought both" in lines
    assert any(line.endswith("category furniture_decor (100%)") for line in lines)


def test_reasons_counted_by_the_path_stored_and_segment_reasons_hold_no_size() -> None:
    from kg.profiles.reasons import Explainer, together_counts
    from kg.profiles.segments import Segmentation, label_segments
    from kg.profiles.steps import recommend_with_reasons

    rows = [("a", "p1", "purchase", 1, None), ("a", "p2", "purchase", 2, None), ("b", "p1", "purchase", 3, None)]
    inter = Interactions.from_rows(rows)

    class GnnOnly:  # the blend's strongest part for every candidate is the LightGCN signal
        n_items, active, scores_cold_items = inter.n_items, np.ones(inter.n_items, bool), True

        def parts(self, users: np.ndarray) -> dict[str, np.ndarray]:
            return {"gnn": np.ones((users.size, inter.n_items))}

    explainer = Explainer(
        shop=ShopData(inter), positive=inter.matrix(), together=together_counts(inter.matrix()), interests={}
    )
    recs, counts, _together = recommend_with_reasons(GnnOnly(), explainer, inter, 5)
    assert counts == {"copurchase": 1}  # b gets p2, explained by a co-purchase path, not "gnn"
    assert recs[0]["path"] == ["User:b", "Product:p1", "Product:p2"]

    seg = Segmentation(np.array([0, 0]), 1, users=["a", "b"])
    from kg.profiles.interests import compute_interests

    table = compute_interests(
        ShopData(Interactions.from_rows([("a", "p1", "view", 1, None), ("b", "p1", "view", 1, None)]))
    )
    infos = label_segments(seg, table, user_ids=["a", "b"])
    assert all("users" not in i.label for i in infos)
    explainer = Explainer(
        shop=ShopData(inter),
        positive=inter.matrix(),
        together=together_counts(inter.matrix()),
        interests={},
        segment_of={"b": 1},
        popular={1: {"p2"}},
        segment_label={1: "no clear interest"},
    )
    reason = explainer.segment(inter.users.index("b"), inter.items.index("p2"))
    assert reason is not None and reason.text == "popular with shoppers like you (segment 1)"


@pytest.fixture
def long_shop(tmp_path: Path, settings: Settings, store: GraphStore) -> GraphStore:
    """A shop spanning two years, no product titles, and one user who bought (and reviewed, at the same
    moment) a single product two years before the newest event."""
    files = generate_shop(tmp_path / "shop", users=50, products=30, events=1_500, seed=4, start_ms=START_MS, days=730)
    with open(files.products, newline="", encoding="utf-8") as handle:
        products = list(csv.DictReader(handle))
    for row in products:
        row["title"] = ""
    with open(files.products, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(products[0]))
        writer.writeheader()
        writer.writerows(products)
    with open(files.events, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["OLD1", "P0000001", "purchase", START_MS - DAY_MS, ""])
        writer.writerow(["OLD1", "P0000001", "rating", START_MS - DAY_MS, "5"])
    ingest_file(store, settings, files.products, kind="products", fmt="csv")
    ingest_file(store, settings, files.events, kind="events", fmt="csv")
    return store


def test_profiles_read_well_on_a_long_untitled_shop(
    long_shop: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _small_ease(monkeypatch)
    with caplog.at_level(logging.INFO):
        report = compute_profiles(long_shop, settings, train=False, k=5, top=10, seed=1)
    lines = report.lines()
    # the EASE limit: said once, in the summary, never as a warning
    assert sum("ease: modelling the 5 most bought" in line for line in lines) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "ease" in r.getMessage()]
    assert any("30-day half-life" in line for line in lines)
    # sizes beside labels, never inside them
    assert all("users)" not in s["label"] for s in report.segments)
    # reasons counted by the path stored
    stored = long_shop.read("MATCH (:User)-[r:RECOMMENDED]->() RETURN r.path_types AS t")
    together = sum(any("BOUGHT_TOGETHER" in step for step in row["t"]) for row in stored)
    assert report.reasons.get("copurchase", 0) == together
    assert not set(report.reasons) - {"copurchase", "viewed", "category", "brand", "aspect", "segment"}
    assert sum(report.reasons.values()) == len(stored)
    assert not [
        row
        for row in long_shop.read("MATCH (:User)-[r:RECOMMENDED]->() RETURN r.reason AS reason")
        if "users)" in row["reason"]
    ]

    profile = user_profile(long_shop, settings, "OLD1")
    text = "\n".join(profile.lines())
    assert "(0.00)" not in text
    assert profile.interests and abs(sum(r["share"] for r in profile.interests) - 1) < 0.01
    recent = [line for line in profile.lines() if line.startswith("recent:")]
    # a review is both PURCHASED and RATED at one moment: said once; no title: the category says what it is
    assert len(recent) == 1 and recent[0].startswith("recent: purchased and rated P0000001 (category "), recent

    for raw in ("U0000001", "U0000002", "U0000003"):
        recs = user_recommendations(long_shop, settings, raw, k=5)
        for line in recs.lines():
            if line[0].isdigit():
                assert "(category " in line, line
