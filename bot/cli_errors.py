"""One plain line for a command that failed: what went wrong, in words an operator can act on.

``python -m bot … --debug`` prints the traceback as well. The database's own errors are named with the
database they concern (its URL without the password); a file's with its path.
"""

from __future__ import annotations

import os
import traceback

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

MAX = 300  # characters of the line


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= MAX else line[: MAX - 1] + "…"


def database_name(url: str) -> str:
    """The database a URL names, without its password (never printed)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the configured database"


def _root(exc: BaseException) -> BaseException:
    """The driver's own error behind SQLAlchemy's wrapper (and behind asyncpg's chained causes)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    seen: set[int] = set()
    while exc.__cause__ is not None and id(exc) not in seen and not str(exc).strip():
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


DRIVERS = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "alembic")


def root_in_driver(exc: BaseException) -> bool:
    """Whether the error was raised inside the database's driver (a refused connection, not a port in use)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return isinstance(exc, DBAPIError) or any(
        any(f"{os.sep}{name}{os.sep}" in frame.filename for name in DRIVERS) for frame in frames)


def _missing_table(why: str) -> bool:
    return "no such table" in why or ("relation" in why and "does not exist" in why)


def one_line(exc: BaseException, database_url: str | None = None) -> str:
    """The message of a failed command, one line."""
    where = database_name(database_url) if database_url else "the database"
    root = _root(exc)
    if isinstance(root, (OSError, TimeoutError)) and root_in_driver(exc) and getattr(root, "filename", None) is None:
        why = _first_line(str(root)) or type(root).__name__
        return f"database unreachable ({where}): {why}"
    if isinstance(exc, SQLAlchemyError) or type(root).__module__.split(".")[0] in ("asyncpg", "sqlite3"):
        why = _first_line(str(root)) or type(root).__name__
        hint = " (the schema is missing or old: python -m bot db upgrade)" if _missing_table(why) else ""
        return f"database error ({where}): {why}{hint}"
    if isinstance(root, OSError) and root.filename is not None:
        return f"{root.filename}: {root.strerror or _first_line(str(root))}"
    text = _first_line(str(root))
    return f"{type(root).__name__}: {text}" if text else type(root).__name__
