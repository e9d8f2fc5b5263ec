"""Segments (k chosen by silhouette, labels from dominant interests) and the PNG charts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from kg.foundation.errors import ConfigError
from kg.profiles.charts import bar_chart_png, segment_map_png
from kg.profiles.data import AspectSignals, Catalogue, Interactions, ShopData
from kg.profiles.interests import compute_interests
from kg.profiles.segments import Segmentation, build_features, label_segments, segment_users

PNG = b"\x89PNG\r\n\x1a\n"
T0 = 1_700_000_000_000


def blobs(sizes=(40, 30, 20), dim: int = 5, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Well-separated Gaussian blobs: centres 10 apart, spread 0.3."""
    rng = np.random.default_rng(seed)
    centres = np.eye(len(sizes), dim) * 10.0
    x = np.vstack([c + 0.3 * rng.standard_normal((n, dim)) for c, n in zip(centres, sizes, strict=True)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return x, truth


def test_three_blobs_give_three_segments_by_silhouette() -> None:
    x, truth = blobs()
    seg = segment_users(x, k_range=(2, 6))
    assert seg.n_segments == 3
    assert sorted(seg.silhouettes) == [2, 3, 4, 5, 6]
    assert max(seg.silhouettes, key=seg.silhouettes.get) == 3
    # standardising scales the two pure-noise columns up to the blobs' spread, hence not ~1
    assert seg.silhouettes[3] > 0.4
    assert segment_users(x, k_range=(2, 6), standardise=False).silhouettes[3] > 0.9
    assert "silhouette" in seg.criterion
    # each blob is exactly one segment; ids by size, largest first (40, 30, 20)
    assert [np.unique(seg.assignment[truth == b]).tolist() for b in range(3)] == [[0], [1], [2]]
    assert seg.sizes == [40, 30, 20]


def test_sparse_input_and_sample_are_accepted() -> None:
    x, truth = blobs()
    seg = segment_users(sparse.csr_matrix(x), k_range=(2, 4), sample=50, seed=3)
    assert seg.n_segments == 3
    assert [np.unique(seg.assignment[truth == b]).size for b in range(3)] == [1, 1, 1]


def test_n_segments_is_honoured() -> None:
    x, _ = blobs()
    seg = segment_users(x, n_segments=5)
    assert seg.n_segments == 5 and np.unique(seg.assignment).size == 5 and seg.silhouettes == {}
    assert segment_users(x, n_segments=1).assignment.tolist() == [0] * 90
    for bad in (0, 91):
        with pytest.raises(ConfigError):
            segment_users(x, n_segments=bad)


def test_tiny_and_degenerate_inputs_do_not_crash() -> None:
    # 3 users < 2 * k_min (4): one segment
    seg = segment_users(np.array([[0.0, 1.0], [1.0, 0.0], [5.0, 5.0]]))
    assert seg.n_segments == 1 and seg.assignment.tolist() == [0, 0, 0]
    assert segment_users(np.zeros((0, 3))).n_segments == 0
    # identical rows: no k has a defined silhouette -> one segment
    same = segment_users(np.ones((12, 3)))
    assert same.n_segments == 1 and same.assignment.tolist() == [0] * 12
    with pytest.raises(ConfigError):
        segment_users(np.ones((12, 3)), k_range=(1, 3))
    with pytest.raises(ConfigError):
        segment_users(np.ones((3, 2)), users=["a"])


def phone_and_book_shop() -> ShopData:
    """u1..u4 buy an Acme phone and praise the battery (u4 also the price); u5..u8 buy a Penguin novel."""
    rows = [(f"u{i}", "phone", "purchase", T0, None) for i in range(1, 5)]
    rows += [(f"u{i}", "novel", "purchase", T0, None) for i in range(5, 9)]
    mentions = [(f"u{i}", "battery", 1.0, T0) for i in range(1, 5)] + [("u4", "price", 1.0, T0)]
    catalogue = Catalogue(
        brand_of={"phone": "Acme", "novel": "Penguin"}, category_of={"phone": "Phones", "novel": "Books"}
    )
    return ShopData(Interactions.from_rows(rows), catalogue, AspectSignals(user_mentions=mentions))


def test_labels_come_from_dominant_interests() -> None:
    interests = compute_interests(phone_and_book_shop())
    users = [f"u{i}" for i in range(1, 11)]  # u9, u10 have no interests at all
    seg = Segmentation(np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]), 3, users=users)
    infos = label_segments(seg, interests)
    # segment 0: Acme 5 and Phones 5 in each of 4 users; overall mean 20 / 10 users = 2 -> lift 2.5;
    # battery 2 per user, overall 8 / 10 -> lift 2.5 too; equal lifts rank by mean (5, 5, 2), then label
    assert [(i.id, i.size) for i in infos] == [(0, 4), (1, 4), (2, 2)]
    assert infos[0].label == "Acme · Phones · battery"
    assert infos[0].top_interests == ["Acme", "Phones", "battery"]
    assert infos[0].interests[0] == ("Brand", "Acme", pytest.approx(2.5))
    assert infos[1].label == "Penguin · Books"
    assert infos[2].label == "no clear interest" and infos[2].top_interests == []
    # price: only u4 (support 1/4 = 0.25): the 4th interest with min_support 0.1, left out with 0.3
    assert label_segments(seg, interests, top=4)[0].top_interests[-1] == "price"
    assert "price" not in label_segments(seg, interests, top=4, min_support=0.3)[0].top_interests


def test_equal_labels_get_the_segment_number() -> None:
    interests = compute_interests(phone_and_book_shop())
    users = ["u1", "u2", "u3", "u5", "u6", "u7", "u8"]  # not u4 (price)
    # phone buyers split into two segments, both dominated by the same three keys
    seg = Segmentation(np.array([0, 0, 1, 2, 2, 2, 2]), 3)
    labels = [i.label for i in label_segments(seg, interests, user_ids=users)]
    assert labels == ["Acme · Phones · battery #1", "Acme · Phones · battery #2", "Penguin · Books"]  # as shown
    # no user ids: the table's first users; 9 rows is more than its 8 users
    assert label_segments(Segmentation(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 2), interests)[1].label == "Penguin · Books"
    with pytest.raises(ConfigError):
        label_segments(Segmentation(np.zeros(9, dtype=np.int32), 1), interests)


def test_build_features_normalises_and_aligns() -> None:
    interests = compute_interests(phone_and_book_shop())
    emb = {"u1": np.array([3.0, 4.0]), "u5": np.array([0.0, 2.0])}
    x, cols = build_features(["u1", "u5", "zz"], interests, emb, embedding_weight=2.0)
    # keys sorted, only those one of these users has (not price: only u4):
    assert cols == [
        "Aspect:battery",
        "Brand:Acme",
        "Brand:Penguin",
        "Category:Books",
        "Category:Phones",
        "emb:0",
        "emb:1",
    ]
    # u1: battery 2, Acme 5, Phones 5 -> norm sqrt(4 + 25 + 25) = sqrt(54); embedding (3, 4) / 5 * 2
    s = np.sqrt(54.0)
    assert x[0] == pytest.approx([2 / s, 5 / s, 0, 0, 5 / s, 1.2, 1.6])
    # u5: Penguin 5, Books 5 -> 1/sqrt(2) each; embedding (0, 2) / 2 * 2
    assert x[1] == pytest.approx([0, 0, 2**-0.5, 2**-0.5, 0, 0, 2.0])
    assert x[2].tolist() == [0.0] * 7  # unknown user: zeros
    # max_keys keeps the keys most of these users have (ties: key order): battery, Acme and Phones 2 users
    # each (u1, u4), Penguin, Books and price 1 each
    _, few = build_features(["u1", "u4", "u5"], interests, None, max_keys=2)
    assert few == ["Aspect:battery", "Brand:Acme"]
    with pytest.raises(ConfigError):
        build_features(["u1"], interests, {"u1": np.ones(2), "u5": np.ones(3)})


def test_segments_end_to_end_on_interest_features() -> None:
    interests = compute_interests(phone_and_book_shop())
    users = [f"u{i}" for i in range(1, 9)]
    x, _ = build_features(users, interests, None)
    # standardised, u4's one-user "price" column stands out enough for k=3 to win; unscaled it does not
    seg = segment_users(x, k_range=(2, 3), users=users, standardise=False)
    assert seg.n_segments == 2 and seg.silhouettes[2] > seg.silhouettes[3]
    assert segment_users(x, k_range=(2, 3), users=users).n_segments == 3
    assert {i.label for i in label_segments(seg, interests)} == {"Acme · Phones · battery", "Penguin · Books"}


def test_segment_map_png(tmp_path: Path) -> None:
    x, truth = blobs()
    out = segment_map_png(x, truth, ["big", "middle", "small"], tmp_path / "map" / "segments.png", sample=60)
    data = out.read_bytes()
    assert out.name == "segments.png" and data[:8] == PNG and len(data) > 5000
    tiny = segment_map_png(x[:3], np.array([0, 0, 1]), ["a", "b"], tmp_path / "tiny.png")  # PCA fallback
    assert tiny.read_bytes()[:8] == PNG
    with pytest.raises(ConfigError):
        segment_map_png(x, truth[:5], ["a"], tmp_path / "bad.png")


def test_bar_chart_png(tmp_path: Path) -> None:
    rows = [
        {"model": "ease", "recall@20": 0.5, "ndcg@20": 0.31},
        {"model": "popular", "recall@20": 0.2, "ndcg@20": 0.12},
    ]
    out = bar_chart_png(rows, ["recall@20", "ndcg@20"], tmp_path / "eval.png")
    data = out.read_bytes()
    assert data[:8] == PNG and len(data) > 2000
    with pytest.raises(ConfigError):
        bar_chart_png([], ["recall@20"], tmp_path / "none.png")
