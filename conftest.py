"""Root pytest configuration: docstring examples in the packages run as tests (``--doctest-modules``)."""

collect_ignore_glob = ["kg/cli/__main__.py", "bench/*", "build/*", ".venv/*"]
