"""Agent accounts and their console logins.

    python -m chatbot create-agent NAME        # asks for the password twice

Passwords are hashed with Argon2 and must not be easy to guess (zxcvbn's estimate, with the
agent's name as a known word). Each login is a row in agent_sessions, so logging out or
deleting the account ends it on the server; the browser's cookie only carries a random
secret whose SHA-256 is that row's id. Argon2 spends 64 MiB per check, so at most
HASHING_AT_ONCE run together: a flood of logins waits instead of taking the memory.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from zxcvbn import zxcvbn

from shopcore.store.db import transaction
from shopcore.store.models import AgentAccount, AgentSession, as_utc, utcnow

MIN_PASSWORD_CHARS = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn 0-4; 3: "safely unguessable" for a throttled online attack
HASHING_AT_ONCE = 2
_hasher = PasswordHasher()
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)


class AccountError(Exception):
    """The account cannot be created as asked (name taken, password too weak, ...)."""


def check_password(username: str, password: str) -> None:
    """Refuse a password that is short or easy to guess, saying why."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    verdict = zxcvbn(password[:100], user_inputs=[username])  # its estimate is slow on long input
    if verdict["score"] < MIN_PASSWORD_SCORE:
        why = verdict["feedback"]["warning"] or "it follows a common pattern"
        raise AccountError(f"the password is too easy to guess ({why.rstrip('.')}): "
                           "use a longer passphrase of unrelated words")


def create_agent(sessions: sessionmaker[Session], username: str, password: str) -> int:
    """Create an agent account; return its id."""
    username = username.strip()
    if not username or len(username) > 100 or not username.isprintable():
        raise AccountError("the agent name must be 1-100 printable characters")
    check_password(username, password)
    with _hashing:
        password_hash = _hasher.hash(password)
    try:
        with transaction(sessions) as session:
            account = AgentAccount(username=username, password_hash=password_hash)
            session.add(account)
            session.flush()
            return account.id
    except IntegrityError:
        raise AccountError(f"an agent named {username!r} already exists") from None


def delete_agent(sessions: sessionmaker[Session], username: str) -> None:
    """Delete an agent account; its logins go with it (the messages they wrote keep their name)."""
    with transaction(sessions) as session:
        account = _account(session, username)
        if account is None:
            raise AccountError(f"no agent named {username!r}")
        session.execute(delete(AgentSession).where(AgentSession.agent_id == account.id))
        session.delete(account)


def authenticate(sessions: sessionmaker[Session], username: str, password: str) -> str | None:
    """The agent's name if the password is right, else None (same answer for unknown names)."""
    with transaction(sessions) as session:
        account = _account(session, username)
        with _hashing:
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


def _account(session: Session, username: str) -> AgentAccount | None:
    return session.scalars(select(AgentAccount).where(AgentAccount.username == username)).first()


def _session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(sessions: sessionmaker[Session], username: str, minutes: int) -> str:
    """Start a console login for the agent; return the secret its cookie carries."""
    secret = secrets.token_urlsafe(32)
    with transaction(sessions) as session:
        account = _account(session, username)
        if account is None:
            raise AccountError(f"no agent named {username!r}")
        session.add(AgentSession(id=_session_id(secret), agent_id=account.id,
                                 expires_at=utcnow() + timedelta(minutes=minutes)))
        # Old logins of this agent that ended or expired are of no further use.
        session.execute(delete(AgentSession).where(AgentSession.agent_id == account.id,
                                                   AgentSession.expires_at < utcnow()))
    return secret


def session_agent(sessions: sessionmaker[Session], secret: str) -> str | None:
    """The agent a login secret belongs to, while it has not ended or expired; else None."""
    with sessions() as session:
        found = session.execute(
            select(AgentAccount.username, AgentSession.expires_at)
            .join(AgentAccount, AgentAccount.id == AgentSession.agent_id)
            .where(AgentSession.id == _session_id(secret), AgentSession.ended_at.is_(None))
        ).first()
    if found is None or as_utc(found.expires_at) <= utcnow():
        return None
    return found.username


def end_session(sessions: sessionmaker[Session], secret: str) -> None:
    """Log out: the secret no longer opens the console, from any copy of the cookie."""
    with transaction(sessions) as session:
        session.execute(update(AgentSession).where(AgentSession.id == _session_id(secret))
                        .values(ended_at=utcnow()))
