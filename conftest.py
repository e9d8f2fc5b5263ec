"""Root pytest configuration: only ``tests/`` is collected (docstring examples run from tests/test_doctests.py)."""

collect_ignore_glob = ["bench/*", "build/*", ".venv/*"]
