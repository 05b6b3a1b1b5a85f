"""Agent accounts: created from the command line, passwords hashed with Argon2.

    python -m chatbot create-agent NAME        # asks for the password twice
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shopcore.store.db import transaction
from shopcore.store.models import AgentAccount

MIN_PASSWORD_CHARS = 10
_hasher = PasswordHasher()


class AccountError(Exception):
    """The account cannot be created as asked (name taken, password too short, ...)."""


def create_agent(sessions: sessionmaker[Session], username: str, password: str) -> int:
    """Create an agent account; return its id."""
    username = username.strip()
    if not username or len(username) > 100 or not username.isprintable():
        raise AccountError("the agent name must be 1-100 printable characters")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    try:
        with transaction(sessions) as session:
            account = AgentAccount(username=username, password_hash=_hasher.hash(password))
            session.add(account)
            session.flush()
            return account.id
    except IntegrityError:
        raise AccountError(f"an agent named {username!r} already exists") from None


def authenticate(sessions: sessionmaker[Session], username: str, password: str) -> str | None:
    """The agent's name if the password is right, else None (same answer for unknown names)."""
    with transaction(sessions) as session:
        account = session.scalars(select(AgentAccount).where(AgentAccount.username == username)).first()
        if account is None:
            _hasher.hash(password)  # spend the same time as a real check: names are not an oracle
            return None
        try:
            _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = _hasher.hash(password)
        return account.username


def agent_exists(sessions: sessionmaker[Session], username: str) -> bool:
    """Whether the account behind a console session still exists."""
    with sessions() as session:
        found = session.scalars(select(AgentAccount.id).where(AgentAccount.username == username)).first()
        return found is not None
