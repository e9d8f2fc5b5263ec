"""The reviews package's shape: word lists are data files, one-way imports, small functions."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kg.ingest.reviews
from kg.ingest.reviews import wordlists
from kg.ingest.reviews.lexicons import LANGUAGES, default_synonyms, generic_nouns, get_lexicon
from kg.ingest.reviews.normalise import AspectNormaliser

PACKAGE = Path(kg.ingest.reviews.__file__).resolve().parent
DATA = PACKAGE / "data"
#: the modules of the second pass (pii.py, readers.py and cli.py belong to others)
OWNED = [
    "blank.py",
    "components.py",
    "discovery.py",
    "inflect.py",
    "language.py",
    "lexicons.py",
    "loader.py",
    "normalise.py",
    "pipeline.py",
    "sentiment.py",
    "synthetic.py",
    "text.py",
    "wordlists.py",
]


WORD_LIST = re.compile(r"^[^\W\d_][\w' ;\n-]*$")  # only words, blanks and separators


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_lexicons_never_import_normalise() -> None:
    assert "kg.ingest.reviews.normalise" not in _imports(PACKAGE / "lexicons.py")
    assert "kg.ingest.reviews.lexicons" in _imports(PACKAGE / "normalise.py")
    for base in ("wordlists.py", "inflect.py"):  # the bottom of the package imports neither
        assert not {"kg.ingest.reviews.lexicons", "kg.ingest.reviews.normalise"} & _imports(PACKAGE / base)
    code = (
        "import sys, ingest.reviews.lexicons as L; L.get_lexicon('en').aspect_form(['batteries']); "
        "print('kg.ingest.reviews.normalise' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _constant(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant)


@pytest.mark.parametrize("name", OWNED)
def test_no_word_lists_in_code(name: str) -> None:
    """Literal word maps, word collections and long word strings belong in data/, not in modules."""
    tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Dict) and all(map(_constant, [*node.keys, *node.values])):
            assert len(node.keys) <= 8, f"{where}: word map of {len(node.keys)} entries"
        elif isinstance(node, (ast.List, ast.Set, ast.Tuple)) and all(map(_constant, node.elts)):
            assert len(node.elts) <= 10, f"{where}: literal of {len(node.elts)} items"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and WORD_LIST.match(node.value):
            assert len(node.value.split()) <= 12, f"{where}: a word list of {len(node.value.split())} words"


@pytest.mark.parametrize("name", OWNED)
def test_functions_are_short(name: str) -> None:
    tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body_start = node.body[0].lineno
            if isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None), ast.Constant):
                body_start = node.body[0].end_lineno + 1 if len(node.body) > 1 else node.body[0].lineno
            length = node.end_lineno - body_start + 1
            assert length <= 50, f"{name}:{node.lineno} {node.name} has {length} lines of body"


def test_every_data_file_parses_and_is_used() -> None:
    files = sorted(p.name for p in DATA.iterdir() if p.is_file())
    assert {f"lexicon_{lang}.json" for lang in LANGUAGES} <= set(files)
    for name in files:
        if name.endswith(".json"):
            assert wordlists.load_json(name), name
        else:
            assert wordlists.load_words(name), name
    # what the modules serve is what the files say
    de = json.loads((DATA / "lexicon_de.json").read_text(encoding="utf-8"))
    lex = get_lexicon("de")
    assert dict(lex.opinions) == de["opinions"] and lex.aspects == frozenset(de["aspects"])
    assert (lex.negation_word, lex.too_word) == (de["negation_word"], de["too_word"])
    assert default_synonyms() == json.loads((DATA / "synonyms.json").read_text(encoding="utf-8"))
    assert "husband" in generic_nouns() and "#" not in "".join(generic_nouns())
    en = get_lexicon("en")
    assert en.opinion_valence("fast") == 0.5 and en.opinion_valence("great") is not None  # file + VADER
    assert en.opinion_valence("gift") is None  # excluded from VADER by the file
    assert en.opinion_valence("battery") is None  # aspects never count as opinions


def test_word_lists_load_once_and_callers_cannot_corrupt_them() -> None:
    wordlists.load_json("synonyms.json")
    hits = wordlists.load_json.cache_info().hits
    norm = AspectNormaliser(synonyms={"shipping": "parcel"})
    assert norm(["shipping"]) == "parcel"
    assert default_synonyms()["shipping"] == "delivery"  # the override stayed in the normaliser
    assert wordlists.load_json.cache_info().hits > hits
    assert get_lexicon("fr") is get_lexicon("fr")
    assert get_lexicon("xx").opinions == {} and not get_lexicon("xx").aspects


def test_unknown_data_file_is_reported() -> None:
    assert not wordlists.has_data("lexicon_zz.json")
    with pytest.raises(FileNotFoundError):
        wordlists.load_json("lexicon_zz.json")
