"""Retention offers: the policy file, decisions, exactly-once recording under concurrency on
SQLite and PostgreSQL, caps and budget, the offer lifecycle and the console's views."""

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from chatbot.errors import OfferNotFound, OfferUnavailable
from chatbot.offers.console import budget_spend, offers_by_state
from chatbot.offers.ledger import ALPHABET, make_offer, new_code, record_offer
from chatbot.offers.lifecycle import (
    accept_offer,
    decline_offer,
    expire_offers,
    redeem_offer,
)
from chatbot.offers.policy import (
    DEFAULT_POLICY,
    PolicyError,
    TurnRisk,
    choose,
    load_policy,
)
from chatbot.offers.wording import describe
from chatbot.conversations import TurnStart
from shopcore.store.models import (
    Conversation,
    Customer,
    Message,
    RetentionOffer,
    RiskScore,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def test_the_default_policy_loads_and_names_its_offers(policy):
    assert policy.caps.per_customer >= 1 and policy.budget.monthly > 0
    assert {policy.offers[r.offer].kind for r in policy.rules} >= {
        "handoff",
        "percent_discount",
        "express_replacement",
    }


@pytest.mark.parametrize(
    "edit, message",
    [
        (("rules:\n", "rules: [\n"), "not valid YAML"),
        (("    offer: stay_15\n", "    offer: stay_150\n"), "not defined: leaving -> stay_150"),
        (("    value: 10\n", "    value: 110\n"), "between 0 and 100"),
        (("expiry_days: 14", "expiry_days: 0"), "expiry_days"),
        (("currency: USD", "currency: dollars"), "currency"),
        (("anonymous_offers: false", "anonymous_offers: false\nsurprise: 1"), "surprise"),
        (('    when: {message_reasons: ["legal:*"]}', "    when: {mood: angry}"), "mood"),
    ],
    ids=[
        "yaml",
        "unknown-offer",
        "percent",
        "expiry",
        "currency",
        "unknown-key",
        "unknown-condition",
    ],
)
def test_a_broken_policy_fails_with_a_clear_message(tmp_path, edit, message):
    path = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(PolicyError, match=message):
        load_policy(path)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def _risk(level="low", reasons=(), message_level="low", message_reasons=(), earlier=()):
    return TurnRisk(
        level,
        tuple(reasons) + tuple(message_reasons),
        message_level,
        tuple(message_reasons),
        tuple(earlier),
    )


@pytest.mark.parametrize(
    "risk, signed_in, rule",
    [
        (_risk(), True, None),
        (
            _risk("high", ["failure:order_late"], "high", ["churn:close_account"]),
            True,
            "leaving",
        ),
        # Farming: one sentence typed to earn a code, with nothing else behind it.
        (
            _risk("high", message_level="high",
                  message_reasons=["sentiment:negative", "churn:close_account", "churn:leaving"]),
            True,
            None,
        ),
        # Begging: a threat to leave made to get a discount is not a reason to give one.
        (
            _risk(
                "high", message_level="high", message_reasons=["churn:leaving", "request:discount"]
            ),
            True,
            None,
        ),
        (
            _risk(
                "high", message_level="high", message_reasons=["anger:strong", "request:discount"]
            ),
            True,
            None,
        ),
        # ...unless something really went wrong for them.
        (
            _risk("high", ["failure:order_late"], "high", ["anger:strong", "request:discount"]),
            True,
            "upset-after-failure",
        ),
        (
            _risk(
                "high",
                message_level="high",
                message_reasons=["churn:close_account", "suspicious:instructions"],
            ),
            True,
            None,
        ),
        (
            _risk(
                "high", message_level="high", message_reasons=["legal:chargeback", "anger:strong"]
            ),
            True,
            "legal-or-safety",
        ),
        (
            _risk("high", message_level="high", message_reasons=["legal:lawyer"]),
            False,
            "legal-or-safety",
        ),
        (_risk("high", message_level="high", message_reasons=["churn:close_account"]), False, None),
        (_risk("medium", earlier=["failure:order_lost"]), True, "lost-parcel"),
        (_risk("high", ["value:high"], "high", ["anger:strong"]), True, "valued-customer-upset"),
    ],
    ids=[
        "calm",
        "leaving",
        "leaving-bare",
        "begging-threat",
        "begging-angry",
        "angry-after-failure",
        "injection",
        "legal",
        "legal-anonymous",
        "anonymous",
        "lost",
        "valued",
    ],
)
def test_policy_decisions(policy, risk, signed_in, rule):
    chosen = choose(policy, risk, signed_in=signed_in)
    assert (chosen.name if chosen else None) == rule


def test_codes_are_unguessable_and_distinct():
    codes = {new_code("RL-") for _ in range(5000)}
    assert len(codes) == 5000
    code = codes.pop()
    assert code.startswith("RL-") and set(code[3:].replace("-", "")) <= set(ALPHABET)
    assert len(code[3:].replace("-", "")) == 12


def _conversation(sessions, customer_id=None, reasons=("failure:order_late", "churn:close_account"), level="high"):
    """A stored shopper message with a stored risk score, as steps 1 and 2 leave them."""
    with sessions.begin() as session:
        if customer_id is not None and session.get(Customer, customer_id) is None:
            session.add(
                Customer(
                    id=customer_id, name="Ada", email=f"a{customer_id}@example.com", country="US"
                )
            )
            session.flush()
        conversation = Conversation(customer_id=customer_id)
        session.add(conversation)
        session.flush()
        message = Message(conversation_id=conversation.id, role="user", text="...")
        session.add(message)
        session.flush()
        session.add(
            RiskScore(
                message_id=message.id,
                conversation_id=conversation.id,
                score=0.9,
                level=level,
                conversation_score=0.9,
                conversation_level=level,
                reasons=list(reasons),
                message_reasons=list(reasons),
            )
        )
        return TurnStart(conversation.id, message.id, "bot", [])


def _count(sessions, **where):
    with sessions() as session:
        query = select(func.count()).select_from(RetentionOffer)
        for key, value in where.items():
            query = query.where(getattr(RetentionOffer, key) == value)
        return session.scalar(query)


def test_twenty_racing_requests_record_exactly_one_offer(sessions, policy):
    start = _conversation(sessions, customer_id=1)
    barrier, results, errors = threading.Barrier(20), [], []

    def trigger():
        try:
            barrier.wait()
            results.append(make_offer(policy, sessions, start, 1, now=NOW))
        except Exception as exc:  # any failure must fail the test, not vanish in a thread
            errors.append(exc)

    threads = [threading.Thread(target=trigger) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    made = [offer for offer in results if offer is not None]
    assert len(results) == 20 and len(made) == 1
    assert _count(sessions, conversation_id=start.conversation_id) == 1
    with sessions() as session:
        row = session.scalar(select(RetentionOffer))
    assert (row.code, row.rule, row.trigger_key) == (
        made[0].code,
        "leaving",
        f"offer:{start.conversation_id}",
    )
    assert row.reasons == ["failure:order_late", "churn:close_account"] and row.message_id == start.message_id


def test_per_customer_cap_and_monthly_budget(sessions, policy):
    capped = policy.model_copy(update={"caps": policy.caps.model_copy(update={"per_customer": 2})})
    made = [
        make_offer(capped, sessions, _conversation(sessions, customer_id=7), 7, now=NOW)
        for _ in range(3)
    ]
    assert [m is not None for m in made] == [True, True, False]
    later = NOW + timedelta(days=capped.caps.window_days + 1)
    assert make_offer(capped, sessions, _conversation(sessions, customer_id=7), 7, now=later)
    # A hand-off is not an offer: it neither counts nor is capped.
    assert (
        make_offer(capped, sessions, _conversation(sessions, 7, ["legal:lawyer"]), 7, now=NOW).kind
        == "handoff"
    )

    stay = make_offer(policy, sessions, _conversation(sessions, customer_id=8), 8, now=NOW)
    assert (stay.kind, stay.value, stay.unit) == ("percent_discount", 15, "percent")
    tight = policy.model_copy(
        update={"budget": policy.budget.model_copy(update={"monthly": Decimal("1")})}
    )
    assert make_offer(tight, sessions, _conversation(sessions, customer_id=9), 9, now=NOW) is None
    assert _count(sessions, customer_id=9) == 0  # the refused insert was rolled back


def test_a_handoff_gives_the_conversation_to_a_person(sessions, policy):
    start = _conversation(sessions, None, ["legal:chargeback"])
    offer = make_offer(policy, sessions, start, None, now=NOW)
    assert offer.kind == "handoff" and offer.code is None
    with sessions() as session:
        assert session.get(Conversation, start.conversation_id).state == "agent"
    assert "person" in describe(offer)


def _offer(sessions, policy, customer_id=3):
    return make_offer(
        policy, sessions, _conversation(sessions, customer_id=customer_id), customer_id, now=NOW
    )


def test_lifecycle_accept_redeem_once(sessions, policy):
    offer = _offer(sessions, policy)
    assert accept_offer(sessions, offer.code, customer_id=3, now=NOW).state == "accepted"
    redeemed = redeem_offer(
        sessions,
        offer.code.lower(),
        customer_id=3,
        order_number="A2001",
        now=NOW + timedelta(days=1),
    )
    assert redeemed.state == "redeemed"
    with pytest.raises(OfferUnavailable, match="redeemed"):
        redeem_offer(sessions, offer.code, customer_id=3, now=NOW + timedelta(days=1))
    with sessions() as session:
        row = session.scalar(select(RetentionOffer).where(RetentionOffer.code == offer.code))
    assert row.redeemed_order == "A2001" and row.redeemed_at is not None


def test_codes_work_only_for_their_customer_and_before_expiry(sessions, policy):
    offer = _offer(sessions, policy)
    for customer_id in (4, None):
        with pytest.raises(OfferNotFound):
            redeem_offer(sessions, offer.code, customer_id=customer_id, now=NOW)
    with pytest.raises(OfferNotFound):
        redeem_offer(sessions, "RL-AAAA-BBBB-CCCC", customer_id=3, now=NOW)
    with pytest.raises(OfferUnavailable, match="expired"):
        redeem_offer(
            sessions, offer.code, customer_id=3, now=NOW + timedelta(days=policy.expiry_days)
        )
    assert offers_by_state(sessions, "expired")[0]["code"] == offer.code

    declined = _offer(sessions, policy, customer_id=5)
    decline_offer(sessions, declined.code, customer_id=5, now=NOW)
    with pytest.raises(OfferUnavailable, match="declined"):
        redeem_offer(sessions, declined.code, customer_id=5, now=NOW)


def test_racing_checkouts_redeem_a_code_once(sessions, policy):
    offer = _offer(sessions, policy)
    barrier, outcomes = threading.Barrier(10), []

    def checkout():
        barrier.wait()
        try:
            outcomes.append(redeem_offer(sessions, offer.code, customer_id=3, now=NOW).state)
        except OfferUnavailable:
            outcomes.append("refused")

    threads = [threading.Thread(target=checkout) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["redeemed"] + ["refused"] * 9


def test_expiry_sweep_and_budget_view(sessions, policy):
    open_offer, used, _ = (_offer(sessions, policy, c) for c in (11, 12, 13))
    redeem_offer(sessions, used.code, customer_id=12, now=NOW)
    assert expire_offers(sessions, NOW + timedelta(days=policy.expiry_days + 1)) == 2
    assert {o["code"] for o in offers_by_state(sessions, "expired")} >= {open_offer.code}
    view = budget_spend(sessions, policy, NOW)
    # Customers without orders are costed at the policy's average order value.
    each = float(policy.budget.average_order_value) * 15 / 100
    assert view["by_state"]["redeemed"] == pytest.approx(each)
    assert view["by_state"]["expired"] == pytest.approx(2 * each)
    assert view["committed"] == pytest.approx(each)  # expired offers give their cost back
    assert view["remaining"] == pytest.approx(float(policy.budget.monthly) - each)
    with pytest.raises(ValueError, match="state must be one of"):
        offers_by_state(sessions, "pending")


def test_the_words_come_from_the_record(sessions, policy):
    offer = _offer(sessions, policy)
    words = describe(offer)
    assert offer.code in words and "15% off" in words and offer.terms in words
    expiry = datetime.fromisoformat(offer.expires_at)
    assert expiry == NOW + timedelta(days=policy.expiry_days)
    assert f"{expiry:%B} {expiry.day}, {expiry.year}" in words


def test_record_offer_returns_the_existing_offer_for_a_used_trigger(sessions, policy):
    start = _conversation(sessions, customer_id=21)
    rule = next(r for r in policy.rules if r.name == "leaving")
    first, created = record_offer(sessions, policy, rule, start, 21, (), Decimal("5"), NOW)
    again, created_again = record_offer(sessions, policy, rule, start, 21, (), Decimal("5"), NOW)
    assert created and not created_again and again.code == first.code
