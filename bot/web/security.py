"""The signed session cookie and CSRF tokens (passwords: ``models.accounts.passwords``).

The cookie holds ``nonce|user_id|issued|epoch`` signed with HMAC-SHA256 under the web secret key. The
nonce changes at every login and logout; the CSRF token of a page is an HMAC of the nonce, so a
form from another session (or another site) is refused. ``epoch`` is the login's session epoch at
login time: logout and a new password move the login's epoch on, and every older cookie — a copy
included — stops working (the guard compares it with the database).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

SESSION_MAX_AGE = 12 * 3600
DEVICE_COOKIE = "vrb_device"  # "this browser logged in as NAME before": it skips the login slow-downs
DEVICE_MAX_AGE = 90 * 24 * 3600


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
    epoch: int = 0

    @classmethod
    def fresh(cls, user_id: int | None = None, epoch: int = 0) -> Session:
        return cls(nonce=secrets.token_urlsafe(18), user_id=user_id, issued=int(time.time()), dirty=True, epoch=epoch)


def _mac(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest())


def dump_session(session: Session, secret: str) -> str:
    body = f"{session.nonce}|{session.user_id or ''}|{session.issued}|{session.epoch}"
    return f"{body}|{_mac(secret, 'session|' + body)}"


def load_session(cookie: str | None, secret: str, now: float | None = None) -> Session | None:
    """The session in a cookie, or None when it is missing, forged or too old."""
    if not cookie:
        return None
    parts = cookie.split("|")
    if len(parts) != 5:
        return None
    nonce, user, issued, epoch, mac = parts
    body = f"{nonce}|{user}|{issued}|{epoch}"
    if not hmac.compare_digest(mac, _mac(secret, "session|" + body)):
        return None
    try:
        issued_at, epoch_no = int(issued), int(epoch)
        user_id = int(user) if user else None
    except ValueError:
        return None
    if (now if now is not None else time.time()) - issued_at > SESSION_MAX_AGE:
        return None
    return Session(nonce=nonce, user_id=user_id, issued=issued_at, epoch=epoch_no)


def csrf_token(session: Session, secret: str) -> str:
    return _mac(secret, "csrf|" + session.nonce)


def csrf_ok(session: Session, secret: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(token), csrf_token(session, secret))


def device_cookie(account: str, secret: str, now: float | None = None) -> str:
    """A signed note that this browser logged in as ``account`` (case-folded name), valid 90 days."""
    issued = int(now if now is not None else time.time())
    body = f"{_b64(account.encode())}|{issued}"
    return f"{body}|{_mac(secret, 'device|' + body)}"


def device_ok(cookie: str | None, account: str, secret: str, now: float | None = None) -> bool:
    """Whether ``cookie`` is our device note for ``account``, unexpired."""
    if not cookie or not account:
        return False
    parts = cookie.split("|")
    if len(parts) != 3:
        return False
    name, issued, mac = parts
    if not hmac.compare_digest(mac, _mac(secret, f"device|{name}|{issued}")):
        return False
    try:
        fresh = (now if now is not None else time.time()) - int(issued) <= DEVICE_MAX_AGE
        return fresh and _unb64(name).decode() == account
    except ValueError:
        return False
