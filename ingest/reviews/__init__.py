"""Reviews into knowledge: spaCy extraction of entities, aspects, opinions and sentiment.

Modules (imported lazily so ``kg --help`` stays fast):

- :mod:`kg.ingest.reviews.text` — cleaning (HTML entities/tags, control chars, truncation counter)
- :mod:`kg.ingest.reviews.pii` — regex PII detection/scrubbing
- :mod:`kg.ingest.reviews.wordlists` — read-only access to the word lists in ``ingest/reviews/data/``
  (lexicons, synonyms, generic nouns, English plurals, synthetic templates), loaded once
- :mod:`kg.ingest.reviews.inflect` — English singular forms
- :mod:`kg.ingest.reviews.lexicons` — per-language :class:`~ingest.reviews.lexicons.Lexicon` (rules for
  en/de/fr/es/it/pt/nl/pl/zh/ja, seed aspects for many more), stop-word language vote (fallback)
- :mod:`kg.ingest.reviews.language` — per-review language identification (langid) with the file's
  majority language for short texts
- :mod:`kg.ingest.reviews.blank` — rules-route spaCy pipelines for any language (tokenizer, jieba for
  Chinese, Sudachi for Japanese, lemma lookups)
- :mod:`kg.ingest.reviews.discovery` — language-independent aspects: frequent noun-like lemmas
- :mod:`kg.ingest.reviews.normalise` — aspect normalisation (plural merging, synonym map); depends on
  ``lexicons``, never the other way round
- :mod:`kg.ingest.reviews.components` — spaCy factories ``kg_pii_scrubber``, ``kg_catalogue_ruler``,
  ``kg_aspects``, ``kg_sentiment``
- :mod:`kg.ingest.reviews.pipeline` — ``build_nlp`` / ``ReviewAnalyser`` (route choice, language dispatch)
- :mod:`kg.ingest.reviews.sentiment` — lexicon scorer, MiniLM encoder / n-gram TF-IDF + logistic
  regression, cross-fitting
- :mod:`kg.ingest.reviews.readers`, :mod:`kg.ingest.reviews.loader` (``kg ingest reviews`` goes through
  :func:`kg.ingest.ingest_file`)
- :mod:`kg.ingest.reviews.synthetic` — seeded synthetic reviews for ``kg demo`` and benchmarks

Example:
    >>> from kg.ingest.reviews.pipeline import ReviewAnalyser
    >>> a = ReviewAnalyser(lang="en").analyse(["The battery life is not great."])[0]
    >>> [(m.aspect, m.opinion) for m in a.aspects]
    [('battery life', 'not great')]
"""

__all__: list[str] = []
