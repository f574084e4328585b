"""Passwords (scrypt, salted, constant-time compare) and the signed session cookie.

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

# scrypt: 2^15 × 8 × 128 bytes = 32 MiB per hash, about 0.1 s; OWASP's minimum is 2^17 / 8 / 1
# at 128 MiB, which is too heavy for a small server answering a few logins a day — this is the
# same cost class as their N=2^15, r=8, p=3 alternative with p=1.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
SESSION_MAX_AGE = 12 * 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                maxmem=SCRYPT_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# verified against when the username is unknown, so both cases take the same time
DUMMY_HASH = hash_password(secrets.token_urlsafe(12))


def new_password() -> str:
    """A readable random password for demo accounts: four groups of four."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


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
