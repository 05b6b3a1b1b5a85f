"""The Gradio chat page at / has the API's protections: the per-address rate limit, the
shared answer slots, the body limit, and no file uploads past that limit (a real server,
driven through Gradio's own client)."""

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from chatbot.api import create_app
from evals.live_server import serving


@pytest.fixture
def page(make_desk, tiny_model):
    app = create_app(desk=make_desk(tiny_model, max_new_tokens=8, rate_limit_per_address="3/minute",
                                    max_request_bytes=4096))
    with serving(app) as url:
        yield app, url


def ask(client: Client, text: str) -> str:
    return client.predict(text, 0, api_name="/respond")


def test_the_chat_page_counts_messages_against_the_rate_limit(page):
    app, url = page
    client = Client(url, verbose=False)
    answers = [ask(client, f"Do you ship to Canada? ({n})") for n in range(3)]
    assert all(answers)
    with pytest.raises(AppError, match="faster than we can answer"):
        ask(client, "And to Mexico?")


def test_the_chat_page_shares_the_answer_slots(page):
    app, url = page
    taken = [app.state.turn_slots.take() for _ in range(app.state.turn_slots.size)]
    with pytest.raises(AppError, match="Many shoppers are asking at once"):
        ask(Client(url, verbose=False), "Do you ship to Canada?")
    for slot in taken:
        slot.release()


def test_the_chat_page_refuses_big_bodies_and_uploads(page):
    _, url = page
    big = b"x" * 20_000
    upload = httpx.post(f"{url}/gradio_api/upload", files={"files": ("big.txt", big)})
    assert upload.status_code == 413
    join = httpx.post(f"{url}/gradio_api/queue/join", content=b'{"data": ["' + big + b'"]}',
                      headers={"Content-Type": "application/json"})
    assert join.status_code == 413
