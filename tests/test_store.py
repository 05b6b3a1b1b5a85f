"""The store on SQLite and PostgreSQL: migrations, constraints, and turn records."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from chatbot.errors import ConversationNotFound, UnknownCustomer
from chatbot.conversations import conversation_transcript, record_answer, start_turn
from shopcore.store.db import make_engine
from shopcore.store.models import (
    Base,
    Conversation,
    Customer,
    Message,
    Order,
    Product,
    RetentionOffer,
)
from knowledge.shop_data import ShopDataError, load_shop

EXPECTED_TABLES = {t.name for t in Base.metadata.sorted_tables}


def test_migrations_create_every_table(database_url):
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert EXPECTED_TABLES <= tables


def _customer(session, id=1):
    session.add(Customer(id=id, name="Ada", email=f"ada{id}@example.com", country="US"))


def test_a_database_behind_the_newest_migration_is_named_before_the_desk_starts(database_url):
    from alembic import command

    from shopcore.store.db import SchemaBehind, alembic_config, check_schema

    engine = make_engine(database_url)
    check_schema(engine)  # migrated: nothing to say
    command.downgrade(alembic_config(database_url), "-1")
    with pytest.raises(SchemaBehind, match="python -m chatbot migrate") as behind:
        check_schema(engine)
    assert database_url not in str(behind.value)
    engine.dispose()


def test_order_status_is_constrained(sessions):
    with pytest.raises(IntegrityError):
        with sessions.begin() as session:
            _customer(session)
            session.add(Order(number="X1", customer_id=1, status="teleported", total=Decimal("1"),
                              placed_at=datetime.now(timezone.utc)))


def test_one_offer_per_trigger(sessions):
    with sessions.begin() as session:
        session.add(Conversation(id="c1"))
    offer = dict(trigger_key="conversation:c1", conversation_id="c1", rule="r", kind="discount")
    with sessions.begin() as session:
        session.add(RetentionOffer(code="AAA", **offer))
    with pytest.raises(IntegrityError):
        with sessions.begin() as session:
            session.add(RetentionOffer(code="BBB", **offer))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RetentionOffer)) == 1


def test_demo_shop_loads_idempotently(sessions, settings):
    first = load_shop(sessions, settings.store_dir)
    assert first["products"] >= 150 and first["customers"] >= 100 and first["orders"] >= 300
    load_shop(sessions, settings.store_dir)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == first["products"]
        assert session.scalar(select(func.count()).select_from(Order)) == first["orders"]
        statuses = set(session.scalars(select(Order.status).distinct()))
    assert statuses == {"processing", "shipped", "delivered", "delayed", "returned", "refunded",
                        "cancelled"}


def test_malformed_shop_data_changes_nothing(sessions, tmp_path):
    (tmp_path / "products.json").write_text('[{"sku": "S1", "name": "Tent"}]')  # no price
    (tmp_path / "customers.json").write_text("[]")
    (tmp_path / "orders.json").write_text("[]")
    with pytest.raises(ShopDataError, match="malformed"):
        load_shop(sessions, tmp_path)
    (tmp_path / "orders.json").write_bytes(b"\xff\xfe not json")
    with pytest.raises(ShopDataError, match="orders.json"):
        load_shop(sessions, tmp_path)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_turn_records_message_before_answer_and_keeps_history(sessions):
    with sessions.begin() as session:
        _customer(session, 7)
    start = start_turn(sessions, "hello", None, 7, "cli", history_turns=6)
    with sessions() as session:  # the shopper's message is committed before any answer
        assert session.get(Message, start.message_id).text == "hello"
    record_answer(sessions, start.conversation_id, start.message_id, "hi [1]", latency_ms=12.5,
                  sources=[{"doc_id": "faq", "title": "FAQ", "score": 0.5}], model_id="m")
    second = start_turn(sessions, "and?", start.conversation_id, 7, "cli", history_turns=6)
    assert second.history == [{"role": "user", "content": "hello"},
                              {"role": "assistant", "content": "hi [1]"}]
    transcript = conversation_transcript(sessions, start.conversation_id, 7)
    assert [m["role"] for m in transcript["messages"]] == ["user", "assistant", "user"]
    assert transcript["messages"][1]["sources"][0]["doc_id"] == "faq"


def test_conversations_are_private_to_their_customer(sessions):
    with sessions.begin() as session:
        _customer(session, 1)
        _customer(session, 2)
    start = start_turn(sessions, "my order", None, 1, "api", history_turns=6)
    with pytest.raises(ConversationNotFound):
        start_turn(sessions, "let me in", start.conversation_id, 2, "api", history_turns=6)
    with pytest.raises(ConversationNotFound):
        conversation_transcript(sessions, start.conversation_id, None)
    with pytest.raises(UnknownCustomer):
        start_turn(sessions, "hi", None, 999, "api", history_turns=6)


def test_customer_ids_are_64_bit(sessions):
    """A shop's own customer ids can be above 2^31 (PostgreSQL's INTEGER): they are stored,
    found, and a missing one is an unknown customer, not a database error."""
    big = 2**53 + 12345
    with sessions.begin() as session:
        _customer(session, big)
    start = start_turn(sessions, "where is my order?", None, big, "api", history_turns=6)
    assert conversation_transcript(sessions, start.conversation_id, big)["messages"][0]["text"] == "where is my order?"
    with pytest.raises(UnknownCustomer):
        start_turn(sessions, "hi", None, 2**63 - 1, "api", history_turns=6)
