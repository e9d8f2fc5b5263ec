"""Texts for the profiles in the graph: for each subject, facts -> prompt -> model (or template) -> checker
-> the kept sentences, else the template marked so; then written back.

:func:`write_texts` is the one library call (``kg profiles --text``): it writes every segment's name and
description, then the profile text and reason sentences of every profiled user (or a seeded sample of
them), batch by batch, and returns a :class:`TextReport`. Without a model (the ``template`` route, a shop
whose reviews are not in English, or a model that fails) every text is the template's. With one, every
sentence the model writes is checked against the subject's facts (:func:`kg.profiles.text.checker.check_text`);
sentences that fail are dropped, and a subject none of whose sentences survive gets the template text,
``source`` ``template``. Prompts and completions go to the log only when ``KG_TEXT_DEBUG`` asks, and then
with the subject's number in this run, never its id.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kg.foundation.errors import ConfigError
from kg.foundation.extras import MissingExtraError
from kg.foundation.locks import writer_lock
from kg.foundation.progress import Progress, step_reporter
from kg.foundation.settings import Settings
from kg.profiles.text import grounding, template
from kg.profiles.text.facts import Facts
from kg.profiles.text.prompts import MAX_SENTENCES, Task, prompt_for, shape
from kg.profiles.text.writeback import (
    clear_stale_texts,
    write_reason_texts,
    write_segment_texts,
    write_user_texts,
)
from kg.store import GraphStore

if TYPE_CHECKING:
    from kg.profiles.text.checker import Catalogue
    from kg.profiles.text.models import TextModel

__all__ = ["MODEL_REASONS", "TEMPLATE", "TextReport", "Writer", "drop_stale_texts", "open_model", "write_texts"]

logger = logging.getLogger(__name__)
_say = step_reporter(logger)

#: the model name stored beside texts of the template route
TEMPLATE = "template"
#: recommendations per user whose reason sentence the model writes (the rest get the template's)
MODEL_REASONS = 1
#: users read, written and reported per batch
USERS_PER_BATCH = 200
#: languages a model writes in (others get the template in the shop's language)
MODEL_LANGUAGES = ("en",)


@dataclass
class TextReport:
    """What one text run wrote: subjects per kind, how many the model wrote and how many fell back to the
    template, the supported share of the model's raw sentences and of the stored texts, and the time."""

    run: str
    route: str
    model: str
    language: str
    subjects: dict[str, int] = field(default_factory=dict)
    model_written: dict[str, int] = field(default_factory=dict)
    template_fallbacks: dict[str, int] = field(default_factory=dict)
    model_errors: int = 0
    sentences_generated: int = 0
    sentences_kept: int = 0
    #: share of the claims of the model's sentences, as written, that the facts support (None: no model)
    raw_supported_share: float | None = None
    #: share of the claims of the texts as stored (model and template) that the facts support
    stored_supported_share: float | None = None
    users: int = 0
    users_in_graph: int = 0
    seconds: float = 0.0
    seconds_per_user: float | None = None
    #: tokens the model used, where it says (None: not reported)
    tokens: int | None = None
    cleared: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        per = ", ".join(
            f"{kind} {n:,} ({self.model_written.get(kind, 0):,} by the model, "
            f"{self.template_fallbacks.get(kind, 0):,} template fallbacks)"
            for kind, n in self.subjects.items()
        )
        out = [
            f"texts for run {self.run} ({self.route} route, model {self.model}, language {self.language}): "
            f"{self.users:,} of {self.users_in_graph:,} profiled users in {self.seconds:.1f} s"
            + (f" ({self.seconds_per_user:.3f} s per user)" if self.seconds_per_user is not None else ""),
            f"written: {per}",
        ]
        if self.raw_supported_share is not None:
            out.append(
                f"checked: {self.sentences_kept:,} of {self.sentences_generated:,} model sentences kept; "
                f"supported claims {_share(self.raw_supported_share)} as written, "
                f"{_share(self.stored_supported_share)} as stored"
            )
        if self.model_errors:
            out.append(f"model errors: {self.model_errors:,} (those texts are the template's)")
        out += [f"note: {n}" for n in self.notes]
        return out


def _finished(sentence: str) -> bool:
    """Whether a sentence ends as sentences do (a model cut off by its token limit leaves a fragment)."""
    return sentence.rstrip("\"”’')] ").endswith((".", "!", "?", "…", "。", "！", "？"))


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def open_model(settings: Settings) -> tuple[TextModel | None, str | None]:
    """The model ``settings`` choose (None on the template route) and, when its extra is not installed,
    None with one line saying how to enable it."""
    from kg.profiles.text.models import text_model_from

    try:
        return text_model_from(settings), None
    except (MissingExtraError, ImportError) as e:
        return None, (
            f"the {settings.text_route!r} text route needs the 'text' extra ({e}); writing template texts "
            "(hint: pip install 'kg[text]')"
        )


class Writer:
    """Writes one text per subject: the model's checked sentences, else the template's text.

    ``catalogue`` holds the shop's names (a sentence naming one the facts lack fails the check); without a
    ``model`` nothing is checked and every text is the template's. Counts accumulate across calls.
    """

    def __init__(
        self,
        model: TextModel | None,
        catalogue: Catalogue | None,
        *,
        language: str = "en",
        debug: bool = False,
    ) -> None:
        self.model = model if language.split("-")[0] in MODEL_LANGUAGES else None
        self.catalogue = catalogue
        self.language = language
        self.debug = debug
        self.model_name = model.name if model is not None else TEMPLATE
        self.subjects: dict[str, int] = {}
        self.model_written: dict[str, int] = {}
        self.fallbacks: dict[str, int] = {}
        self.errors = 0
        self.generated = 0
        self.kept = 0
        self._raw: list[tuple[float, int]] = []  # (supported share, claims) per checked answer
        self._stored: list[tuple[float, int]] = []
        self._count = 0

    def write(self, task: Task, facts: Facts, fallback: str, *, use_model: bool = True) -> dict[str, Any]:
        """``{text, source, model}`` for one subject: ``fallback`` is the template's text."""
        self.subjects[task] = self.subjects.get(task, 0) + 1
        self._count += 1
        if self.model is None or not use_model:
            return {"text": fallback, "source": "template", "model": self.model_name}
        text = self._generated(task, facts)
        if text:
            self.model_written[task] = self.model_written.get(task, 0) + 1
            return {"text": text, "source": "model", "model": self.model_name}
        self.fallbacks[task] = self.fallbacks.get(task, 0) + 1
        self._measure(self._stored, fallback, facts)
        return {"text": fallback, "source": "template", "model": self.model_name}

    def _generated(self, task: Task, facts: Facts) -> str:
        """The model's answer cut to the task's shape with the failing sentences dropped, and those that state no
        fact of the graph or are unfinished (the token limit cut them): a segment name need not state one;
        "" when none is left."""
        from kg.profiles.text.checker import check_text, kept_text, supported_share

        assert self.model is not None
        prompt = prompt_for(task, facts)
        try:
            answer = self.model.complete(prompt)
        except Exception as e:  # noqa: BLE001 - any model failure falls back to the template, counted
            self.errors += 1
            logger.warning("text model %s failed on a %s (%s): %s", self.model_name, task, type(e).__name__, e)
            return ""
        if self.debug:
            logger.info("text %s #%d prompt: %s | completion: %s", task, self._count, prompt.user, answer)
        shaped = shape(task, answer)
        if not shaped:
            return ""
        verdicts = check_text(shaped, facts, self._catalogue())
        self.generated += len(verdicts)
        share = supported_share(verdicts)
        claims = sum(len(v.claims) for v in verdicts)
        if share is not None:
            self._raw.append((share, claims))
        if task == "segment_name":
            good = [v for v in verdicts if v.ok]
        else:  # a sentence that states no fact cannot be checked (praise, guesses), a fragment was cut off
            good = [v for v in verdicts if v.ok and v.grounded and _finished(v.sentence)]
        good = good[: MAX_SENTENCES[task]]
        self.kept += len(good)
        kept = kept_text(good)
        if self.debug:
            logger.info(
                "text %s #%d: %d of %d sentences kept; problems: %s",
                task,
                self._count,
                len(good),
                len(verdicts),
                "; ".join(p for v in verdicts for p in v.problems) or "none",
            )
        stored_share = supported_share(good)
        if kept and stored_share is not None:  # the kept sentences' own verdicts: no second check
            self._stored.append((stored_share, sum(len(v.claims) for v in good)))
        return kept

    def _catalogue(self) -> Catalogue:
        if self.catalogue is None:
            from kg.profiles.text.checker import Catalogue

            self.catalogue = Catalogue.from_names({})
        return self.catalogue

    def _measure(self, into: list[tuple[float, int]], text: str, facts: Facts) -> None:
        from kg.profiles.text.checker import check_text, supported_share

        verdicts = check_text(text, facts, self._catalogue())
        share = supported_share(verdicts)
        if share is not None:
            into.append((share, sum(len(v.claims) for v in verdicts)))

    @staticmethod
    def _weighted(values: Sequence[tuple[float, int]]) -> float | None:
        """The share of all claims supported (each answer weighted by its claims)."""
        claims = sum(n for _, n in values)
        if not values:
            return None
        if claims == 0:
            return sum(s for s, _ in values) / len(values)
        return round(sum(s * n for s, n in values) / claims, 4)

    def fill(self, report: TextReport) -> None:
        """Put the counts and shares into ``report``."""
        report.subjects = dict(self.subjects)
        report.model_written = dict(self.model_written)
        report.template_fallbacks = dict(self.fallbacks)
        report.model_errors = self.errors
        report.sentences_generated = self.generated
        report.sentences_kept = self.kept
        if self.model is not None:
            report.raw_supported_share = self._weighted(self._raw)
            report.stored_supported_share = self._weighted(self._stored)
            tokens = getattr(self.model, "tokens", None)
            report.tokens = int(tokens) if isinstance(tokens, int) else None


def _pick_users(store: GraphStore, users: Sequence[str] | None, sample: int | None, seed: int) -> tuple[list[str], int]:
    """The users to write for (``users``, else every profiled user), a seeded sample of ``sample`` of them
    when asked; and how many profiled users the graph has."""
    profiled = grounding.profiled_users(store)
    chosen = list(users) if users is not None else profiled
    if sample is not None and sample < len(chosen):
        chosen = sorted(random.Random(seed).sample(chosen, sample))
    return chosen, len(profiled)


def _segment_rows(
    store: GraphStore, writer: Writer, *, lifts: dict[int, float | None] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    names, descriptions = [], []
    for seg in grounding.read_segments(store, lifts=lifts):
        facts = grounding.segment_facts(seg, language=writer.language)
        name = writer.write("segment_name", facts, template.segment_name(seg, language=writer.language))
        desc = writer.write("segment_description", facts, template.segment_description(seg, language=writer.language))
        names.append({"segment": seg.id, **name})
        descriptions.append({"segment": seg.id, **desc})
    return names, descriptions


def _user_rows(
    ground: grounding.UserGround, writer: Writer, *, model_reasons: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lang = writer.language
    facts = grounding.user_facts(ground, language=lang)
    profile = {"user": ground.user, **writer.write("profile", facts, template.user_text(ground, language=lang))}
    reasons = []
    for rec in ground.recommendations:
        written = writer.write(
            "reason",
            grounding.reason_facts(rec, language=lang),
            template.reason_text(rec, language=lang),
            use_model=rec.rank <= model_reasons,
        )
        reasons.append({"user": ground.user, "product": rec.product.id, **written})
    return profile, reasons


def write_texts(
    store: GraphStore,
    settings: Settings,
    *,
    run: str | None = None,
    model: TextModel | None = None,
    users: Sequence[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    language: str | None = None,
    lifts: dict[int, float | None] | None = None,
    model_reasons: int = MODEL_REASONS,
    progress: Progress | None = None,
) -> TextReport:
    """Write the profile texts, segment names and descriptions, and reason sentences of the profiles in the
    graph (run ``run``, default: the run the graph's segments come from), with ``model`` (None: the
    template). ``users`` limits them to those pseudonyms, ``sample`` to a seeded sample of that many;
    ``language`` is the shop's (default: its reviews' majority language); ``lifts`` are the segments' lifts
    from the profiles report; the model writes the reason sentences of each user's first ``model_reasons``
    recommendations. Texts of earlier runs are removed."""
    started = time.perf_counter()
    if sample is not None and sample < 1:
        raise ValueError(f"sample must be a positive number of users, got {sample}")
    run = run or grounding.profiles_run(store)
    if run is None:
        raise ConfigError("no profiles in the graph to write texts for", hint="run kg profiles first")
    language = language or grounding.shop_language(store)
    catalogue = None
    if model is not None:
        from kg.profiles.text.checker import Catalogue

        catalogue = Catalogue.from_names(grounding.catalogue_names(store))
    writer = Writer(model, catalogue, language=language, debug=settings.text_debug)
    report = TextReport(run=run, route=settings.text_route, model=writer.model_name, language=language)
    if model is not None and writer.model is None:
        report.notes.append(
            f"the shop's reviews are in {language!r}: the model writes English only, so every text is the template's"
        )
    chosen, report.users_in_graph = _pick_users(store, users, sample, seed)
    _say(progress, f"texts: {len(chosen):,} users and the segments ({report.route} route, model {writer.model_name})")
    names, descriptions = _segment_rows(store, writer, lifts=lifts)
    with writer_lock(settings, what="kg profiles --text"):
        write_segment_texts(store, "name", names, run=run)
        write_segment_texts(store, "description", descriptions, run=run)
    done = 0
    for start in range(0, len(chosen), USERS_PER_BATCH):
        profiles, reasons = [], []
        for ground in grounding.read_users(store, chosen[start : start + USERS_PER_BATCH]):
            profile, rows = _user_rows(ground, writer, model_reasons=model_reasons)
            profiles.append(profile)
            reasons += rows
        with writer_lock(settings, what="kg profiles --text"):
            write_user_texts(store, profiles, run=run)
            write_reason_texts(store, reasons, run=run)
        done += len(profiles)
        _say(progress, f"texts: {done:,} of {len(chosen):,} users written")
    with writer_lock(settings, what="kg profiles --text"):
        report.cleared = clear_stale_texts(store, run=run)
    writer.fill(report)
    report.users = done
    report.seconds = round(time.perf_counter() - started, 3)
    report.seconds_per_user = round(report.seconds / done, 4) if done else None
    return report


def drop_stale_texts(store: GraphStore, settings: Settings, *, run: str) -> dict[str, int]:
    """Remove the texts of earlier profiles runs than ``run`` (``kg profiles`` without texts): they describe
    segments and recommendations that are no longer there."""
    with writer_lock(settings, what="kg profiles"):
        return clear_stale_texts(store, run=run)
