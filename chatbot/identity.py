"""Who the shopper is: a token the shop's own backend signs, and nothing the shopper types.

The token is a JSON Web Token signed with HMAC-SHA256 (HS256) and CHATBOT_SECRET_KEY,
carrying `{"customer_id": 12, "exp": <unix time>}`. JWT is used because every language a
shop backend is written in has a library that mints one; from Python:

    from chatbot.identity import mint_token
    token = mint_token(12, secret="<CHATBOT_SECRET_KEY>", ttl_s=3600)

or from a shell: `python -m chatbot mint-token 12`. A missing, malformed, forged or expired
token makes the shopper anonymous, and anonymous shoppers get no order data.
"""

from __future__ import annotations

import logging
import time

import jwt

ALGORITHM = "HS256"
log = logging.getLogger(__name__)


def mint_token(customer_id: int, secret: str, ttl_s: int = 3600, *, now: float | None = None) -> str:
    """Sign `{customer_id, exp}` for a shopper the shop's backend has signed in."""
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1:
        raise ValueError(f"customer_id must be a positive integer, got {customer_id!r}")
    issued = int(now if now is not None else time.time())
    return jwt.encode({"customer_id": customer_id, "exp": issued + ttl_s}, secret, algorithm=ALGORITHM)


def customer_from_token(token: str | None, secret: str) -> int | None:
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
    customer_id = claims["customer_id"]
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1:
        log.info("customer token refused: customer_id %r is not a positive integer", customer_id)
        return None
    return customer_id
