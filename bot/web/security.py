"""The signed session cookie and CSRF tokens (passwords: ``models.passwords``).

The cookie holds ``nonce|user_id|issued`` signed with HMAC-SHA256 under the web secret key. The
nonce changes at every login and logout; the CSRF token of a page is an HMAC of the nonce, so a
form from another session (or another site) is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

SESSION_MAX_AGE = 12 * 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class Session:
    nonce: str
    user_id: int | None = None
    issued: int = 0
    dirty: bool = False  # set the cookie on the response

    @classmethod
    def fresh(cls, user_id: int | None = None) -> Session:
        return cls(nonce=secrets.token_urlsafe(18), user_id=user_id, issued=int(time.time()), dirty=True)


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def dump_session(session: Session, secret: str) -> str:
    body = f"{session.nonce}|{session.user_id or ''}|{session.issued}"
    return f"{body}|{_mac(secret, 'session|' + body)}"


def load_session(cookie: str | None, secret: str, now: float | None = None) -> Session | None:
    """The session in a cookie, or None when it is missing, forged or too old."""
    if not cookie:
        return None
    parts = cookie.split("|")
    if len(parts) != 4:
        return None
    nonce, user, issued, mac = parts
    body = f"{nonce}|{user}|{issued}"
    if not hmac.compare_digest(mac, _mac(secret, "session|" + body)):
        return None
    try:
        issued_at = int(issued)
        user_id = int(user) if user else None
    except ValueError:
        return None
    if (now if now is not None else time.time()) - issued_at > SESSION_MAX_AGE:
        return None
    return Session(nonce=nonce, user_id=user_id, issued=issued_at)


def csrf_token(session: Session, secret: str) -> str:
    return _mac(secret, "csrf|" + session.nonce)


def csrf_ok(session: Session, secret: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(token), csrf_token(session, secret))
