"""The foundation's PII scrubber (kg.foundation.privacy.scrub_text): what it must catch and what it must leave alone."""

from __future__ import annotations

import pytest

from kg.foundation.privacy import find_names, find_pii, given_names, scrub_text
from tests.pii_cases import LEFT_ALONE, SCRUBBED


@pytest.mark.parametrize(("text", "expected"), SCRUBBED)
def test_scrubs(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize("text", LEFT_ALONE)
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
