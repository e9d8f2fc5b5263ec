"""The explorer page end to end in headless Chromium (Debian's ``chromium``, driven by Playwright):
search a product, expand a node by clicking it, run a library query, download its CSV, take a screenshot.

Install: ``apt-get install -y chromium`` and ``pip install playwright`` (never ``playwright install``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kg.foundation.settings import Settings
from kg.store import GraphStore
from kg.store.falkordb_server import free_port
from tests import helpers
from tests.helpers import serve_app

TOKEN = "e2e-token-0123456789abcdef"
CHROMIUM, ARGS = helpers.CHROMIUM, helpers.CHROMIUM_ARGS


@pytest.fixture
def served(settings: Settings, shop: GraphStore, library: ModuleType) -> Iterator[str]:
    """The explorer (with a token) on a free loopback port, served by uvicorn in a thread."""
    pytest.importorskip("uvicorn")
    from kg.analyst.explore.app import create_app

    with serve_app(create_app(settings, token=TOKEN, store=shop, library=library), free_port()) as url:
        yield url


def _click_node(page, node_id: str) -> None:  # type: ignore[no-untyped-def]
    """A real mouse click on a node drawn on the canvas."""
    point = page.evaluate(
        """(id) => {
        const cy = window.kgExplorer.cy, pos = cy.getElementById(id).renderedPosition();
        const box = cy.container().getBoundingClientRect();
        return {x: box.left + pos.x, y: box.top + pos.y};
    }""",
        node_id,
    )
    page.mouse.click(point["x"], point["y"])


def _drawn(page) -> set[str]:  # type: ignore[no-untyped-def]
    return set(page.evaluate("() => window.kgExplorer.cy.nodes().map(n => n.id())"))


def test_explorer_in_headless_chromium(served: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="pip install playwright (Chromium: apt-get install -y chromium)"
    )
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{served}/#token={TOKEN}")
            page.wait_for_function("() => document.querySelectorAll('#query option').length > 0")
            assert "token" not in page.url  # the token left the address bar

            # search a known product and open its neighbourhood
            page.select_option("#label", "Product")
            page.fill("#q", "red mug")
            page.click("#search-btn")
            page.wait_for_selector("#results button[data-node='Product:P1']")
            page.click("#results button[data-node='Product:P1']")
            page.wait_for_function("() => window.kgExplorer.cy.getElementById('Brand:Acme').nonempty()")
            assert {"Product:P1", "Brand:Acme", "Category:Home > Kitchen", "Aspect:handle"} <= _drawn(page)
            assert "Product:P2" not in _drawn(page)
            assert page.text_content("#details h3").endswith("Red Mug")

            # expand the brand by clicking it: its other product appears
            page.wait_for_function("() => document.body.dataset.busy === '0'")
            _click_node(page, "Brand:Acme")
            page.wait_for_function("() => window.kgExplorer.cy.getElementById('Product:P2').nonempty()")
            edges = page.evaluate("() => window.kgExplorer.cy.edges().map(e => e.data('type'))")
            assert edges.count("HAS_BRAND") == 2

            # run a library query: drawn as a graph, and as a table
            page.select_option("#query", "product_overview")
            page.fill("#params input[name='product']", "P1")
            page.click("#run")
            page.wait_for_function(
                "() => document.getElementById('status').textContent.startsWith('product_overview: 1 rows')"
            )
            assert {"Product:P1", "Brand:Acme", "Category:Home > Kitchen"} <= _drawn(page)
            assert "Product:P2" not in _drawn(page)  # the result replaced the graph
            page.click("#show-table")
            headers = page.locator("#table th").all_text_contents()
            assert headers[:3] == ["product", "title", "price"]
            assert page.locator("#table td").nth(1).text_content() == "Red Mug"

            # the CSV download
            with page.expect_download() as download:
                page.click("#csv")
            csv_path = tmp_path / "product_overview.csv"
            download.value.save_as(csv_path)
            lines = csv_path.read_text(encoding="utf-8").splitlines()
            assert lines[0].startswith("product,title,price,brand") and lines[1].startswith("P1,Red Mug,9.5,Acme")

            page.click("#show-graph")
            shot = tmp_path / "explorer.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 0
        finally:
            browser.close()
    assert errors == [], errors
