"""Neo4j Browser end to end in headless Chromium (Debian's ``chromium``, driven by Playwright), against the
session's local Neo4j: log in, kg's guide (served by the explorer) opens on connect
(``browser.post_connect_cmd``), a guide query runs from its runnable blocks, a graph is drawn, a screenshot.

Install: ``apt-get install -y chromium`` and ``pip install playwright`` (never ``playwright install``).
The screenshot is kept under the test's tmp_path, and copied to ``$KG_TEST_ARTIFACTS`` when that is set.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.store import open_store
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, neo4j_settings, serve_app

ARGS = CHROMIUM_ARGS
PRODUCT = "B004LLIKVU"  # the example product of the guide's product slides (their :params blocks)
#: one product of the guide's examples with its brand, category, two viewers, a buyer, a review and a partner
SHOP = """
CREATE (p:Product {id: 'B004LLIKVU', title: 'Gift Card in a Box', price: 25.0}),
       (q:Product {id: 'B00IX1I3G6', title: 'Birthday eGift Card', price: 10.0}),
       (b:Brand {name: 'Amazon'}), (c:Category {path: 'Gift Cards > Boxes', name: 'Boxes', depth: 2}),
       (u1:User {id: 'pseudonym-1'}), (u2:User {id: 'pseudonym-2'}), (r:Review {id: 'R1', rating: 5}),
       (p)-[:HAS_BRAND]->(b), (q)-[:HAS_BRAND]->(b), (p)-[:IN_CATEGORY]->(c),
       (u1)-[:VIEWED {count: 2}]->(p), (u1)-[:PURCHASED {count: 1}]->(p), (u2)-[:VIEWED {count: 1}]->(p),
       (r)-[:ABOUT]->(p), (p)-[:BOUGHT_TOGETHER {count: 3}]->(q),
       (:Segment {id: 1, size: 2, label: 'Amazon · Gift Cards > Boxes', name: 'Boxed gift givers',
                  description: 'Two shoppers who give boxed Amazon gift cards.', name_source: 'model',
                  name_model: 'SmolLM2-135M-Instruct.Q4_1 (local)', name_run: 'run-1'})
"""


@pytest.fixture
def browser_env(neo4j_server: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """The session Neo4j holding the small graph above, and kg's explorer on the port its
    ``browser.post_connect_cmd`` names (uvicorn in a thread)."""
    if "http" not in neo4j_server:
        pytest.skip(
            "the session Neo4j is an external one (KG_TEST_NEO4J_URI): its Browser port and guide URL are unknown"
        )
    pytest.importorskip("uvicorn")
    from kg.analyst.explore.app import create_app

    settings = neo4j_settings(neo4j_server, tmp_path / "home")
    with open_store(settings) as store:
        store.clear()
        store.execute(SHOP)
    try:
        with serve_app(create_app(settings), int(neo4j_server["explore_port"])):
            yield neo4j_server
    finally:
        with open_store(settings) as store:
            store.clear()


def _sync_api() -> Any:
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium: apt-get install -y chromium")
    return pytest.importorskip(
        "playwright.sync_api", reason="pip install playwright (Chromium: apt-get install -y chromium)"
    )


def _log_in(page: Any, env: dict[str, str], errors: list[str], failure: Path) -> None:
    """Open Neo4j Browser, log in as neo4j, and wait for kg's guide (post_connect_cmd) in the Guides drawer."""
    page.set_default_timeout(120_000)  # a busy 2-core CI machine
    # Browser also asks the internet for fonts and analytics, and probes the Bolt port over HTTP: not its failures
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    bolt_port = env["uri"].rsplit(":", 1)[1]
    page.goto(f"http://127.0.0.1:{env['http']}/browser/?dbms=bolt://127.0.0.1:{bolt_port}")
    page.fill("input[data-testid=username]", "neo4j")
    page.fill("input[data-testid=password]", env["password"])
    page.click("button[data-testid=connect]")
    page.wait_for_selector("text=You are connected as user")
    guide_url = f"http://127.0.0.1:{env['explore_port']}/guide/kg.md"
    try:
        page.wait_for_selector("h1:text-is('kg: the analyst query library')", timeout=90_000)
    except Exception:  # noqa: BLE001 - say what Browser showed instead
        page.screenshot(path=str(failure))
        drawer = page.locator("[data-testid=guidesDrawer]").all_inner_texts()
        hint = (
            (
                " (Browser compares the guide's host, or scheme://host, never host:port, with the server's "
                "browser.remote_content_hostname_whitelist)"
            )
            if "allowlist" in str(drawer)
            else ""
        )
        pytest.fail(
            f"kg's guide {guide_url} did not open on connect; Guides drawer: {drawer}{hint}; "
            f"errors: {errors}; screenshot: {failure}"
        )
    # the drawer's title is the guide's URL: the one post_connect_cmd names
    assert page.locator("[data-testid=guidesBackButton] >> xpath=..").inner_text().strip() == guide_url


def _goto_slide(page: Any, name: str) -> None:
    for _ in range(40):
        if page.locator(f"h2:text-is('{name}')").count():
            return
        page.click("[data-testid=guideNextSlide]")
    raise AssertionError(f"no slide {name!r} in kg's guide")


def _run_editor(page: Any, text: str | None = None) -> None:
    """Run what the main editor holds (after replacing it with ``text`` when given)."""
    page.locator("[data-testid=activeEditor] .monaco-editor").first.click()
    if text is not None:
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(text)
    page.click("[data-testid=editor-Run]")


def _new_frame(page: Any, command: str, before: int) -> None:
    """Wait for a frame newer than the ``before`` ones, whose command starts with ``command``."""
    page.wait_for_function(
        "([cmd, n]) => { const fs = document.querySelectorAll('[data-testid=frameCommand]');"
        " return fs.length > n && fs[0].textContent.replace(/\\s+/g, ' ').trim().startsWith(cmd); }",
        arg=[" ".join(command.split())[:30], before],
    )


def _frames(page: Any) -> int:
    return page.locator("[data-testid=frameCommand]").count()


def _params_shown(page: Any, names: list[str]) -> str:
    """Run ``:params`` until the parameters ``names`` are set (a ``:param x => v`` is evaluated by the server);
    the frame's text."""
    for _ in range(20):
        before = _frames(page)
        _run_editor(page, ":params")
        _new_frame(page, ":params", before)
        shown = _top_frame(page).inner_text()
        if all(f'"{name}"' in shown for name in names):
            return shown
        time.sleep(0.5)  # (a) a poll of the real condition, bounded (20 tries), then an error saying so
    raise AssertionError(f"the guide's block did not set {names}: {shown}")


def _run_blocks(page: Any, names: list[str]) -> tuple[list[str], str]:
    """Click each runnable block of the current slide (it fills the editor) and run it: the blocks' text, and
    the parameters Browser holds after the parameter block (it sets ``names``)."""
    blocks = page.locator("[data-testid=guidesDrawer] pre.runnable")
    texts, shown = [], ""
    for i in range(blocks.count()):
        text = blocks.nth(i).inner_text().strip()
        texts.append(text)
        before = _frames(page)
        blocks.nth(i).click()
        _run_editor(page)
        _new_frame(page, text.splitlines()[0], before)
        if text.startswith(":param"):
            shown = _params_shown(page, names)
    return texts, shown


def _top_frame(page: Any) -> Any:
    """The newest result frame (the stream shows the newest first)."""
    return page.locator("[data-testid=frameCommand]").first.locator("xpath=ancestor::*[@data-testid='frame'][1]")


def test_neo4j_browser_opens_kg_guide_runs_a_query_and_draws_a_graph(
    browser_env: dict[str, str], tmp_path: Path
) -> None:
    sync_api = _sync_api()
    errors: list[str] = []
    shot = tmp_path / "neo4j-browser.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            _log_in(page, browser_env, errors, tmp_path / "failure.png")

            # a graph: the guide's product_neighbourhood slide, run from its blocks
            _goto_slide(page, "product_neighbourhood")
            texts, shown = _run_blocks(page, ["product"])
            assert texts[1].startswith("MATCH path = (p:Product {id: $product})--()")
            page.wait_for_function("() => document.querySelectorAll('svg g.node').length > 0")
            time.sleep(1.5)  # (c) the force layout settles, for the screenshot only: nothing asserted waits on it
            drawn = page.locator("svg g.node").count()
            assert drawn == 7, drawn  # the product, its partner, brand, category, two users, a review
            page.screenshot(path=str(shot))

            # the product_overview slide (a text parameter only): its :params block, then its query
            _goto_slide(page, "product_overview")
            texts, shown = _run_blocks(page, ["product"])
            assert texts[0].startswith(":param") and PRODUCT in texts[0] and f'"product": "{PRODUCT}"' in shown
            assert texts[1].startswith("MATCH (p:Product {id: $product})")
            _top_frame(page).locator("text=Gift Card in a Box").first.wait_for()
            table = _top_frame(page).inner_text()
            assert "Neo.ClientError" not in table, table
            for cell in ("Amazon", "Gift Cards > Boxes", "avg_rating"):
                assert cell in table, table

        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what Browser showed, to debug
            raise
        finally:
            browser.close()
    assert shot.stat().st_size > 0
    if os.environ.get("KG_TEST_ARTIFACTS"):
        target = Path(os.environ["KG_TEST_ARTIFACTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / shot.name)
    assert errors == [], errors


def test_guide_int_parameters_reach_neo4j_as_integers(browser_env: dict[str, str], tmp_path: Path) -> None:
    sync_api = _sync_api()
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            _log_in(page, browser_env, errors, tmp_path / "failure.png")
            _goto_slide(page, "bought_together")  # product text, limit int
            _, shown = _run_blocks(page, ["product", "limit"])
            assert '"limit": 5' in shown and '"limit": 5.0' not in shown, " ".join(shown.split())
            _top_frame(page).locator("text=/Birthday eGift Card|Neo.ClientError/").first.wait_for()
            page.screenshot(path=str(tmp_path / "bought_together.png"))
            frame = _top_frame(page).inner_text()
            assert "Neo.ClientError" not in frame, " ".join(frame.split())[:300]
            assert "Birthday eGift Card" in frame

            # the texts kg profiles --text writes: a segment's name and description, as text, with their model
            _goto_slide(page, "segment_texts")
            _run_blocks(page, [])
            _top_frame(page).locator("text=Boxed gift givers").first.wait_for()
            frame = _top_frame(page).inner_text()
            assert "Neo.ClientError" not in frame, " ".join(frame.split())[:300]
            for cell in ("Two shoppers who give boxed Amazon gift cards.", "SmolLM2-135M-Instruct.Q4_1 (local)"):
                assert cell in frame, " ".join(frame.split())[:300]
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise
        finally:
            browser.close()
