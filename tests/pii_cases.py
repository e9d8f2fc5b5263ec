"""The PII scrubber's hand-written cases: what it must catch and what it must leave alone. The foundation's
scrubber (kg.foundation.privacy.scrub_text, tests/kg/test_scrub.py) and the review pipeline's ``scrub`` built on it
(tests/ingest/test_reviews_nlp.py) are held to the same cases. A helper module, not a test module."""

from __future__ import annotations

#: text -> the scrubbed text
SCRUBBED: list[tuple[str, str]] = [
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
]

#: text that holds no PII, however much it looks like some
LEFT_ALONE: list[str] = [
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
]
