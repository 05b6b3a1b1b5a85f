"""Headless Chromium (Debian's, driven by Playwright) and a page on a second origin, shared by
the browser tests and `python -m evals.screenshots`."""

from __future__ import annotations

import functools
import html
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = os.environ.get("CHATBOT_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ridgeline Outfitters: Trail boots</title>
<style>
  /* A shop's own styles, deliberately greedy: none of this may reach the widget. */
  body {{ font-family: Georgia, serif; margin: 2rem; color: #333; }}
  button {{ background: rgb(255, 0, 0) !important; font-size: 40px !important; }}
  .bubble, .panel, .msg {{ border: 5px solid lime; }}
</style></head>
<body>
<h1>Trailhead hiking boots</h1>
<p>Waterproof leather boots for long days on the trail. <a href="#reviews">Reviews</a></p>
<div class="bubble" id="host-bubble">The shop's own element that happens to share a class name.</div>
<script src="{api}/widget.js" data-key="{key}" {token} data-title="Ridgeline help"
        data-accent="#2b8a3e" data-poll-ms="1000" defer></script>
</body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output readable
        pass


@contextmanager
def shop_site(folder: Path) -> Iterator[str]:
    """Serve `folder` as a static site on its own loopback origin; yield the origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_shop_page(folder: Path, name: str, api: str, key: str, customer_token: str | None = None) -> str:
    """A product page embedding the widget with one script tag; return its file name."""
    token = f'data-customer-token="{html.escape(customer_token)}"' if customer_token else ""
    (folder / name).write_text(SHOP_PAGE.format(api=api, key=key, token=token), encoding="utf-8")
    return name


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium browser under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
