"""Rule-route spaCy pipelines for any language: tokenizer, sentencizer and lemma lookups.

- every language spaCy knows: ``spacy.blank(lang)`` (its tokenizer and stop words), plus the
  ``lookup`` lemmatizer when ``spacy-lookups-data`` has a table for it (English keeps its own
  plural rules, :mod:`kg.ingest.reviews.inflect`);
- Chinese: words segmented by ``jieba`` (else spaCy's per-character segmenter, with a warning);
- Japanese: ``sudachipy`` + ``sudachidict_core`` (spaCy's own Japanese tokenizer: words, lemmas,
  part-of-speech); without them the multi-language tokenizer, with a warning;
- a language spaCy does not know: the multi-language tokenizer ``xx``, with a warning.

Nothing is downloaded at run time; a missing optional piece degrades with a warning, never a crash.

Example:
    >>> [t.text for t in blank_pipeline("zh")("配送很快，质量很好")][:2]
    ['配送', '很快']
"""

from __future__ import annotations

import functools
import logging

import spacy
from spacy.language import Language
from spacy.lookups import Lookups
from spacy.pipeline import Lemmatizer

__all__ = ["blank_pipeline", "lemma_table_available"]

logger = logging.getLogger(__name__)

#: Languages whose lemmas come from our own rules (or from their tokenizer) rather than lookups.
_NO_LOOKUP = frozenset({"en", "ja", "zh", "xx"})


@functools.cache
def _warn_once(message: str) -> None:
    logger.warning(message)


#: languages read with the multi-language tokenizer 'xx' for want of their own (lang -> why): the reviews
#: loader warns at the end of a run, or only notes it when they are a small minority of its reviews
MISSING_TOKENIZERS: dict[str, str] = {}


def _missing_tokenizer(lang: str, message: str) -> None:
    MISSING_TOKENIZERS[lang] = message
    logger.info(message)


def _tokenizer_pipeline(lang: str) -> Language:
    if lang == "zh":
        try:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        except ImportError:
            _warn_once("[W-KG-ZH] jieba is not installed: Chinese is split per character (pip install 'kg[languages]')")
            return spacy.blank("zh")
    try:
        return spacy.blank(lang)
    except ImportError as e:  # ja without sudachipy, ko without its tokenizer, an unknown code
        hint = " (pip install 'kg[languages]')" if lang == "ja" else ""
        _missing_tokenizer(
            lang,
            f"[W-KG-TOKENIZER] no spaCy tokenizer for {lang!r} ({str(e)[:160]}): using the "
            f"multi-language tokenizer 'xx'{hint}",
        )
    except Exception as e:  # noqa: BLE001 - unknown language code
        _missing_tokenizer(
            lang,
            f"[W-KG-TOKENIZER] spaCy has no language {lang!r} ({type(e).__name__}): "
            "using the multi-language tokenizer 'xx'",
        )
    return spacy.blank("xx")


def lemma_table_available(lang: str) -> bool:
    """Whether ``spacy-lookups-data`` ships a ``lemma_lookup`` table for ``lang``."""
    from importlib import resources
    from importlib.util import find_spec

    if find_spec("spacy_lookups_data") is None:
        return False

    return resources.files("spacy_lookups_data").joinpath("data", f"{lang}_lemma_lookup.json.gz").is_file()


@functools.cache
def _lookups(lang: str) -> Lookups:
    """The lemma lookup table of ``lang``, loaded once per process (it takes seconds)."""
    from spacy.lookups import load_lookups

    return load_lookups(lang, ["lemma_lookup"])


def _add_lemmatizer(nlp: Language) -> None:
    lang = nlp.lang
    if lang is None or lang in _NO_LOOKUP:  # None: spaCy's bare base class, which no lookup table fits
        return
    try:
        import spacy_lookups_data  # noqa: F401  (only whether it is installed)
    except ImportError:
        _warn_once(
            "[W-KG-LEMMA] spacy-lookups-data is not installed: no lemmas for languages other than "
            "English (pip install 'kg[reviews]')"
        )
        return
    if not lemma_table_available(lang):
        logger.info("no lemma lookup table for %r: aspects keep their surface form", lang)
        return
    try:
        lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup", "overwrite": False})
        assert isinstance(lemmatizer, Lemmatizer)  # spaCy's "lemmatizer" factory (or a language's subclass of it)
        lemmatizer.initialize(nlp=nlp, lookups=_lookups(lang))
    except Exception as e:  # noqa: BLE001 - a broken table must not stop the run
        _warn_once(f"[W-KG-LEMMA] lemma lookups for {lang!r} failed ({e}): surface forms are used")
        if "lemmatizer" in nlp.pipe_names:
            nlp.remove_pipe("lemmatizer")


def blank_pipeline(lang: str) -> Language:
    """Tokenizer + sentencizer (+ lookup lemmatizer) for ``lang``; see the module doc."""
    nlp = _tokenizer_pipeline(lang)
    nlp.add_pipe("sentencizer")
    _add_lemmatizer(nlp)
    return nlp
