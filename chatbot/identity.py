"""Who the shopper is: a token the shop's own backend signs, and nothing the shopper types.

The token is a JSON Web Token signed with HMAC-SHA256 (HS256) and CHATBOT_SECRET_KEY,
carrying `{"customer_id": 12, "exp": <unix time>}`. JWT is used because every language a
shop backend is written in has a library that mints one; from Python:

    from chatbot.identity import mint_token
    token = mint_token(12, secret="<CHATBOT_SECRET_KEY>", ttl_s=3600)

or from a shell: `python -m chatbot mint-token 12`. A missing, malformed, forged or expired
token makes the shopper anonymous, and anonymous shoppers get no order data; so does one
that expires further ahead than CHATBOT_CUSTOMER_TOKEN_MAX_TTL_S (a token that never
expires is a password that cannot be changed) or names a customer id outside 1..2^63-1
(the store's 64-bit ids).
"""

from __future__ import annotations

import logging
import time

import jwt

ALGORITHM = "HS256"
MAX_CUSTOMER_ID = 2**63 - 1  # customers.id is a 64-bit integer
log = logging.getLogger(__name__)


def _valid_id(customer_id: object) -> bool:
    return not isinstance(customer_id, bool) and isinstance(customer_id, int) and 1 <= customer_id <= MAX_CUSTOMER_ID


def mint_token(customer_id: int, secret: str, ttl_s: int = 3600, *, now: float | None = None) -> str:
    """Sign `{customer_id, exp}` for a shopper the shop's backend has signed in."""
    if not _valid_id(customer_id):
        raise ValueError(f"customer_id must be an integer from 1 to 2**63-1, got {customer_id!r}")
    issued = int(now if now is not None else time.time())
    return jwt.encode({"customer_id": customer_id, "exp": issued + ttl_s}, secret, algorithm=ALGORITHM)


def customer_from_token(token: str | None, secret: str, max_ttl_s: int = 7 * 86400) -> int | None:
    """The customer id of a valid, unexpired token; None (anonymous) for anything else."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "customer_id"]})
    except jwt.PyJWTError as exc:
        # Not an error for the shopper (they chat anonymously), but the shop wants to know.
        log.info("customer token refused: %s", exc)
        return None
    if not isinstance(claims["exp"], int | float) or claims["exp"] > time.time() + max_ttl_s:
        log.info("customer token refused: it expires more than %d s from now", max_ttl_s)
        return None
    customer_id = claims["customer_id"]
    if not _valid_id(customer_id):
        log.info("customer token refused: customer_id is not an integer from 1 to 2**63-1")
        return None
    return customer_id
