"""SSE over a real socket: a shopper who closes the page mid-answer stops the model, and
the pipeline records the answer as cancelled (a real uvicorn server, a real disconnect)."""

import time

import httpx
from sqlalchemy import select

from chatbot.api import create_app
from shopcore.store.models import Message
from evals.live_server import serving

LONG_ANSWER = 1500


def test_disconnecting_client_stops_generation_and_is_recorded(make_desk, tiny_model):
    desk = make_desk(tiny_model, max_new_tokens=LONG_ANSWER)
    app = create_app(desk=desk)
    with serving(app) as url:
        with httpx.Client(timeout=60) as http:
            with http.stream("POST", f"{url}/v1/chat", json={"message": "Tell me about your tents"},
                             headers={"Accept": "text/event-stream"}) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    if line.startswith("event: token"):
                        break
            # Leaving the block closes the connection with the answer unfinished.
        answer = None
        deadline = time.monotonic() + 60
        while answer is None and time.monotonic() < deadline:
            with desk.sessions() as session:
                answer = session.scalars(select(Message).where(Message.role == "assistant")).first()
            time.sleep(0.1)
        while app.state.turn_slots.in_use and time.monotonic() < deadline:
            time.sleep(0.1)
        assert app.state.turn_slots.in_use == 0, "the cancelled turn kept its answer slot"
    assert answer is not None, "the cancelled answer was never recorded"
    assert answer.state == "cancelled"
    assert answer.tokens_generated is None or answer.tokens_generated < LONG_ANSWER
    with desk.sessions() as session:
        user = session.get(Message, answer.reply_to_id)
    assert user.text == "Tell me about your tents" and user.state == "ok"
