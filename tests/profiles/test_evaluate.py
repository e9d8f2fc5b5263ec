"""evaluate_recommenders: JSON schema, files, skipped users, ConfigErrors, Gift Cards reference figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.foundation.errors import ConfigError
from kg.profiles.data import Interactions, ShopData
from kg.profiles.evaluate import evaluate_recommenders

FAST = ["popularity", "itemknn", "ease", "kg"]


@pytest.fixture(scope="module")
def synthetic_shop(tmp_path_factory: pytest.TempPathFactory) -> ShopData:
    from bench.recommend import load_synthetic
    from kg.ingest.synthetic import generate_shop

    folder = tmp_path_factory.mktemp("shop")
    generate_shop(folder, users=80, products=40, events=4000, seed=5)
    return load_synthetic(folder)


def test_rows_files_and_counts(synthetic_shop: ShopData, tmp_path: Path) -> None:
    report = evaluate_recommenders(synthetic_shop, models=FAST, ks=(20, 5), out_dir=tmp_path)
    assert report.ks == (5, 20) and [r["model"] for r in report.rows] == FAST
    assert report.users_evaluated + report.users_skipped == synthetic_shop.interactions.n_users
    assert report.users_evaluated > 0
    for row in report.rows:
        assert "error" not in row
        for k in (5, 20):
            for key in ("recall", "ndcg", "hit", "coverage"):
                assert 0.0 <= row[f"{key}@{k}"] <= 1.0
            assert row[f"recall@{k}_cold"] is None or 0.0 <= row[f"recall@{k}_cold"] <= 1.0
        assert row["recall@20"] >= row["recall@5"]
        assert row["users"] == report.users_evaluated and row["seconds"] >= 0
    assert [p.name for p in report.files] == ["eval.json", "eval.tsv", "eval.png"]
    data = json.loads((tmp_path / "eval.json").read_text())
    assert data["users_evaluated"] == report.users_evaluated and data["split"] == "live"  # the default
    assert data["users_slices"] == report.users_slices and sum(report.users_slices.values()) > 0
    assert [r["model"] for r in data["rows"]] == FAST
    tsv = (tmp_path / "eval.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[:3] == ["model", "recall@5", "ndcg@5"] and len(tsv) == 1 + len(FAST)
    assert (tmp_path / "eval.png").read_bytes()[:4] == b"\x89PNG"
    text = "\n".join(report.lines())
    assert f"{report.users_evaluated} users evaluated" in text and "skipped" in text


def test_live_split_reports_every_slice(synthetic_shop: ShopData) -> None:
    report = evaluate_recommenders(synthetic_shop, models=["popularity", "itemknn"], ks=(10,), split="live")
    slices = report.users_slices
    assert set(slices) == {"bought1", "bought2-4", "bought5+", "views_only"}
    assert slices["views_only"] > 0  # first purchases after browsing: evaluated here, never in leave-last-out
    assert sum(slices.values()) == report.users_evaluated
    assert sum(report.skip_reasons.values()) == report.users_skipped
    for row in report.rows:
        for name, n in slices.items():
            assert row[f"users_{name}"] == n
            value = row[f"recall@10_{name}"]
            assert (value is None) == (n == 0) and (value is None or 0.0 <= value <= 1.0)
    text = "\n".join(report.lines())
    assert f"{slices['views_only']} only browsed" in text and "recall@10_views_only" in text


def test_temporal_split_runs(synthetic_shop: ShopData) -> None:
    report = evaluate_recommenders(synthetic_shop, models=["popularity"], ks=(10,), split="temporal")
    assert report.split == "temporal" and report.users_evaluated > 0
    assert set(report.skip_reasons) <= {
        "no purchased/rated item before the cut",
        "no new purchased/rated item after the cut",
    }
    assert sum(report.skip_reasons.values()) == report.users_skipped


def test_shop_where_most_customers_buy_once_still_runs() -> None:
    rows = [(f"u{n}", f"p{n % 5}", "purchase", n, None) for n in range(30)]  # 30 one-purchase users
    rows += [("loyal", "p1", "purchase", 100, None), ("loyal", "p2", "purchase", 101, None)]
    shop = ShopData(Interactions.from_rows(rows))
    report = evaluate_recommenders(shop, models=["popularity", "kg"], ks=(3,), split="leave-last-out")
    assert (report.users_evaluated, report.users_skipped) == (1, 30)
    assert report.skip_reasons == {"fewer than 2 distinct purchased/rated items": 30}
    assert report.users_cold == 1 and report.rows[1]["users_cold"] == 1
    report = evaluate_recommenders(shop, models=["popularity", "kg"], ks=(3,), split="live")
    assert (report.users_evaluated, report.users_skipped) == (1, 30)
    assert report.skip_reasons == {"no event before their last new purchase/rating": 30}
    assert report.users_slices["bought1"] == 1 and report.rows[1]["recall@3_bought1"] is not None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"models": ["popularity", "svd"]}, "unknown recommender"),
        ({"ks": (0, 20)}, "--k must be positive"),
        ({"ks": ()}, "--k must be positive"),
        ({"split": "random"}, "unknown split"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict, match: str) -> None:
    shop = ShopData(Interactions.from_rows([("a", "p1", "purchase", 1, None)]))
    with pytest.raises(ConfigError, match=match):
        evaluate_recommenders(shop, **kwargs)


def test_gift_cards_baselines_match_the_reference_figures(amazon_dir: Path) -> None:
    """Issue 10's figures (plain numpy, all 458 users, 148 items): popularity 0.345 / 0.122, item-item
    cosine 0.555 / 0.227, EASE(200) 0.531 / 0.217 (Recall@20 / NDCG@20)."""
    from bench.recommend import load_gift_cards

    report = evaluate_recommenders(
        load_gift_cards(amazon_dir), models=["popularity", "itemknn", "ease", "kg"], ks=(20,), split="leave-last-out"
    )
    assert (report.users_evaluated, report.users_skipped, report.n_items) == (458, 0, 148)
    got = {r["model"]: (r["recall@20"], r["ndcg@20"]) for r in report.rows}
    for model, (recall, ndcg) in {
        "popularity": (0.345, 0.122),
        "itemknn": (0.555, 0.227),
        "ease": (0.531, 0.217),
    }.items():
        assert got[model][0] == pytest.approx(recall, abs=0.005), model
        assert got[model][1] == pytest.approx(ndcg, abs=0.003), model
    best_recall = max(v[0] for k, v in got.items() if k != "kg")
    best_ndcg = max(v[1] for k, v in got.items() if k != "kg")
    assert got["kg"][0] >= 0.98 * best_recall and got["kg"][1] >= 0.98 * best_ndcg
