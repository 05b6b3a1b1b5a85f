"""Screenshots of the widget on a shop page, the Gradio chat page and the agent console,
taken in headless Chromium against a live desk on the configured model (the embedded
SmolLM2 by default) and a scratch copy of the demo shop; and of the inbox the README shows
(the waiting queue, a live conversation a person has claimed, the analytics page), written
to docs/screenshots.

    make screenshots            # or: python -m evals.screenshots [--out reports/screenshots]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from tqdm import tqdm

from evals.browser import chromium, shop_site, write_shop_page
from evals.live_server import serving
from evals.scratch_desk import scratch_desk

OUT_DIR = Path(__file__).resolve().parent.parent / "reports" / "screenshots"
README_DIR = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PERSON = ("I want to talk to a real person please.", "Can a human call me back about my refund? This is taking forever.")
KEY = "pk_screenshots"
VIEWPORT = {"width": 1280, "height": 820}
TIMEOUT_MS = 300_000
ANGRY = ("My order is late AGAIN, third time this year. I'm furious.",
         "Please close my account, I won't be back.")


def ask(page, question: str) -> None:
    """Ask through the open widget and wait for the finished answer (its sources or an error)."""
    done = page.locator(".sources, .msg.error, .note")
    before = done.count()
    page.fill("#sd-input", question)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#shopdesk-widget').shadowRoot"
                           f".querySelectorAll('.sources, .msg.error, .note').length > {before}",
                           timeout=TIMEOUT_MS)


def take(out: Path, readme: Path = README_DIR) -> list[Path]:
    from chatbot.api import create_app
    from chatbot.console.accounts import create_agent
    from chatbot.identity import mint_token

    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch, chromium() as browser:
        home, pages = Path(scratch), Path(scratch) / "site"
        pages.mkdir()
        with shop_site(pages) as shop, scratch_desk(home, widget_keys={KEY: [shop]}) as desk:
            password = secrets.token_urlsafe(16)
            create_agent(desk.sessions, "demo-agent", password)
            with serving(create_app(desk=desk)) as api:
                token = mint_token(3, desk.settings.secret_key.get_secret_value())
                steps = tqdm(total=8, desc="screenshots", unit="shot")

                def shot(page, name: str, folder: Path = out) -> None:
                    path = folder / f"{name}.png"
                    page.screenshot(path=str(path))
                    shots.append(path)
                    steps.update()

                page = browser.new_page(viewport=VIEWPORT)
                page.goto(f"{shop}/{write_shop_page(pages, 'boots.html', api, KEY, token)}")
                page.click("button.bubble")
                ask(page, "How long do I have to return an item?")
                shot(page, "widget")
                for message in ANGRY:
                    ask(page, message)
                    if page.locator(".offer").count():
                        break
                if page.locator(".offer").count():
                    page.locator(".offer").scroll_into_view_if_needed()
                shot(page, "widget-upset-shopper")

                chat = browser.new_page(viewport=VIEWPORT)
                chat.goto(api + "/")
                box = chat.get_by_role("textbox").last
                box.fill("Do you ship to Canada, and how much does it cost?")
                box.press("Enter")
                chat.get_by_text("Sources:").last.wait_for(timeout=TIMEOUT_MS)
                shot(chat, "chat-page")

                console = browser.new_page(viewport=VIEWPORT)
                console.goto(api + "/agent")
                console.fill("input[name=username]", "demo-agent")
                console.fill("input[name=password]", password)
                console.click("button[type=submit]")
                shot(console, "console-list")
                console.goto(api + "/agent?risk=high")
                console.locator("tbody tr a").first.click()
                shot(console, "console-transcript")

                # The inbox: two shoppers ask for a person while an agent's console is open.
                shoppers = []
                for customer, message in zip((5, 8), PERSON):
                    shopper = browser.new_page(viewport=VIEWPORT)
                    token = mint_token(customer, desk.settings.secret_key.get_secret_value())
                    shopper.goto(f"{shop}/{write_shop_page(pages, f'person-{customer}.html', api, KEY, token)}")
                    shopper.click("button.bubble")
                    shopper.fill("#sd-input", message)
                    shopper.keyboard.press("Enter")
                    shopper.locator(".handoff-text").wait_for(timeout=TIMEOUT_MS)
                    shoppers.append(shopper)
                console.goto(api + "/agent")
                console.locator("li[data-handoff]").nth(1).wait_for(timeout=TIMEOUT_MS)
                shot(console, "inbox-queue", readme)
                console.locator("li[data-handoff]").first.get_by_role("button", name="Claim").click()
                console.locator('[data-handoff-state="assigned"]').wait_for(timeout=TIMEOUT_MS)
                console.fill("#note-text", "Second contact about this refund: be generous.")
                console.get_by_role("button", name="Add note").click()
                console.locator('[data-event="note"]').wait_for(timeout=TIMEOUT_MS)
                console.fill("#reply-text", "Hi, this is Sam from the support team. I'm looking at your order now.")
                console.get_by_role("button", name="Send reply").click()
                console.locator('[data-event="agent_reply"]').first.wait_for(timeout=TIMEOUT_MS)
                shot(console, "inbox-conversation", readme)
                console.get_by_role("button", name="Resolve").click()
                console.locator('[data-event="resolved"]').wait_for(timeout=TIMEOUT_MS)
                for shopper in shoppers:  # the one whose conversation was resolved rates it
                    stars = shopper.locator(".rating .stars button")
                    try:
                        stars.first.wait_for(timeout=15_000)
                    except PlaywrightTimeout:
                        continue  # still waiting for a person
                    stars.nth(4).click()
                    shopper.locator(".rating .send-rating").click()
                    shopper.locator(".handoff .rated").wait_for(timeout=TIMEOUT_MS)
                console.goto(api + "/agent/analytics?days=7")
                shot(console, "analytics", readme)
                steps.close()
                for open_page in (page, chat, console, *shoppers):  # before the server stops under them
                    open_page.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the PNG files")
    parser.add_argument("--readme-out", type=Path, default=README_DIR, help="folder for the README's inbox shots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.readme_out.mkdir(parents=True, exist_ok=True)
    for path in take(args.out, args.readme_out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
