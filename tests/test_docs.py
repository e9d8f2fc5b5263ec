"""The documentation against the code: examples in every ``--help``, a complete CLI reference in the
README, no issue-tracker numbers in user documents, and no broken relative links.

Each check is a pure function over text, tested on a bad input too, so that a check that can no
longer fail is noticed.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from kg.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
REFERENCE_HEADING = "## CLI reference"


def user_documents() -> list[Path]:
    """README, CHANGELOG and every Markdown file under docs/."""
    return [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]


def command_paths() -> list[tuple[str, object]]:
    """Every command and group of the real CLI as ("kg db start", click command), the root first."""

    def walk(command: object, path: str) -> list[tuple[str, object]]:
        found = [(path, command)]
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            found += walk(sub, f"{path} {name}")
        return found

    return walk(typer.main.get_command(app), "kg")


# ------------------------------------------------------------------------------------------ text helpers


def without_fences(text: str) -> str:
    """The Markdown text with fenced code blocks blanked out."""
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)


def without_code(text: str) -> str:
    """The Markdown text with fenced blocks and inline code spans blanked out (prose only)."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


def has_example(help_text: str, path: str) -> bool:
    """True when the help shows an example: a line starting with "Example", or a line (not the usage
    line) that starts with the command itself, as in ``kg ingest runs --json``."""
    for line in help_text.splitlines():
        line = line.strip()
        if line.startswith("Example"):
            return True
        if not line.startswith("Usage:") and re.match(re.escape(path) + r"(\s|$)", line) and path != "kg":
            return True
    return False


def section(text: str, heading: str) -> str:
    """The body of a ``## `` section, up to the next ``## `` heading ("" when there is none)."""
    if heading + "\n" not in text:
        return ""
    return text.split(heading + "\n", 1)[1].split("\n## ", 1)[0]


def missing_from_reference(paths: list[str], reference: str) -> list[str]:
    """The command paths the reference never names (as a whole word: "kg db" does not cover "kg dbx")."""
    return [p for p in paths if not re.search(re.escape(p) + r"(?![\w-])", reference)]


def documented_commands(reference: str) -> list[str]:
    """The command paths in the first column of the reference's table."""
    return re.findall(r"^\| `(kg(?: [a-z][\w-]*)*)` \|", reference, flags=re.M)


_ISSUE = re.compile(
    r"\b(?:issues?|bugs?|tickets?|PRs?|pull requests?)\s*#?\d+"  # "issue 17", "PR #3"
    r"|(?<![\w&/#])#\d+\b"  # "#17" (not a colour or an anchor in code)
    r"|\((?!(?:19|20)\d\d\))\d{1,5}\)",  # "(17)", not a year such as "(2018)"
    re.IGNORECASE,
)


def issue_numbers(text: str) -> list[str]:
    """Issue-tracker references in the prose of a Markdown text."""
    return [m.group(0) for m in _ISSUE.finditer(without_code(text))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a Markdown text (duplicates get -1, -2, ... as on GitHub)."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", without_fences(text), flags=re.M):
        base, n = slug(heading), 0
        while (base if n == 0 else f"{base}-{n}") in found:
            n += 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(path: Path, text: str) -> list[str]:
    """Relative links of a Markdown file whose file, or whose anchor in a Markdown file, does not exist."""
    bad = []
    for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", without_code(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):  # http:, https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        if not file_part:  # an anchor in this very text
            if anchor not in anchors(text):
                bad.append(f"{path.name}: {target} (no such heading)")
            continue
        destination = (path.parent / file_part).resolve()
        if not destination.exists():
            bad.append(f"{path.name}: {target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination.read_text(encoding="utf-8")):
            bad.append(f"{path.name}: {target} (no such heading)")
    return bad


# ------------------------------------------------------------------------------------------ the checks


def test_every_command_help_shows_an_example() -> None:
    commands = command_paths()
    assert len(commands) > 30  # groups and their commands are all reached
    runner = CliRunner()
    missing = []
    for path, _ in commands:
        result = runner.invoke(app, [*path.split()[1:], "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        if not has_example(result.output, path):
            missing.append(path)
    assert missing == [], "add an 'Example: kg ...' line to these commands' docstrings / help="


def test_every_command_is_in_the_readme_reference() -> None:
    reference = section(README.read_text(encoding="utf-8"), REFERENCE_HEADING)
    assert reference, f"the README has no '{REFERENCE_HEADING}' section"
    paths = [path for path, _ in command_paths()]
    assert missing_from_reference(paths, reference) == []
    assert sorted(set(documented_commands(reference)) - set(paths)) == []  # no stale row


def test_no_issue_numbers_in_user_documents() -> None:
    found = {path.name: issue_numbers(path.read_text(encoding="utf-8")) for path in user_documents()}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_relative_links_point_to_existing_files() -> None:
    documents = user_documents()
    assert len(documents) > 3
    bad = [b for path in documents for b in broken_links(path, path.read_text(encoding="utf-8"))]
    assert bad == []


def test_the_quick_start_keeps_its_two_commands() -> None:
    quick = section(README.read_text(encoding="utf-8"), "## Quick start (two commands)")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in quick and re.search(rf"^{target}:", makefile, flags=re.M)


# ------------------------------------------------------------------------------------------ the checks can fail


def test_has_example_rejects_a_help_without_one() -> None:
    bare = "Usage: kg db start [OPTIONS]\n\n  Start the local database server.\n\nOptions:\n  --help\n"
    assert not has_example(bare, "kg db start")  # the usage line is no example
    assert has_example(bare.replace("server.", "server.\n\n  Example: kg db start"), "kg db start")
    assert has_example("  Start it.\n\n  kg db start --backend neo4j\n", "kg db start")
    assert not has_example("  Start it.\n\n  kg db stop\n", "kg db start")


def test_missing_from_reference_names_what_is_missing() -> None:
    reference = "| `kg db start` | start | `kg db start` |\n| `kg dbx` | x | x |\n"
    assert missing_from_reference(["kg db start", "kg db stop", "kg db"], reference) == ["kg db stop"]
    assert missing_from_reference(["kg db"], "| `kg dbx` |") == ["kg db"]
    assert documented_commands(reference) == ["kg db start", "kg dbx"]
    assert section("# t\n\n## A\n\na\n\n## B\n\nb\n", "## A") == "\na\n"
    assert section("# t\n", "## A") == ""


def test_issue_numbers_are_found_in_prose_only() -> None:
    bad = "Fixed in issue 17; see #8 and the parser (12), like PR #3."
    assert issue_numbers(bad) == ["issue 17", "#8", "(12)", "PR #3"]
    fine = (
        "Colours `#2f6fde`, phones `(555) 123-4567`, [a link](#section-2), 16 queries, (see below), data (2018).\n"
        "```\ncurl -H 'issue 4'\n```\n"
    )
    assert issue_numbers(fine) == []


def test_broken_links_are_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Where events live\n\n```\n# not a heading\n```\n")
    page = tmp_path / "README.md"
    text = (
        "[ok](docs/guide.md) [ok](docs/guide.md#where-events-live) [web](https://example.org/x) "
        "[here](#top) [nowhere](#bottom) [gone](docs/missing.md)\n"
        "[bad anchor](docs/guide.md#not-a-heading)\n\n# Top\n\n"
        "`[code](nowhere.md)`\n"
    )
    assert broken_links(page, text) == [
        "README.md: #bottom (no such heading)",
        "README.md: docs/missing.md (no such file)",
        "README.md: docs/guide.md#not-a-heading (no such heading)",
    ]
    assert slug("Analyst queries: `kg query`") == "analyst-queries-kg-query"
    assert slug("Several processes on one KG_HOME") == "several-processes-on-one-kg_home"
    assert anchors("# A\n## A\n## Exports (`--sql`)\n") == {"a", "a-1", "exports---sql"}
