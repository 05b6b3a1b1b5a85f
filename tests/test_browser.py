"""In a real browser (headless Debian Chromium, Playwright): the widget on a shop page of
another origin streams an answer with sources, keeps the conversation across page loads, is
keyboard accessible, leaks no styles, and shows an agent's reply after a take-over; the
Gradio chat page answers with sources. The desk runs the embedded SmolLM2."""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from chatbot.console.accounts import create_agent
from chatbot.identity import mint_token
from shopcore.store.models import Conversation, RetentionOffer
from evals.browser import CHROMIUM, chromium, shop_site, write_shop_page
from evals.live_server import serving
from tests.conftest import make_settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDGET_KEY = "pk_test_browser"
AGENT_PASSWORD = "browser-test-password"
TIMEOUT_MS = 180_000  # a SmolLM2 answer on a busy 2-core machine


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def desk_site(tmp_path_factory, demo_db, retriever, risk_scorer, smollm2):
    """The desk (SmolLM2, demo shop) on one origin and a shop page on another; yields both."""
    from chatbot.api import create_app
    from chatbot.desk import Desk
    from chatbot.llm.generation import HFGenerator
    from chatbot.offers.policy import load_policy
    from shopcore.store.db import make_engine, session_factory

    home = tmp_path_factory.mktemp("browser-desk")
    shutil.copy(demo_db.split("///", 1)[1], home / "desk.db")
    engine = make_engine(f"sqlite:///{home / 'desk.db'}")
    sessions = session_factory(engine)
    create_agent(sessions, "alice", AGENT_PASSWORD)
    pages = tmp_path_factory.mktemp("shop-site")
    with shop_site(pages) as shop_origin:
        settings = make_settings(home, max_new_tokens=40, widget_keys={WIDGET_KEY: [shop_origin]})
        desk = Desk(settings, sessions, HFGenerator(smollm2), retriever, risk_scorer,
                    load_policy(settings.offer_policy))
        app = create_app(desk=desk)
        with serving(app) as api:
            yield {"api": api, "shop": shop_origin, "pages": pages, "desk": desk, "app": app}
    close = getattr(desk.generator, "close", None)  # a batching generator's worker thread
    if close is not None:
        close()
    engine.dispose()


def shop_page(site, name="boots.html", customer_token=None) -> str:
    return site["shop"] + "/" + write_shop_page(site["pages"], name, site["api"], WIDGET_KEY, customer_token)


def active_id(page) -> str:
    """The id/class of the focused element inside the widget's shadow root."""
    return page.evaluate("""() => { const a = document.querySelector('#shopdesk-widget').shadowRoot.activeElement;
                                    return a ? (a.id || a.className) : ''; }""")


def last_bot_text(page) -> str:
    return page.evaluate("""() => { const m = [...document.querySelector('#shopdesk-widget').shadowRoot
                                    .querySelectorAll('.msg.bot')].pop(); return m ? m.firstChild.data : ''; }""")


def ask_widget(page, question: str) -> list[str]:
    """Type a question into the open widget; return the answer's text as it was seen growing."""
    before = page.locator(".sources").count()
    page.fill("#sd-input", question)
    page.keyboard.press("Enter")
    seen, deadline = [], time.monotonic() + TIMEOUT_MS / 1000
    while page.locator(".sources").count() == before and time.monotonic() < deadline:
        text = last_bot_text(page)
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        time.sleep(0.02)
    return seen


def test_a_busy_desk_makes_the_widget_wait_and_ask_again(browser, desk_site):
    """Every answer slot taken: the desk answers 503 with Retry-After before storing anything,
    and the widget says so, waits and asks again, and the answer arrives once a slot is free."""
    slots = desk_site["app"].state.turn_slots
    taken = [slots.take() for _ in range(slots.size)]
    threading.Timer(3, lambda: [slot.release() for slot in taken]).start()
    page = browser.new_page()
    page.goto(shop_page(desk_site))
    page.click("button.bubble")
    seen = ask_widget(page, "Do you ship to Canada?")
    assert any("Trying again in" in text for text in seen), seen
    assert page.locator(".sources").count() == 1 and page.locator(".msg.error").count() == 0
    page.close()


def test_widget_on_another_origin_streams_an_answer_with_sources(browser, desk_site):
    context = browser.new_context()
    page = context.new_page()
    streams = []
    page.on("response", lambda r: streams.append(r.headers.get("content-type", "")) if "/v1/chat" in r.url else None)
    page.goto(shop_page(desk_site))
    page.click("button.bubble")
    assert active_id(page) == "sd-input"  # focus moves into the panel
    seen = ask_widget(page, "How long do I have to return an item?")
    assert streams and streams[0].startswith("text/event-stream")
    partial = [t for t in seen if t != "\u2026"]
    assert len(partial) >= 3, f"the answer did not arrive in pieces: {seen}"
    final = last_bot_text(page)
    assert len(final.split()) >= 5
    titles = page.locator(".msg.bot .sources li").all_inner_texts()
    assert any("Return" in title for title in titles), titles

    page.reload()  # the conversation survives a page load (localStorage)
    page.click("button.bubble")
    assert page.locator(".msg.user").all_inner_texts() == ["How long do I have to return an item?"]
    assert final in page.locator(".msg.bot").last.inner_text()
    with desk_site["desk"].sessions() as session:
        channels = session.scalars(select(Conversation.channel)).all()
    assert "widget" in channels
    context.close()


def test_widget_is_keyboard_accessible_themed_and_leaks_no_styles(browser, desk_site):
    context = browser.new_context()
    page = context.new_page()
    page.goto(shop_page(desk_site, "keyboard.html"))
    bubble = page.locator("button.bubble")
    assert bubble.get_attribute("aria-expanded") == "false"
    bubble.focus()
    page.keyboard.press("Enter")
    assert bubble.get_attribute("aria-expanded") == "true"
    assert page.locator("[role=dialog]").is_visible() and active_id(page) == "sd-input"
    page.keyboard.press("Escape")
    assert not page.locator("[role=dialog]").is_visible()
    assert active_id(page) == "bubble" and bubble.get_attribute("aria-expanded") == "false"
    # The page's `button {background: red !important}` stops at the shadow root; data-accent themes it.
    assert bubble.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(43, 138, 62)"
    host = page.locator("#host-bubble")
    assert host.evaluate("e => getComputedStyle(e).position") == "static"  # widget CSS stays inside
    assert host.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(0, 255, 0)"
    context.close()


def test_agent_takes_over_and_the_reply_reaches_the_widget(browser, desk_site):
    shopper = browser.new_context().new_page()
    token = mint_token(3, desk_site["desk"].settings.secret_key.get_secret_value())
    shopper.goto(shop_page(desk_site, "account.html", customer_token=token))
    shopper.click("button.bubble")
    ask_widget(shopper, "Can somebody check my order status for me please?")

    agent = browser.new_context().new_page()
    agent.goto(desk_site["api"] + "/agent")
    agent.fill("input[name=username]", "alice")
    agent.fill("input[name=password]", AGENT_PASSWORD)
    agent.click("button[type=submit]")
    agent.fill("input[name=q]", "check my order status")
    agent.click("text=Filter")
    agent.locator("tbody tr a").first.click()
    agent.click("text=Take over")
    agent.fill("textarea[name=text]", "Hi, this is Alice from Ridgeline. Let me look into it.")
    agent.click("text=Send reply")
    assert agent.locator(".msg.agent").inner_text().endswith("Let me look into it.")

    shopper.locator(".msg.agent").wait_for(timeout=20_000)  # the widget polls every second
    assert "Alice from Ridgeline" in shopper.locator(".msg.agent").inner_text()
    shopper.fill("#sd-input", "Thank you!")
    shopper.keyboard.press("Enter")
    shopper.locator(".note").wait_for(timeout=20_000)  # the bot stays quiet: a person has it
    assert "person" in shopper.locator(".note").inner_text()


def test_chat_page_answers_with_sources_and_signs_in_a_demo_customer_for_offers(browser, desk_site):
    page = browser.new_page()
    page.goto(desk_site["api"] + "/")
    page.get_by_label("Sign in as a demo customer").wait_for(timeout=60_000)
    page.get_by_text("How long do I have to return an item?").first.wait_for(timeout=60_000)
    box = page.get_by_role("textbox").last
    box.fill("Do you ship to Canada?")
    box.press("Enter")
    page.get_by_text("Sources:").last.wait_for(timeout=TIMEOUT_MS)
    answer = page.locator(".bot, [data-testid=bot]").last.inner_text()
    assert "Shipping" in answer or "shipping" in answer

    page.get_by_label("Sign in as a demo customer").click()  # a signed-in shopper who is leaving
    page.get_by_role("option").nth(2).click()
    box.fill("My order is late again. Please close my account, I won't be back.")
    box.press("Enter")
    page.get_by_text("Code:").last.wait_for(timeout=TIMEOUT_MS)  # the offer card
    with desk_site["desk"].sessions() as session:
        code = session.scalars(select(RetentionOffer.code).order_by(RetentionOffer.id.desc())).first()
    assert code in page.locator(".bot, [data-testid=bot]").last.inner_text()
    page.close()


def test_angry_conversation_shows_an_offer_and_the_agent_finds_it_by_risk(browser, desk_site):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=desk_site["shop"])
    shopper = context.new_page()
    token = mint_token(5, desk_site["desk"].settings.secret_key.get_secret_value())
    shopper.goto(shop_page(desk_site, "angry.html", customer_token=token))
    shopper.click("button.bubble")
    for message in ("My order is late AGAIN. This is the third time, I'm furious.",
                    "Please close my account, I won't be back."):
        ask_widget(shopper, message)
        if shopper.locator(".offer").count():
            break
    card = shopper.locator(".offer")
    card.wait_for(timeout=TIMEOUT_MS)
    code = card.locator("code").inner_text()
    assert code and card.locator("button.copy").is_visible()
    card.locator("button.copy").click()
    expect(card.locator("button.copy")).to_have_text("Copied")
    assert shopper.evaluate("navigator.clipboard.readText()") == code

    agent = browser.new_context().new_page()
    agent.goto(desk_site["api"] + "/agent")
    agent.fill("input[name=username]", "alice")
    agent.fill("input[name=password]", AGENT_PASSWORD)
    agent.click("button[type=submit]")
    agent.select_option("select[name=risk]", "high")
    agent.click("text=Filter")
    agent.locator("tbody tr a", has_text="late AGAIN").first.click()
    assert code in agent.locator("aside .offer").inner_text()
