"""Aspects are product or service aspects: verbs, pronouns and names are filtered by each
language's own data (lemma tables, part-of-speech lists, stop words); top-rated reviews are not
scored negative by the blended sentiment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kg.ingest.reviews.pipeline import ReviewAnalyser
from kg.ingest.reviews.sentiment import blend_scores
from kg.ingest.reviews.wordclass import word_classes

pytest.importorskip("spacy_lookups_data", reason="spacy-lookups-data (lemma tables) not installed")

GIFT_CARDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "amazon_gift_cards_5core_2018"

#: Portuguese shop reviews: sentence-initial verb forms and a pronoun next to opinion words
PT_REVIEWS = [
    "Recebi rápido, loja ótima.",
    "Comprei barato e o prazo foi ótimo.",
    "Achei bom, prazo curto.",
    "Ninguém ruim, loja excelente.",
    "Chegou rápido, entrega ótima e qualidade boa.",
    "Gostei muito, preço bom.",
]

#: English reviews whose first word is an opinion followed by an irregular verb form
EN_REVIEWS = [
    ("Easy gave it to my son, great design.", {"design"}),
    ("Awesome bought three of them, nice tin.", {"tin"}),
    ("Great got it in time, the price is good.", {"price"}),
]


def _aspects(analyser: ReviewAnalyser, texts: list[str]) -> set[str]:
    return {m.aspect for a in analyser.analyse(texts) for m in a.aspects}


def test_portuguese_verbs_and_pronouns_are_not_aspects() -> None:
    analyser = ReviewAnalyser(lang="pt", detect_language=False)
    found = _aspects(analyser, PT_REVIEWS * 4)  # frequent enough for discovered aspects
    assert not found & {"recebi", "receber", "comprei", "comprar", "achei", "achar", "ninguém", "chegou", "gostei"}
    assert {"loja", "prazo", "delivery", "quality", "price"} <= found


def test_english_verb_forms_are_not_aspects() -> None:
    analyser = ReviewAnalyser(lang="en", detect_language=False)
    for text, expected in EN_REVIEWS:
        found = _aspects(analyser, [text])
        assert found == expected, text


def test_word_classes_come_from_the_languages_lemma_data() -> None:
    pt, es = word_classes("pt"), word_classes("es")
    assert pt.source == "paradigm" and es.source == "pos"
    assert [pt.noun_like(w) for w in ("recebi", "comprei", "chegou", "prazo", "loja", "vendedor")] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]
    assert pt.lemma("Recebi") == "receber"  # the case-sensitive table, tried in lower case
    assert [es.noun_like(w) for w in ("compré", "llegó", "nadie", "entrega", "precio")] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_chinese_verbs_and_shop_names_are_not_aspects() -> None:
    pytest.importorskip("jieba", reason="jieba not installed")
    zh = word_classes("zh")
    assert [zh.noun_like(w) for w in ("购买", "送到", "京东", "质量", "物流")] == [False, False, False, True, True]


def test_blend_keeps_a_positive_review_positive_that_one_view_calls_negative() -> None:
    # "How could money look bad ... The box is very nice": the encoder alone scored it -0.85
    encoder, ngram, lexicon = np.array([-0.85]), np.array([0.4]), np.array([0.6])
    assert blend_scores([encoder]).tolist() == [-0.85]
    assert blend_scores([encoder, ngram], lexicon)[0] > 0
    assert blend_scores([encoder, ngram], np.zeros(1)).tolist() == [-0.225]  # no lexicon: classifiers only


@pytest.mark.slow
@pytest.mark.skipif(not GIFT_CARDS.is_dir(), reason=f"shared Gift Cards data not found at {GIFT_CARDS}")
def test_gift_cards_five_star_reviews_are_rarely_negative() -> None:
    from kg.foundation.privacy import Pseudonymiser
    from kg.foundation.settings import Settings
    from kg.ingest.reviews.loader import ReviewLoader
    from kg.ingest.reviews.sentiment import LexiconScorer, MiniLMEncoder
    from kg.ingest.reviews.text import clean_text

    if not MiniLMEncoder.available():
        pytest.skip("MiniLM encoder not installed")
    with open(GIFT_CARDS / "Gift_Cards_5.json", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    texts = [clean_text(r.get("reviewText"))[0] for r in rows]
    ratings = [float(r["overall"]) for r in rows]
    lex = LexiconScorer("en")
    settings = Settings(pseudonym_key="test-key")
    loader = ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings), lang="en")
    lexicon = [lex.score(t) if t.strip() else None for t in texts]  # empty texts: no score, as the analyser gives
    scores, methods = loader.score_sentiment(texts, ratings, ["en"] * len(texts), lexicon)
    five = [s for s, r, t in zip(scores, ratings, texts, strict=True) if r == 5 and t.strip()]
    negative = sum(s is not None and s < 0 for s in five) / len(five)
    assert set(methods) - {None} == {"encoder+ngram-crossfit"}
    assert negative < 0.03  # was 8.0 % (221 of 2,746) with the encoder alone
    assert loader.report.languages["en"]["oof_auc"] >= 0.90
