"""The claim checker on hand-written sentences: each case is a way a generated sentence can be wrong (an
invented brand, a real brand the shopper never touched, a wrong number or date, a negated fact) or a way a
true one can be written (a paraphrase, rounding, a category's leaf, accents, a shortened product title)."""

from __future__ import annotations

import pytest

from kg.profiles.text.checker import (
    Catalogue,
    Claim,
    Verdict,
    check_sentence,
    check_text,
    kept_text,
    split_sentences,
    supported_share,
)
from kg.profiles.text.facts import Facts

CATALOGUE = Catalogue.from_names(
    {
        "brand": ["Starbucks", "Costa", "Café Royal", "Apple", "Mars"],
        "product": ["Starbucks Gift Card", "$25 Gift Card", "iPhone 15", "Her", "For Her"],
        "category": ["Home > Storage", "Office > Supplies", "Coffee", "Gift"],
        "aspect": ["price", "durability"],
        "segment": ["Coffee Lovers", "Bargain Hunters"],
    }
)

FACTS = Facts(
    subject="user",
    key="u1",
    lines=(
        "bought 3 Starbucks gift cards, the last on 2024-06-14",
        "share of spend on coffee: 0.7163",
        "spent 1234 in total; rates products 4.5 on average",
        "bought an Apple iPhone 15 Pro Max",
    ),
    entities={
        "brand": frozenset({"Starbucks", "Cafe Royal"}),
        "category": frozenset({"Home > Storage", "Coffee"}),
        "product": frozenset({"Apple iPhone 15 Pro Max"}),
        "aspect": frozenset({"price"}),
        "segment": frozenset({"Coffee Lovers"}),
    },
    numbers=frozenset({3.0, 0.7163, 1234.0, 4.5}),
    dates=frozenset({"2024-06-14"}),
)


def check(sentence: str, facts: Facts = FACTS) -> Verdict:
    """The verdict on one sentence about :data:`FACTS` with :data:`CATALOGUE`."""
    return check_sentence(sentence, facts, CATALOGUE)


def test_invented_brand_fails_as_an_unknown_entity() -> None:
    verdict = check("She keeps buying Zentrix Labs headphones.")
    assert not verdict.ok
    assert verdict.claims == (Claim("entity", "Zentrix Labs", False),)
    assert "Zentrix Labs" in verdict.problems[0]


def test_invented_camel_case_brand_fails_even_first_in_the_sentence() -> None:
    assert not check("ZenPods are her favourite.").ok


def test_real_brand_the_user_never_touched_fails() -> None:
    verdict = check("She also likes Costa.")
    assert verdict.claims == (Claim("brand", "Costa", False),)
    assert verdict.problems == ("names brand 'Costa' not in the facts",)


def test_a_catalogue_name_the_user_never_touched_fails_in_lower_case_too() -> None:
    assert not check("She cares about durability.").ok
    assert check("She cares about price.").claims == (Claim("aspect", "price", True),)


@pytest.mark.parametrize("sentence", ["She bought 4 gift cards.", "She bought four gift cards.", "She spent 1,235."])
def test_wrong_number_fails(sentence: str) -> None:
    verdict = check(sentence)
    assert not verdict.ok
    assert verdict.problems[0].startswith("states number")


@pytest.mark.parametrize(
    "sentence",
    ["Her last order was on 15 June 2024.", "Her last order was on 2024-06-15.", "She last ordered on June 13."],
)
def test_wrong_date_fails(sentence: str) -> None:
    verdict = check(sentence)
    assert [c.kind for c in verdict.claims] == ["date"]
    assert not verdict.ok


@pytest.mark.parametrize(
    "sentence",
    [
        "Her last order was on 14 June 2024.",
        "Her last order was on June 14, 2024.",
        "Her last order was on 14 Jun.",
        "She was busiest in June 2024.",
        "Her last order was on 2024-06-14.",
    ],
)
def test_right_date_in_any_form_passes(sentence: str) -> None:
    verdict = check(sentence)
    assert verdict.ok
    assert verdict.claims and all(c.kind == "date" and c.supported for c in verdict.claims)


def test_paraphrase_passes() -> None:
    verdict = check("She keeps coming back to Starbucks cards.")
    assert verdict.ok
    assert verdict.claims == (Claim("brand", "Starbucks", True),)
    assert check("She shops mostly for coffee.").ok


def test_brand_and_category_read_over_a_catalogue_product_pass() -> None:
    """ "Starbucks coffee" is one of the facts' brands and categories, even if a product is called that."""
    catalogue = Catalogue.from_names({"brand": ["Starbucks"], "product": ["Starbucks Coffee"], "category": ["Coffee"]})
    verdict = check_sentence("She buys Starbucks coffee.", FACTS, catalogue)
    assert verdict.ok
    assert [c.kind for c in verdict.claims] == ["brand", "category"]


@pytest.mark.parametrize(
    ("sentence", "cue"),
    [
        ("She never bought Starbucks.", "never"),
        ("She is not interested in coffee.", "not"),
        ("She doesn't like Starbucks.", "doesn't"),
        ("She has no interest in storage boxes.", "no"),
        ("Starbucks isn't her thing.", "isn't"),
    ],
)
def test_negation_of_a_fact_fails(sentence: str, cue: str) -> None:
    verdict = check(sentence)
    assert not verdict.ok
    assert verdict.problems[0].startswith("negates") and f"('{cue}')" in verdict.problems[0]
    assert not any(c.supported for c in verdict.claims)


def test_negation_in_another_clause_does_not_touch_the_fact() -> None:
    assert check("She is not a bargain seeker, but she loves Starbucks.").ok


def test_negation_in_the_shop_language() -> None:
    facts = Facts("user", "u1", ("kauft Starbucks",), {"brand": frozenset({"Starbucks"})}, language="de")
    assert not check("Sie kauft nie Starbucks.", facts).ok
    assert check("Sie kauft gern Starbucks.", facts).ok


@pytest.mark.parametrize(
    "sentence",
    [
        "About 72% of her spend is coffee.",
        "Coffee takes 71.6% of her spend.",
        "Coffee has a share of 0.72.",
        "She spent 1,234 in total.",
        "She spent about 1,200 in total.",
        "She spent over 1,000 in total.",
        "She rates products 4.5 stars on average.",
        "She rates products 5 stars on average.",
    ],
)
def test_rounding_a_writer_would_do_passes(sentence: str) -> None:
    verdict = check(sentence)
    assert verdict.ok, verdict.problems
    assert any(c.kind == "number" and c.supported for c in verdict.claims)


@pytest.mark.parametrize(
    "sentence",
    [
        "She spent 1,200 in total.",  # a round number without "about" is taken as exact
        "She spent under 1,200 in total.",  # the hedge points the wrong way
        "Coffee takes 71.7% of her spend.",
        "She rates products 4 stars on average.",  # 4.5 rounds to 5
    ],
)
def test_rounding_beyond_the_precision_shown_fails(sentence: str) -> None:
    assert not check(sentence).ok


def test_category_leaf_and_plural_pass() -> None:
    verdict = check("Storage boxes are a favourite.")
    assert verdict.ok
    assert verdict.claims == (Claim("category", "Home > Storage", True),)
    assert not check("She buys office supplies.").ok


def test_category_leaf_the_catalogue_lacks_is_found_in_the_facts() -> None:
    facts = Facts("user", "u1", ("x",), {"category": frozenset({"Garden > Seeds"})})
    assert check("She buys seeds.", facts).claims == (Claim("category", "Garden > Seeds", True),)


def test_accents_and_case_are_folded() -> None:
    verdict = check("She loves CAFÉ ROYAL pods.")
    assert verdict.ok
    assert verdict.claims == (Claim("brand", "Cafe Royal", True),)
    assert [m.name for m in CATALOGUE.mentions("cafe royal")] == ["Café Royal"]


def test_numbers_inside_product_names_are_not_figures() -> None:
    assert check("She loves her iPhone 15.").claims == (Claim("product", "Apple iPhone 15 Pro Max", True),)
    verdict = check("She wants a $25 Gift Card.")
    assert verdict.claims == (Claim("product", "$25 Gift Card", False),)


def test_common_words_in_lower_case_are_not_names() -> None:
    assert check("She buys for her mother.").claims == ()
    assert not check("She once got a Gift.").ok  # capitalised, it is the category
    catalogue = Catalogue.from_names({"product": ["For Her", "Her Majesty Tea"]})
    mentions = catalogue.mentions("a gift for her majesty tea fans")
    assert [m.name for m in mentions] == ["Her Majesty Tea"]


def test_sentence_without_claims_passes_but_is_not_grounded() -> None:
    verdict = check("She enjoys a good deal.")
    assert verdict.ok and verdict.claims == ()
    assert not verdict.grounded
    assert check("She loves Starbucks.").grounded


def test_supported_share_on_a_mixed_text() -> None:
    text = "She loves Starbucks and coffee. She also likes Costa. She spent 1,234 on 2024-06-15. She is calm."
    verdicts = check_text(text, FACTS, CATALOGUE)
    assert [v.ok for v in verdicts] == [True, False, False, True]
    assert supported_share(verdicts) == pytest.approx(3 / 5)
    assert supported_share([v for v in verdicts if v.ok]) == 1.0
    assert kept_text(verdicts) == "She loves Starbucks and coffee. She is calm."
    assert supported_share(check_text("She is calm.", FACTS, CATALOGUE)) is None


def test_kept_text_is_empty_when_nothing_passes() -> None:
    assert kept_text(check_text("She likes Costa. She bought 9 cards.", FACTS, CATALOGUE)) == ""


def test_split_sentences_keeps_decimals_and_abbreviations() -> None:
    text = "She rates it 4.5 stars, e.g. for coffee. Dr. Smith agrees! Then 3 more.\nA new line"
    assert split_sentences(text) == [
        "She rates it 4.5 stars, e.g. for coffee.",
        "Dr. Smith agrees!",
        "Then 3 more.",
        "A new line",
    ]
    assert split_sentences("她喜欢咖啡。她买了三张卡。") == ["她喜欢咖啡。", "她买了三张卡。"]
    # a brand ending in "Co." ends its sentence when a capitalised word follows; a lower-case one does not
    said = split_sentences("Mostly into Juniper Co. Belongs to Home.")
    assert said == ["Mostly into Juniper Co.", "Belongs to Home."]
    assert split_sentences("Acme Co. makes boxes.") == ["Acme Co. makes boxes."]


def test_cjk_names_match_inside_text_without_spaces() -> None:
    catalogue = Catalogue.from_names({"category": ["咖啡"], "brand": ["星巴克"]})
    facts = Facts("user", "u1", ("咖啡",), {"category": frozenset({"咖啡"})}, language="zh")
    assert check_sentence("她喜欢咖啡。", facts, catalogue).ok
    assert check_sentence("她喜欢星巴克。", facts, catalogue).claims == (Claim("brand", "星巴克", False),)


def test_decimal_comma_in_the_shop_language() -> None:
    facts = Facts("user", "u1", ("x",), numbers=frozenset({12.5, 1234.0}), language="de")
    assert check("Sie gab 12,5 Euro und 1.234 Euro aus.", facts).ok
    assert not check("Sie gab 12,6 Euro aus.", facts).ok


def test_mentions_are_longest_and_do_not_overlap() -> None:
    mentions = CATALOGUE.mentions("Starbucks's gift card and storage boxes")
    assert [(m.kind, m.name) for m in mentions] == [("product", "Starbucks Gift Card"), ("category", "Home > Storage")]
    assert (mentions[0].start, mentions[0].end, mentions[1].start, mentions[1].end) == (0, 21, 26, 33)
