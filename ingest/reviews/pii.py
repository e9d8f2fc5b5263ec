"""PII detection and scrubbing for review text: the foundation's :mod:`kg.foundation.privacy` scrubber.

Regexes catch e-mail addresses (also "at"/"dot" spellings), URLs, phone numbers, card-like digit
runs and gift-card claim codes; a given-name gazetteer catches "First Last" pairs without any NLP
pipeline; PERSON entities are added on top by the spaCy component when the pipeline has NER.

Example:
    >>> scrub("Mail me at jo.doe@example.com or call +1 (555) 123-4567")
    'Mail me at [EMAIL] or call [PHONE]'
"""

from __future__ import annotations

from kg.foundation.privacy import PII_KINDS, apply_spans, find_pii, scrub_text

__all__ = ["PII_KINDS", "find_pii", "scrub", "apply_spans"]


def scrub(text: str) -> str:
    """Scrubbing without NER (regexes and the name gazetteer); see ``kg_pii_scrubber`` for NER names."""
    return scrub_text(text)
