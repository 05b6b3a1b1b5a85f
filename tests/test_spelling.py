"""Typo-tolerant matching: misspellings of the shop's words are corrected, real words never."""

import pytest

from knowledge.spelling import Speller

SHOP = """Men's Trailhead Rain Jacket. A packable rain jacket. Trailhead jacket in black.
We ship to Canada and Mexico. Canada shipping is a flat rate. Returns policy: return unworn items, or return them for an exchange.
Our warranty covers defects. Warranty claims. Refund to PayPal. Refunds. Shipping and returns policy."""


@pytest.fixture(scope="module")
def speller():
    return Speller.of([SHOP])


@pytest.mark.parametrize("typed, meant", [
    ("does the trailhed jaket come in XL?", "does the trailhead jacket come in XL?"),
    ("do u ship to canda? hows much", "do u ship to canada? hows much"),
    ("whats ur retrun polcy", "whats ur return policy"),  # a swap is one edit
    ("Warrenty on boots", "Warranty on boots"),  # a capital stays a capital
])
def test_misspellings_become_the_shops_words(speller, typed, meant):
    assert speller.correct(typed).text == meant


@pytest.mark.parametrize("text", [
    "do you sell kayaks",  # a real word the shop lacks is not made into one it has
    "is the parka warm",
    "colour options",
    "I want to cancel my order",
    "hows it going, im fine",  # bare contractions stay
    "RO-JKT-0004 and A1042",  # identifiers are matched whole elsewhere
    "Hola, puedo devolver unas botas",  # no near word of the shop's
])
def test_real_words_and_identifiers_are_left_alone(speller, text):
    correction = speller.correct(text)
    assert correction.text == text and correction.changes == ()


def test_the_retriever_corrects_to_its_own_index(retriever):
    correction = retriever.spell("trailhed jaket")
    assert correction.changes == (("trailhed", "trailhead"), ("jaket", "jacket"))
    top = retriever.search(correction.text, 1)[0]
    assert "Trailhead" in top.chunk.heading
