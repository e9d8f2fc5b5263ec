"""The prompt for each kind of text, and the shape its answer is cut to.

A prompt holds the subject's fact lines and nothing else: no user id (not even the pseudonym), no review
text, only the catalogue names, scores, counts and dates :mod:`kg.profiles.text.grounding` put in the lines.
It asks for English, in the length each text has: 2–3 sentences for a profile, a few words for a segment's
name, one sentence for a segment's description or a recommendation's reason.

>>> from kg.profiles.text.facts import Facts
>>> prompt = prompt_for("reason", Facts("reason", "u1|P1", ("product: 'Acme Kettle'", "reason: likes brand Acme")))
>>> print(prompt.user)
Facts about one product recommended to a shopper:
- product: 'Acme Kettle'
- reason: likes brand Acme
<BLANKLINE>
Write one sentence that tells the shopper why this product is suggested to them, from the reason above.
>>> shape("segment_name", '**Name:** "Kitchen Lovers".')
'Kitchen Lovers'
"""

from __future__ import annotations

import re
from typing import Literal

from kg.profiles.text.completion import Prompt
from kg.profiles.text.facts import Facts

__all__ = ["MAX_SENTENCES", "TASKS", "Task", "prompt_for", "shape"]

Task = Literal["profile", "segment_name", "segment_description", "reason"]
#: the texts kg writes, each from one subject's facts
TASKS: tuple[Task, ...] = ("profile", "segment_name", "segment_description", "reason")
#: sentences a text keeps at most (a segment's name is one phrase)
MAX_SENTENCES: dict[str, int] = {"profile": 3, "segment_name": 1, "segment_description": 1, "reason": 1}
#: words a segment's name may have
NAME_WORDS = 6

SYSTEM = (
    "You write short, plain English for a shop's analysts, from facts a knowledge graph holds. "
    "Use only the facts given: every product, brand, category, aspect and segment you name, and every number "
    "and date you state, must appear in the facts, spelled as there. Add nothing else: no other products, "
    "no prices, no guesses about the person, no ids, no greeting, no list, no markup. "
    "Call the person 'this shopper'."
)
_ABOUT = {
    "profile": "Facts about one shopper:",
    "segment_name": "Facts about one segment of shoppers:",
    "segment_description": "Facts about one segment of shoppers:",
    "reason": "Facts about one product recommended to a shopper:",
}
_ASK = {
    "profile": (
        "Write 2 to 3 sentences about this shopper: what they are most interested in, what they did last, "
        "and what is recommended to them and why."
    ),
    "segment_name": (
        f"Write a name for this segment in 2 to {NAME_WORDS - 2} words, from its shared interests. "
        "Answer with the name only."
    ),
    "segment_description": (
        "Write one sentence that describes this segment: its size, shared interests and most bought product."
    ),
    "reason": "Write one sentence that tells the shopper why this product is suggested to them, from the reason above.",
}
_TOKENS = {"profile": 120, "segment_name": 16, "segment_description": 60, "reason": 50}
_MARKUP = re.compile(r"[*_#`>]+")
_QUOTED = re.compile(r'^["“](.*?)["”](\.?)$')
_LEAD = re.compile(r"^\s*(?:name|segment name|description|answer|reason|profile)\s*:\s*", re.I)


def prompt_for(task: Task, facts: Facts) -> Prompt:
    """The prompt for ``task`` on ``facts``: the system rules and the fact lines with the request."""
    if task not in _ASK:
        raise ValueError(f"unknown text task {task!r}; one of {', '.join(TASKS)}")
    lines = "\n".join(f"- {line}" for line in facts.lines)
    return Prompt(system=SYSTEM, user=f"{_ABOUT[task]}\n{lines}\n\n{_ASK[task]}", max_tokens=_TOKENS[task])


def shape(task: Task, answer: str) -> str:
    """The model's answer as a text of ``task``: markup, labels and wrapping quotes removed, one line; a
    segment name without its final full stop ("" when it is longer than a name)."""
    text = _MARKUP.sub("", answer or "")
    text = " ".join(text.split())
    text = _LEAD.sub("", text).strip()
    quoted = _QUOTED.match(text)
    if quoted:
        text = quoted.group(1).strip() + quoted.group(2)
    if task == "segment_name":
        text = text.rstrip(".").strip()
        return text if 0 < len(text.split()) <= NAME_WORDS else ""
    return text
