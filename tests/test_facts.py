"""The fact checker and the hand-off router, as tables over real shop-like text."""

import pytest

from chatbot.facts import FactGuard, check
from knowledge.facts import extract
from chatbot.handoff import HANDOFF_REPLY, evidence_covers, needs_person, route
from shopcore.schemas import Evidence

ORDER = Evidence("order/A1042", "Your order A1042",
                 "Order: A1042\nStatus: shipped\nPlaced: 2025-03-14\nCarrier: UPS\n"
                 "Tracking number: 1Z1PBR6Y0364025779\nTotal: $214.90", 1.0)
RETURNS = Evidence("policies/returns", "Returns",
                   "Return unworn items within 30 days. A return label costs $6.95. "
                   "Holiday gifts can be returned until January 31. Support is open 7 am to 10 pm.", 0.7)
EVIDENCE = [ORDER, RETURNS]


@pytest.mark.parametrize("answer, unsupported", [
    ("You have 30 days to return unworn items [2].", []),
    ("The label costs $6.95 [2], so 30-day returns are cheap.", []),
    ("Order A1042 has shipped with UPS, tracking 1Z1PBR6Y0364025779 [1].", []),
    ("It was placed on March 14 and cost $214.90 [1].", []),
    ("Gifts: until Jan 31 [2]; we're open 7:00 am to 10 pm.", []),
    ("1. Pack the item.\n2. Print the label [2].", []),  # list numbering is not a claim
    ("You have 45 days to return items.", ["45"]),
    ("The label costs $5.95.", ["$5.95"]),
    ("Your order A1043 is on its way.", ["A1043"]),
    ("Your order has been delivered.", ["delivered"]),
    ("Tracking: 1Z999AA10123456784.", ["1Z999AA10123456784"]),
    ("Use code SAVE90 for 90% off!", ["SAVE90", "90%"]),
    ("It arrives on 2025-03-20.", ["2025-03-20"]),
])
def test_check_finds_facts_the_evidence_does_not_state(answer, unsupported):
    assert [f.text for f in check(answer, EVIDENCE).unsupported] == unsupported


def test_status_words_are_claims_only_when_an_order_is_in_evidence():
    assert check("Once an order has shipped it cannot be cancelled.", [RETURNS]).ok
    assert not check("Your order was cancelled.", EVIDENCE).ok


def test_extract_normalizes_equal_claims_to_equal_values():
    values = [f.value for f in extract("$1,000 and $1000.00; 2025-03-14; 7 am and 7:00")]
    assert values == ["1000", "1000", "2025-3-14", "7:00", "7:00"]


def test_guard_releases_checked_words_and_stops_at_an_invented_fact():
    guard = FactGuard(EVIDENCE)
    shown = [guard.feed(p) for p in ["You have ", "30", " days", " [2]. The fee is ", "$9", ".99 ", "ok"]]
    assert "".join(shown) == "You have 30 days [2]. The fee is"
    assert guard.violation.text == "$9.99" and guard.finish() == ""


def test_guard_waits_for_the_word_after_a_number_before_checking_it():
    # "7" alone is a number the evidence never states; "7 am" is its opening time.
    guard = FactGuard(EVIDENCE)
    shown = [guard.feed(p) for p in ["We open at ", "7", " am", " daily", " [2]."]]
    assert "".join(shown) == "We open at 7 am daily" and guard.violation is None
    assert guard.finish() == " [2]."


def test_guard_drops_citations_of_sources_the_prompt_never_listed():
    # Two sources are listed under the answer: "[4]" and "[7]" would point at nothing.
    guard = FactGuard(EVIDENCE)
    shown = [guard.feed(p) for p in ["You have 30 days [2][4]. ", "Holiday gifts too", " [7]", ". Thanks [1]."]]
    assert "".join(shown) + guard.finish() == "You have 30 days [2]. Holiday gifts too. Thanks [1]."
    assert guard.violation is None


def test_guard_flushes_the_tail_at_the_end():
    guard = FactGuard(EVIDENCE)
    assert guard.feed("Label: $6.95") == "Label:"
    assert guard.finish() == " $6.95" and guard.violation is None


@pytest.mark.parametrize("question, reason", [
    ("I'm going to sue you over this jacket", "legal"),
    ("my attorney will be in touch", "legal"),
    ("I filed a chargeback with my bank", "payment_dispute"),
    ("I'm going to file a charge back", "payment_dispute"),
    ("If I return everything, do I get the delivery charge back too?", None),
    ("you charged me twice for one order", "payment_dispute"),
    ("there's a payment on my card that I never made", "payment_dispute"),
    ("I think my account was hacked", "account_security"),
    ("someone logged into my account and changed the address", "account_security"),
    ("the courier was really rude to me", "staff_complaint"),
    ("let me speak to a manager", "shopper_asked"),
    ("I want to talk to a real person please.", "shopper_asked"),
    ("Can a human call me back about my refund?", "shopper_asked"),
    ("quiero hablar con una persona", "shopper_asked"),
    ("Je voudrais parler à un conseiller", "shopper_asked"),
    ("the stove burned my hand, I was injured", "safety"),
    ("How long do I have to return boots?", None),
    ("Can I change the payment method on my order?", None),
    ("What's your password reset page?", None),
    ("Am I chatting with a real person?", None),  # a question about the desk, which its FAQ answers
    ("Are you a human being?", None),
])
def test_questions_that_need_a_person(question, reason):
    found = needs_person(question)
    assert (found.reason if found else None) == reason


def test_uncovered_questions_are_handed_off_and_orders_always_cover():
    weak = Evidence("faq", "FAQ", "Opening hours", 0.2)
    assert not evidence_covers([weak]) and not evidence_covers([])
    assert evidence_covers([weak, ORDER])
    assert route("Do you sell kayaks?", [weak]).reason == "not_covered"
    assert route("How long is the return window?", [RETURNS]) is None
    assert "person" in HANDOFF_REPLY
