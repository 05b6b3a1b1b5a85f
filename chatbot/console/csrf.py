"""Console forms carry a secret token tied to the browser's session (the synchronizer
token pattern), so a page elsewhere cannot post them with an agent's cookie.

SameSite=Lax alone lets any page of the same site post: another port of the same host, or
a sibling subdomain. Every state-changing console form, the login form included, holds a
hidden `csrf_token` that must equal the one in the signed session cookie; a page that
cannot read the console's pages cannot know it. Logging in starts a fresh session (and a
fresh token), so a token planted before login is worthless after it.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request

FIELD = "csrf_token"
SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """This session's token, made on first use; forms put it in their hidden FIELD."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


async def require_csrf_token(request: Request) -> None:
    """Refuse a form post whose token is missing or is not this session's."""
    sent = (await request.form()).get(FIELD)
    expected = request.session.get(SESSION_KEY)
    if not (isinstance(sent, str) and isinstance(expected, str) and secrets.compare_digest(sent, expected)):
        raise HTTPException(403, "This form has expired or did not come from the console: reload the page and try again.")
