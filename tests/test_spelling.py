"""Typo-tolerant matching: misspellings of the shop's words are corrected, real words never."""

import pytest

from knowledge.spelling import Speller

SHOP = """Men's Trailhead Rain Jacket. A packable rain jacket. Trailhead jacket in black.
We ship to Canada and Mexico. Canada shipping is a flat rate. Returns policy: return unworn items, or return them for an exchange.
Our warranty covers defects. Warranty claims. Refund to PayPal. Refunds. Shipping and returns policy.
Women's Nimbus Vest. Weight: 200 g. Women's sizes XS-XL. Weight: 300 g."""


@pytest.fixture(scope="module")
def speller():
    return Speller.of([SHOP])


@pytest.mark.parametrize("typed, meant", [
    ("does the trailhed jaket come in XL?", "does the trailhead jacket come in XL?"),
    ("do u ship to canda? hows much", "do u ship to canada? hows much"),
    ("whats ur retrun polcy", "whats ur return policy"),  # a swap is one edit
    ("Warrenty on boots", "Warranty on boots"),  # a capital stays a capital
    ("the wommens nimbus vest", "the women's nimbus vest"),  # apostrophes aside: one edit
    ("how much does it wiegh", "how much does it weigh"),  # a common word the shop's "weight" extends
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
    "is it beutiful",  # a common word near it ("beautiful") is not one the shop's words extend
])
def test_real_words_and_identifiers_are_left_alone(speller, text):
    correction = speller.correct(text)
    assert correction.text == text and correction.changes == ()


def test_the_retriever_corrects_to_its_own_index(retriever):
    correction = retriever.spell("trailhed jaket")
    assert correction.changes == (("trailhed", "trailhead"), ("jaket", "jacket"))
    top = retriever.search(correction.text, 1)[0]
    assert "Trailhead" in top.chunk.heading


def test_a_product_name_typed_with_a_real_word_is_written_as_the_name():
    """"bacon" is a real word, but "bacon 350 headlamp" is the Beacon 350 Headlamp; a
    number in a name is never changed, and a real word alone is left alone."""
    speller = Speller.of([SHOP], names=["Beacon 350 Headlamp", "Solstice 20°F Synthetic Sleeping Bag",
                                        "Solstice 40°F Synthetic Sleeping Bag"])
    assert speller.correct("hw much for the bacon 350 headlamp").text == "hw much for the Beacon 350 Headlamp"
    for text in ["is the solstice 40°F synthetic sleeping bag warm", "is bacon 600 headlamp good", "bacon and eggs"]:
        assert speller.correct(text).text == text
