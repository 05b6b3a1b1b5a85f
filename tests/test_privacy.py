"""Card numbers, security codes, e-mail addresses and the shop's own patterns are masked
before a shopper's message is stored or shown to a model; the raw text is never written."""

import json

import pytest
from sqlalchemy import select

from chatbot.privacy import luhn_valid, mask
from shopcore.settings import SettingsError, load_settings
from shopcore.store.models import Message


@pytest.fixture
def settings(tmp_path):
    return load_settings(home=tmp_path)


@pytest.mark.parametrize("text, masked", [
    ("my card 4111 1111 1111 1111 was charged twice", "my card [card ending 1111] was charged twice"),
    ("card: 4111-1111-1111-1111.", "card: [card ending 1111]."),
    ("amex 378282246310005 please", "amex [card ending 0005] please"),
    ("5555555555554444", "[card ending 4444]"),
    ("my CVV is 123 and cvc: 4567", "my CVV is [security code] and cvc: [security code]"),
    ("security code 999", "security code [security code]"),
    ("write to ada.lovelace+shop@example.co.uk now", "write to [email] now"),
])
def test_personal_data_is_masked(settings, text, masked):
    assert mask(text, settings) == masked


@pytest.mark.parametrize("text", [
    "Where is order A1502?",
    "call me on +1 555 123 4567",
    "tracking 1Z999AA10123456784 shows nothing",
    "4111 1111 1111 1112 is not a card (wrong checksum)",
    "SKU 12345678901234 in size 10",
    "I paid $123 and the code is 123",
])
def test_what_is_not_personal_data_stays(settings, text):
    assert mask(text, settings) == text


def test_the_shops_own_patterns_and_the_email_switch(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_PII_PATTERNS", json.dumps({"iban": r"\bDE\d{2}(?: ?\d{4}){4} ?\d{2}\b"}))
    monkeypatch.setenv("CHATBOT_PII_MASK_EMAILS", "false")
    settings = load_settings(home=tmp_path)
    assert mask("IBAN DE89 3704 0044 0532 0130 00, mail a@b.io", settings) == "IBAN [iban], mail a@b.io"
    for bad in ({"iban": "("}, {"Bad Label!": "x"}, {"empty": "a*"}):
        monkeypatch.setenv("CHATBOT_PII_PATTERNS", json.dumps(bad))
        with pytest.raises(SettingsError, match="CHATBOT_PII_PATTERNS"):
            load_settings(home=tmp_path)


def test_luhn():
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112") and not luhn_valid("79927398710")


def test_the_raw_number_is_never_stored_or_shown(client):
    text = "I was charged twice on card 4111 1111 1111 1111, CVV 123, email me at ada@example.com"
    body = client.post("/v1/chat", json={"message": text}).json()
    with client.app.state.desk.sessions() as session:
        stored = [m.text for m in session.scalars(select(Message).where(
            Message.conversation_id == body["conversation_id"]))]
    assert stored[0] == ("I was charged twice on card [card ending 1111], CVV [security code], "
                         "email me at [email]")
    transcript = client.get(f"/v1/conversations/{body['conversation_id']}").text
    for raw in ("4111 1111", "1111 1111 1111", "CVV 123", "ada@example.com"):
        assert all(raw not in t for t in stored) and raw not in transcript
