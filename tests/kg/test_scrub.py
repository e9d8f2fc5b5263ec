"""The foundation's PII scrubber (kg.foundation.privacy.scrub_text): what it must catch and what it must leave alone."""

from __future__ import annotations

import pytest

from kg.foundation.privacy import find_names, find_pii, given_names, scrub_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # phones: national with a trunk 0, international (+ and 00), US, Chinese mobiles
        ("call 07700900123 today", "call [PHONE] today"),
        ("call 07700 900123 today", "call [PHONE] today"),
        ("ring 020 7946 0958", "ring [PHONE]"),
        ("ring +44 7700 900123", "ring [PHONE]"),
        ("Tel. 0049 30 1234567", "Tel. [PHONE]"),
        ("Tel. +49 (0)30 1234567", "Tel. [PHONE]"),
        ("call (555) 123-4567", "call [PHONE]"),
        ("call +1 (555) 123-4567 or 555.123.4567", "call [PHONE] or [PHONE]"),
        ("手机 13812345678 谢谢", "手机 [PHONE] 谢谢"),
        ("mobile 138 1234 5678", "mobile [PHONE]"),
        # e-mails, plain and spelled out
        ("Mail jo.doe+x@example.co.uk now", "Mail [EMAIL] now"),
        ("write jane_smith99 at gmail dot com", "write [EMAIL]"),
        ("write jane (at) example (dot) org", "write [EMAIL]"),
        ("write jane[at]example[dot]co[dot]uk", "write [EMAIL]"),
        ("write Jane AT Yahoo DOT com", "write [EMAIL]"),
        ("write jane@example dot com", "write [EMAIL]"),
        ("write jo.doe at example dot de", "write [EMAIL]"),
        # URLs, cards, claim codes
        ("see https://example.com/a?b=1 and www.shop.org", "see [URL] and [URL]"),
        ("shop.example.com/deals here", "[URL] here"),
        ("card 4111 1111 1111 1111 works", "card [CARD] works"),
        ("card 4111-1111-1111-1111 works", "card [CARD] works"),
        ("claim code AQ3F-XJ7KLM-99ZZ used", "claim code [CODE] used"),
        # names without NER: a gazetteer given name + a surname
        ("Jane Smith loved it", "[PERSON] loved it"),
        ("bought for Mark Johnson, fast delivery", "bought for [PERSON], fast delivery"),
        ("signed Jane Q. Smith", "signed [PERSON]"),
        ("from Mary Ann Jones", "from [PERSON]"),
        ("gracias, José García", "gracias, [PERSON]"),
        ("Danke, Jürgen Müller", "Danke, [PERSON]"),
        ("merci Amélie Dubois", "merci [PERSON]"),
        ("Jane O'Brien and Anna Smith-Jones", "[PERSON] and [PERSON]"),
    ],
)
def test_scrubs(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "paid $25.00 on 2018-08-22 for 3 cards in 2016 2017",
        "size 10 12 14, zip 02134, model 3, 4.5 stars",
        "timestamp 1704200000 and price 1,299.99",
        "I shopped at amazon dot com and looked at this dot com",
        "arrived at noon. Great",
        # product and brand names must stay readable
        "Rose Gold case for the Samsung Galaxy S10",
        "Calvin Klein jeans, Ralph Lauren shirt and a Harry Potter book",
        "The Amazon Echo Dot and the Kindle Paperwhite",
        "Great Product Will Buy Again",
        "Bought For Sarah Loved It",
        "Victoria Secret Bombshell and Max Factor mascara",
        "Mercedes Benz key fob, Jordan Retro shoes",
        "Die Lieferung war sehr schnell, die Karte ist schön",
        "Starbucks Gift Card",
        # seen in the Amazon Gift Cards metadata and the German MARC reviews before they were excluded
        "San Diego Zoo, Fort Worth, Red Robin Burgers and a Santa Claus tin",
        "Teddy Bear, Angus Steakhouse, Mac App Store, Tea Tree oil",
        "Johnson GmbH, Hans Grohe tap, Osmo Pocket, Marcus Theatres",
    ],
)
def test_leaves_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_name_finder_spans_and_gazetteer() -> None:
    names = given_names()
    assert 3000 < len(names) < 10000
    assert {"Jane", "John", "José", "Jürgen", "Amélie", "Mark"} <= names
    assert not {"May", "Rose", "Max", "Echo", "Alexa", "April", "Paris"} & names
    assert find_names("Hi Jane Smith!") == [(3, 13, "PERSON")]
    assert find_names("Jane\nSmith") == []  # a line break is no name boundary we trust
    assert find_pii("Jane Smith", names=False) == []
    assert scrub_text("Jane Smith", names=False) == "Jane Smith"


def test_kinds_do_not_overlap() -> None:
    text = "Jane Smith <jane.smith@example.com>, +44 7700 900123, https://x.example.org/p"
    spans = find_pii(text)
    assert [k for _, _, k in spans] == ["PERSON", "EMAIL", "PHONE", "URL"]
    assert all(e1 <= s2 for (_, e1, _), (s2, _, _) in zip(spans, spans[1:], strict=False))
