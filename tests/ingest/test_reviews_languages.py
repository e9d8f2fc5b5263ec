"""Reviews in the languages shops sell in (issue 12): language identification, tokenisation,
aspects with cross-language names, sentiment per language, and a mixed-language file in the graph."""

from __future__ import annotations

import csv
import functools
import json
from collections import Counter
from pathlib import Path

import pytest

from kg.foundation.settings import Settings
from kg.ingest.api import ingest_file
from kg.ingest.reviews.blank import blank_pipeline
from kg.ingest.reviews.components import AspectCandidate
from kg.ingest.reviews.discovery import AspectDiscovery
from kg.ingest.reviews.language import LanguageDetector, detect_language
from kg.ingest.reviews.lexicons import LANGUAGES, get_lexicon
from kg.ingest.reviews.loader import ReviewLoader
from kg.ingest.reviews.pipeline import ReviewAnalyser
from kg.ingest.reviews.sentiment import LexiconScorer
from kg.store import GraphStore

pytest.importorskip("langid", reason="langid (language identification) not installed")

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@functools.cache
def analyser(lang: str) -> ReviewAnalyser:
    """One declared-language analyser per language (lemma tables load once)."""
    return ReviewAnalyser(lang=lang, detect_language=False)


def _polar(text: str, lang: str) -> list[tuple[str, int]]:
    """(canonical aspect, sign of the mention sentiment) pairs of one review."""
    out = analyser(lang).analyse([text])[0].aspects
    return [(m.aspect, (m.sentiment > 0) - (m.sentiment < 0) if m.sentiment is not None else 0) for m in out]


# one hand-written review per language with rules: expected (canonical aspect, polarity)
SENTENCES = [
    ("en", "Fast delivery, but the price is too high.", [("delivery", 1), ("price", -1)]),
    ("de", "Die Lieferung war schnell, aber die Verpackung war beschädigt.", [("delivery", 1), ("packaging", -1)]),
    ("fr", "La livraison est lente mais la qualité est excellente.", [("delivery", -1), ("quality", 1)]),
    ("es", "El envío fue rápido y la calidad es mala.", [("delivery", 1), ("quality", -1)]),
    ("it", "La consegna è stata veloce, ma la qualità è pessima.", [("delivery", 1), ("quality", -1)]),
    (
        "pt",
        "A entrega foi rápida e o preço é bom, mas a embalagem veio danificada.",
        [("delivery", 1), ("price", 1), ("packaging", -1)],
    ),
    ("nl", "De levering was traag, maar de kwaliteit is goed.", [("delivery", -1), ("quality", 1)]),
    ("pl", "Dostawa była szybka, ale jakość jest słaba.", [("delivery", 1), ("quality", -1)]),
    ("zh", "配送很快，但是质量不好。", [("delivery", 1), ("quality", -1)]),
    ("ja", "配送が早くて、品質も良い。値段は高い。", [("delivery", 1), ("quality", 1), ("price", -1)]),
]


def test_every_rules_language_has_a_sentence() -> None:
    assert sorted(lang for lang, _, _ in SENTENCES) == sorted(LANGUAGES)


@pytest.mark.parametrize(("lang", "text", "expected"), SENTENCES, ids=[s[0] for s in SENTENCES])
def test_aspects_and_polarity_per_language(lang: str, text: str, expected: list[tuple[str, int]]) -> None:
    assert _polar(text, lang) == expected


def test_surface_form_is_kept_and_names_are_canonical() -> None:
    got = {
        lang: [(m.aspect, m.surface) for m in analyser(lang).analyse([text])[0].aspects]
        for lang, text in [
            ("de", "Schnelle Lieferungen, guter Preis."),
            ("zh", "配送很快"),
            ("fr", "Livraison rapide."),
        ]
    }
    assert got == {
        "de": [("delivery", "Lieferungen"), ("price", "Preis")],
        "zh": [("delivery", "配送")],
        "fr": [("delivery", "Livraison")],
    }


def test_negation_in_each_direction() -> None:
    assert _polar("Der Preis ist nicht gut.", "de") == [("price", -1)]
    assert _polar("品質は良くない。", "ja") == [("quality", -1)]  # the negator follows in Japanese
    assert _polar("包装不好", "zh") == [("packaging", -1)]  # glued negation
    ja = LexiconScorer("ja")
    assert ja.score_tokens([["品質"], ["は"], ["良く", "良い"], ["ない"]]) < 0 < ja.score_tokens([["良い"]])


# -- segmentation ---------------------------------------------------------------------------------
def test_chinese_and_japanese_are_segmented_into_words() -> None:
    pytest.importorskip("jieba", reason="jieba not installed")
    pytest.importorskip("sudachipy", reason="sudachipy not installed")
    zh = [t.text for t in blank_pipeline("zh")("配送很快，质量很好")]
    assert zh[0] == "配送" and "质量" in zh and "，" in zh
    ja = blank_pipeline("ja")("配送が早くて良かったです。")
    assert [t.text for t in ja][:3] == ["配送", "が", "早く"]
    assert ja[2].lemma_ == "早い" and ja[0].pos_ == "NOUN"


def test_unknown_or_unsupported_language_never_crashes(caplog: pytest.LogCaptureFixture) -> None:
    for lang in ("tlh", "xx"):
        out = ReviewAnalyser(lang=lang, detect_language=False).analyse(["Qapla! delivery ok", ""])
        assert [a.lang for a in out] == [lang, lang] and out[1].aspects == []


# -- language identification ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The delivery was fast and the price is good.", "en"),
        ("Die Lieferung war sehr schnell und der Preis ist gut.", "de"),
        ("La livraison était rapide et le prix est correct.", "fr"),
        ("El envío llegó muy rápido y el precio es bueno.", "es"),
        ("La consegna è stata velocissima e il prezzo è ottimo.", "it"),
        ("A entrega foi muito rápida e o preço é ótimo.", "pt"),
        ("De levering was erg snel en de prijs is goed.", "nl"),
        ("Dostawa była bardzo szybka, a cena jest dobra.", "pl"),
        ("配送速度很快，质量也很好，价格便宜。", "zh"),
        ("配送が早くて、値段も安くてよかったです。", "ja"),
        ("Доставка была быстрой, качество хорошее.", "ru"),
    ],
)
def test_detect_language_on_known_texts(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


def test_short_texts_take_the_files_majority_language() -> None:
    det = LanguageDetector(default="en")
    texts = [
        "Die Lieferung war sehr schnell und der Preis ist gut.",
        "Super!",
        "",
        "Leider ist die Verpackung beschädigt angekommen.",
        "ok",
    ]
    assert det.assign(texts) == ["de"] * 5
    assert det.fallbacks == 3 and det.majority == "de"
    assert LanguageDetector(default="fr").assign(["ok"]) == ["fr"]  # nothing called yet: the default


# -- languages without rules: seeds + frequent nouns ------------------------------------------------
def test_language_without_rules_still_yields_aspects() -> None:
    sv = ReviewAnalyser(lang="sv", detect_language=False)
    texts = [
        "Batteriet håller länge och leveransen var snabb.",
        "Batteriet dog efter en vecka.",
        "Batteriet är bra.",
        "Snygg färg.",
    ]
    out = sv.analyse(texts)
    aspects = [sorted(m.aspect for m in a.aspects) for a in out]
    # sentence-initial "Batteriet" is looked up in lower case: lemma "batteri", a seed word like
    # "leveransen"/"färg" -> canonical names
    assert aspects == [["battery", "delivery"], ["battery"], ["battery"], ["color"]]
    assert all(m.opinion == "" and m.sentiment is None for a in out for m in a.aspects)


def test_discovery_needs_frequency_and_skips_catalogue_words() -> None:
    c = AspectCandidate
    disc = AspectDiscovery(min_reviews=2, exclude=["Acme"])
    docs = [
        [c("akku", "Akku", 0, 4, "gut"), c("acme", "Acme", 5, 9, "gut")],
        [c("akku", "Akku", 0, 4, "schlecht"), c("acme", "Acme", 5, 9, "gut")],
        [c("hund", "Hund", 0, 4, "gut"), c("farbe", "Farbe", 5, 10, None, known=True)],
    ]
    disc.update("de", docs)
    picked = [[x.form for x in disc.select("de", d, need_opinion=False)] for d in docs]
    assert picked == [["akku"], ["akku"], ["farbe"]]
    assert disc.vocabulary("de") == [("akku", 2)]
    assert [x.form for x in disc.select("de", docs[2], need_opinion=True)] == []  # no opinion word


def test_seed_lists_normalise_across_languages() -> None:
    names = {lang: get_lexicon(lang).aspects for lang in ("de", "fr", "zh", "ja", "sv")}
    assert {"lieferung", "livraison", "配送", "leverans"} <= set().union(*names.values())
    got = {
        lang: analyser(lang).analyse([text])[0].aspects[0].aspect
        for lang, text in [
            ("de", "Die Lieferung war schnell."),
            ("fr", "Livraison rapide."),
            ("zh", "配送很快"),
            ("ja", "配送が早い。"),
        ]
    }
    assert set(got.values()) == {"delivery"}


# -- a file mixing languages, in the graph -------------------------------------------------------
MIXED = [
    ("U1", "P1", 5, "Fast delivery and the quality is great, very happy with it."),
    ("U2", "P1", 2, "Die Lieferung war langsam und die Verpackung war beschädigt."),
    ("U3", "P1", 5, "Livraison rapide et la qualité est excellente, je recommande."),
    ("U4", "P2", 4, "La consegna è stata veloce e il prezzo è ottimo."),
    ("U5", "P2", 1, "配送太慢了，包装也很差，非常失望。"),
    ("U6", "P2", 5, "配送が早くて、品質もとても良いです。満足しています。"),
    ("U7", "P2", 5, "Top!"),
]


def _write(path: Path, rows: list[tuple[str, str, int, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["user_id", "item_id", "rating", "text", "timestamp"])
        for i, (u, p, r, t) in enumerate(rows):
            w.writerow([u, p, r, t, 1704200000 + i])
    return path


def test_mixed_language_file_in_the_graph(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    path = _write(tmp_path / "mixed.csv", MIXED)
    report = ingest_file(store, settings, path, kind="reviews", fmt="csv")
    langs = store.execute("MATCH (u:User)-[:WROTE]->(r:Review) RETURN r.lang AS lang ORDER BY r.created_at")
    assert [r["lang"] for r in langs] == ["en", "de", "fr", "it", "zh", "ja", "en"]  # "Top!": majority
    assert report.details["languages"] == {"de": 1, "en": 2, "fr": 1, "it": 1, "ja": 1, "zh": 1}
    rows = store.execute(
        "MATCH (r:Review)-[m:MENTIONS]->(a:Aspect {name: 'delivery'}) "
        "RETURN r.lang AS lang, m.surface AS surface, m.sentiment AS s ORDER BY r.created_at"
    )
    assert [(r["lang"], r["surface"], r["s"] > 0) for r in rows] == [
        ("en", "delivery", True),
        ("de", "Lieferung", False),
        ("fr", "Livraison", True),
        ("it", "consegna", True),
        ("zh", "配送", False),
        ("ja", "配送", True),
    ]
    # the aggregates join all languages under one canonical aspect
    agg = store.execute(
        "MATCH (p:Product {id: 'P2'})-[h:HAS_ASPECT]->(a:Aspect {name: 'delivery'}) "
        "RETURN h.mentions AS m, h.positive AS pos, h.negative AS neg"
    )
    assert agg == [{"m": 3, "pos": 2, "neg": 1}]
    by_lang = report.details["sentiment_by_language"]
    assert set(by_lang) == {"de", "en", "fr", "it", "ja", "zh"}
    assert all(v["method"] == "lexicon" and "< 100" in v["reason"] for v in by_lang.values())


def test_lang_option_overrides_detection(settings: Settings, store: GraphStore, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "de.csv",
        [("U1", "P1", 5, "Schnelle Lieferung."), ("U2", "P1", 4, "La livraison était rapide et le prix correct.")],
    )
    report = ingest_file(store, settings, path, kind="reviews", fmt="csv", lang="de")
    assert report.details["languages"] == {"de": 2}
    assert ReviewLoader.from_settings(settings, lang="de").detect_language is False
    assert ReviewLoader.from_settings(settings).detect_language is True


def _templated(n: int) -> list[tuple[str, str, int, str]]:
    """n German reviews, alternately praising and complaining in varied words, rated to match."""
    good = ["Sehr gute Qualität", "Schnelle Lieferung", "Toller Preis", "Perfekt verarbeitet", "Super Produkt"]
    bad = ["Leider kaputt angekommen", "Schlechte Qualität", "Viel zu teuer", "Enttäuschend", "Defekt nach zwei Tagen"]
    rows = []
    for i in range(n):
        pos = i % 2 == 0
        words = good if pos else bad
        text = f"{words[i % 5]} und {words[(i // 5) % 5].lower()}, Bestellung Nummer {i}."
        rows.append((f"U{i}", f"P{i % 7}", 5 if pos else 1, text))
    return rows


def test_ngram_sentiment_is_cross_fitted_for_other_languages(
    settings: Settings, store: GraphStore, tmp_path: Path
) -> None:
    path = _write(tmp_path / "de_rated.csv", _templated(120))
    report = ingest_file(store, settings, path, kind="reviews", fmt="csv", folds=3)
    de = report.details["sentiment_by_language"]["de"]
    assert de["method"] == "ngram-crossfit" and de["rated"] == 120 and de["folds"] == 3
    assert de["oof_auc"] > 0.95 and de["lexicon_auc"] is not None
    methods = store.execute("MATCH (r:Review) RETURN DISTINCT r.sentiment_method AS m")
    assert methods == [{"m": "ngram-crossfit"}]
    assert json.loads(json.dumps(report.details)) == report.details


# -- real multilingual data ------------------------------------------------------------------------
MARC = SHARED / "amazon_reviews_multi_marc"


@pytest.mark.slow
@pytest.mark.skipif(not MARC.is_dir(), reason=f"shared MARC data not found at {MARC}")
@pytest.mark.parametrize("lang", ["de", "zh"])
def test_real_reviews_language_aspects_and_sentiment(lang: str, settings: Settings) -> None:
    from sklearn.metrics import roc_auc_score

    from kg.ingest.reviews.loader import ReviewLoader as Loader

    with open(MARC / f"marc_{lang}_test_body_stars.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[::5]  # 1,000 reviews, all star levels
    texts, stars = [r[1] for r in rows], [float(r[2]) for r in rows]
    out = ReviewAnalyser(lang="en").analyse(texts)
    assert sum(a.lang == lang for a in out) / len(out) >= 0.95
    assert 100 * sum(len(a.aspects) for a in out) / len(out) >= 25
    loader = Loader.from_settings(settings)
    scores, methods = loader.score_sentiment(texts, stars, [a.lang for a in out], [a.sentiment for a in out])
    assert loader.report.languages[lang]["method"] == "ngram-crossfit"
    y = [int(s >= 4) for s, a in zip(stars, out, strict=True) if a.lang == lang]
    assert roc_auc_score(y, [s for s, a in zip(scores, out, strict=True) if a.lang == lang]) >= 0.8


def test_a_few_reviews_without_a_tokenizer_are_a_note_not_a_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: detection puts ~1% of a one-language shop's reviews in other languages; a missing tokenizer
    for those is a note in the report, while a language that matters still warns."""
    monkeypatch.setattr(
        "kg.ingest.reviews.blank.MISSING_TOKENIZERS", {"vi": "[W-KG-TOKENIZER] no spaCy tokenizer for 'vi'"}
    )
    loader = ReviewLoader.__new__(ReviewLoader)  # only its counts matter here
    loader.notes = []
    loader.languages = Counter({"en": 990, "vi": 7, "am": 3})
    with caplog.at_level("INFO"):
        loader._tokenizer_notice()
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert loader.notes == [
        "7 of 1,000 reviews (0.7%) detected as vi, read with the multi-language tokenizer "
        "(no spaCy tokenizer for them); a one-language shop can pass --lang"
    ]

    caplog.clear()
    loader.languages = Counter({"en": 900, "vi": 100})
    loader._tokenizer_notice()
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "[W-KG-TOKENIZER] no spaCy tokenizer for 'vi'"
    ]
