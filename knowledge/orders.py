"""A signed-in shopper's own orders as evidence.

Orders are selected by customer id only, in SQL with a bound parameter; the question is
never put into a query. An order number in the question only picks among the shopper's own
orders, so naming another customer's order, asking for "all orders" or typing SQL brings
nothing of anyone else's into the prompt.

`foreign_order_numbers` lists the order numbers a question names that are not the
shopper's, so the desk can say it can't find them instead of reading out the shopper's own
order as if it were the one asked about. It binds a few of the question's tokens as
parameters (never into the SQL text) to look for them among the shopper's own orders only,
and tells an order number by the shape of the store's numbers, so another customer's real
order and a made-up one are answered alike: whether a number exists is never revealed.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shopcore.schemas import Evidence
from shopcore.store.models import Order
from knowledge.documents import order_document

MAX_ORDERS = 5
# "my last order", "most recent purchase": the newest order, named without its number.
LATEST = re.compile(r"\b(?:last|latest|most recent|newest|recent)\s+(?:order|purchase|package|parcel|delivery)\b",
                    re.IGNORECASE)
SHAPE_SAMPLE = 500  # the oldest and the newest orders whose numbers show the store's format(s)
SHAPE_TTL_S = 3600.0  # formats are read again after this long (a shop may import orders later)
MAX_CANDIDATES = 20  # tokens of one question checked against the store, at most
# A token as a shopper types an order number: "A1042", "#1042", "KL-100234", "100234".
_TOKEN = re.compile(r"(?<![\w-])#?[A-Za-z0-9]+(?:[-_/][A-Za-z0-9]+)*(?![\w-])")
# Words that say the next token is an order number: "order #", "order no.", "#", "pedido".
_CALLED_AN_ORDER = re.compile(
    r"(?:\b(?:order|pedido|commande|bestellung|ordine|encomenda)\s*(?:number|no\.?|nr\.?|n[º°]|num(?:ber|éro|ero)?)"
    r"\s*[:#]?|\b(?:order|pedido|commande|bestellung|ordine|encomenda)\s*[:#]|\bno\.|#)\s*$", re.IGNORECASE)
_BARE_ORDER = re.compile(r"\b(?:order|pedido|commande|bestellung|ordine|encomenda)\s+$", re.IGNORECASE)
# A question about orders at all; a bare number in one that isn't ("call me on 0131 496 0000",
# "since 2024") is not taken for an order number unless it has the shop's letters.
_ABOUT_ORDERS = re.compile(r"\b(?:orders?|purchases?|packages?|parcels?|deliver(?:y|ies)|shipments?|tracking|pedido"
                           r"|commande|bestellung|ordine|encomenda)\b|#", re.IGNORECASE)
_shapes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # sessions -> (read at, pattern or None)


def order_evidence(
    sessions: sessionmaker[Session],
    customer_id: int | None,
    question: str,
    relevance: Callable[[str, str], float] | None = None,
) -> list[Evidence]:
    """The customer's orders named in the question first (relevance 1.0; "my last order"
    names the newest), then their most recent ones, scored by relevance(question, order
    text) when given, else 1.0."""
    if customer_id is None:
        return []
    with sessions() as session:
        orders = session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .options(selectinload(Order.items))
            .order_by(Order.placed_at.desc())
        ).all()
        named = [o for o in orders if names(question, o.number)]
        if not named and orders and LATEST.search(question):
            named = orders[:1]
        recent = [o for o in orders if o not in named][: max(0, MAX_ORDERS - len(named))]
        documents = [(order_document(o), True) for o in named] + [(order_document(o), False) for o in recent]
    return [
        Evidence(d.doc_id, d.title, d.text,
                 1.0 if is_named or relevance is None else round(relevance(question, f"{d.title}\n{d.text}"), 4))
        for d, is_named in documents
    ]


def names(question: str, number: str) -> bool:
    """Whether the question names this order number as a whole word (A104 is not A1042)."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(number)}(?![A-Za-z0-9])", question, re.IGNORECASE) is not None


def foreign_order_numbers(sessions: sessionmaker[Session], customer_id: int | None, question: str) -> list[str]:
    """The order numbers the question names that are not this shopper's, as typed, in order.

    With no shopper signed in, every order number named is foreign. A token counts as an
    order number when it has the shape of the store's own numbers (letters, separators and
    digit count, read from its orders: "A1042" makes "A9999" one, "RO-JKT-0004" not) or when
    the question calls it one ("order #100234", "order no. 77-123"). A shape without letters
    (a shop numbering 100234, 100235, ...) counts only in a question about orders, so a
    price, a year or a phone number is not one.
    Another customer's real order and a made-up one are listed alike (only the shopper's own
    orders are looked up), so the caller answers both the same way ("I can't find that order
    on your account") and nothing says whether the number exists.
    """
    found = [(m, m.group(0).lstrip("#")) for m in _TOKEN.finditer(question) if any(c.isdigit() for c in m.group(0))]
    tokens = list(dict.fromkeys(token for _, token in found))[:MAX_CANDIDATES]
    if not tokens:
        return []
    shape = _order_shape(sessions)
    mine: set[str] = set()
    if customer_id is not None:
        with sessions() as session:
            # One query, the tokens bound as parameters: which of them are this shopper's own numbers.
            variants = {v for t in tokens for v in (t, t.upper(), t.lower())}
            mine = {n.upper() for n in session.scalars(
                select(Order.number).where(Order.customer_id == customer_id, Order.number.in_(variants)))}
    about_orders = _ABOUT_ORDERS.search(question) is not None
    named: list[str] = []
    for match, token in found:
        if token not in tokens or token in named or token.upper() in mine:
            continue
        before = question[:match.start()] + match.group(0)[: -len(token)]
        if ((shape is not None and shape.fullmatch(token) and (about_orders or _has_letters(token)))
                or (_CALLED_AN_ORDER.search(before) and _digits(token) >= 3)
                or (_BARE_ORDER.search(before) and _digits(token) >= 3 and (_has_letters(token) or _digits(token) >= 5))):
            named.append(token)
    return named


def _digits(token: str) -> int:
    return sum(c.isdigit() for c in token)


def _has_letters(token: str) -> bool:
    return any(c.isalpha() for c in token)


def _order_shape(sessions: sessionmaker[Session]) -> re.Pattern | None:
    """A pattern matching the store's order-number formats, read from its oldest and newest
    orders once per sessions factory (again after SHAPE_TTL_S, or while the store has none):
    letters and separators as they are, each run of digits by its length, up to one digit
    more (A1001 ... A9999 go on to A10000). None when the store has no orders."""
    cached = _shapes.get(sessions)
    if cached is not None and cached[1] is not None and time.monotonic() - cached[0] < SHAPE_TTL_S:
        return cached[1]
    with sessions() as session:
        sample = set(session.scalars(select(Order.number).order_by(Order.id).limit(SHAPE_SAMPLE)))
        sample |= set(session.scalars(select(Order.number).order_by(Order.id.desc()).limit(SHAPE_SAMPLE)))
    spans: dict[tuple[str, ...], list[tuple[int, int]]] = {}  # format ("" for a digit run) -> (min, max) lengths
    for number in sample:
        runs = re.findall(r"\d+|\D+", number.strip())
        lengths = [len(r) for r in runs if r.isdigit()]
        if not lengths:
            continue
        key = tuple("" if r.isdigit() else r.upper() for r in runs)
        seen = spans.get(key)
        spans[key] = [(min(lo, n), max(hi, n)) for (lo, hi), n in zip(seen, lengths)] if seen else [(n, n) for n in lengths]
    formats = sorted({_format_pattern(key, ranges) for key, ranges in spans.items()})
    shape = re.compile("|".join(f"(?:{f})" for f in formats), re.IGNORECASE) if formats else None
    _shapes[sessions] = (time.monotonic(), shape)
    return shape


def _format_pattern(key: tuple[str, ...], ranges: list[tuple[int, int]]) -> str:
    digit_runs = iter(ranges)
    parts = []
    for part in key:
        if part:
            parts.append(re.escape(part))
        else:
            low, high = next(digit_runs)
            parts.append(rf"\d{{{low},{high + 1}}}")
    return "".join(parts)
