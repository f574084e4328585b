"""Lenient parsers for what village heads type (pure functions, stdlib only).

Users type on cheap phones, often without diacritics and sometimes in decomposed Unicode (NFD).
Every parser here returns ``None`` for input it cannot read with confidence and never raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

from texts.catalog import fold

__all__ = [
    "fold",
    "match_choice",
    "nfc",
    "parse_count",
    "parse_date",
    "parse_person_name",
    "parse_phone",
    "parse_yes_no",
    "same_person",
]

MAX_COUNT = 10_000_000
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_NAME_LEN = 80


def nfc(text: str) -> str:
    """NFC-normalise, strip, and collapse runs of whitespace to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


# --- dates -------------------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(
    r"(?<![0-9/.\-])([0-9]{1,2})([/.\-])([0-9]{1,2})(?:\2([0-9]{4}|[0-9]{2}))?(?![/.\-]?[0-9])"
)
_VERBAL_DATE = re.compile(
    r"(?<![0-9])([0-9]{1,2}) ?thang ?([0-9]{1,2})(?![0-9])(?:,? ?nam ?([0-9]{4}|[0-9]{2})(?![0-9]))?"
)
# a month alone, for a planned date: "tháng 3/2027", "tháng 3 năm 2027", "3/2027", "tháng 3"
_MONTH_YEAR = re.compile(r"(?:\bthang ?)?(?<![0-9/.\-])([0-9]{1,2})(?: ?[/.\-] ?|,? ?nam ?)([0-9]{4})(?![0-9/.\-])")
_MONTH_ONLY = re.compile(r"\bthang ?([0-9]{1,2})(?![0-9/.\-])")
_RELATIVE_DAYS = {"hom nay": 0, "hom qua": -1, "hom kia": -2, "ngay mai": 1, "ngay kia": 2}
_RELATIVE = re.compile(r"\b(hom nay|hom qua|hom kia|ngay mai|ngay kia|mai)\b")


def _infer_year(day: int, month: int, today: date, prefer: str) -> date | None:
    step = -1 if prefer == "past" else 1
    for offset in range(9):  # 29/02 may need up to 8 years to recur
        year = today.year + step * offset
        if not MIN_YEAR <= year <= MAX_YEAR:
            return None
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if (candidate <= today) if prefer == "past" else (candidate >= today):
            return candidate
    return None


def _make_date(day: str, month: str, year: str | None, today: date, prefer: str) -> date | None:
    d, m = int(day), int(month)
    if year is None:
        return _infer_year(d, m, today, prefer)
    y = 2000 + int(year) if len(year) == 2 else int(year)
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _month_date(month: str, year: str | None, today: date) -> date | None:
    """A planned month as a date: its first day, or today within the current month; no year: the next
    such month (this one included)."""
    m = int(month)
    if not 1 <= m <= 12:
        return None
    y = int(year) if year is not None else today.year + (m < today.month)
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    return today if (y, m) == (today.year, today.month) else date(y, m, 1)


def parse_date(text: str, today: date, prefer: Literal["past", "future"] = "past") -> date | None:
    """Read one day-first date (``15/12/2024``, ``ngày 15 tháng 12``, ``hôm qua`` …) from ``text``.

    A missing year is the most recent such date not after ``today`` (``prefer="past"``) or the
    nearest on or after it (``prefer="future"``). A planned date (``prefer="future"``) may be a month
    alone (``tháng 3/2027``, ``tháng 3 năm 2027``, ``3/2027``, ``tháng 3``): its first day (today in the
    current month). Impossible, conflicting or absent dates → None.
    """
    s = fold(text)
    explicit = [(m[1], m[3], m[4]) for m in _NUMERIC_DATE.finditer(s)]
    explicit += [(m[1], m[2], m[3]) for m in _VERBAL_DATE.finditer(s)]
    found: set[date] = set()
    if not explicit and prefer == "future":
        months = [(m[1], m[2]) for m in _MONTH_YEAR.finditer(s)]
        months += [(m[1], None) for m in _MONTH_ONLY.finditer(_MONTH_YEAR.sub(" ", s))]
        for month, year in months:
            planned = _month_date(month, year, today)
            if planned is None:
                return None
            found.add(planned)
    for day, month, year in explicit:
        parsed = _make_date(day, month, year, today, prefer)
        if parsed is None:
            return None
        found.add(parsed)
    for m in _RELATIVE.finditer(s):
        if m[1] == "mai" and explicit:
            continue  # a bare "mai" next to a written date is more likely a name (chị Mai)
        try:
            found.add(today + timedelta(days=_RELATIVE_DAYS.get(m[1], 1)))
        except OverflowError:
            return None
    return found.pop() if len(found) == 1 else None


# --- counts ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[0-9]+(?:[., ][0-9]+)*")
_NEGATIVE = re.compile(r"- ?$")


def _read_number(token: str) -> list[int] | None:
    """Values in one digit run; None if it is a decimal or badly grouped."""
    seps = set(re.findall(r"[., ]", token))
    groups = re.split(r"[., ]", token)
    if not seps:
        digits = token.lstrip("0") or "0"
        return [int(digits)] if len(digits) <= 9 else [MAX_COUNT + 1]
    thousands = len(seps) == 1 and 1 <= len(groups[0]) <= 3 and not groups[0].startswith("0")
    if thousands and all(len(g) == 3 for g in groups[1:]):
        return [int("".join(groups))] if len(token) <= 16 else [MAX_COUNT + 1]
    if seps == {" "}:  # separate numbers typed next to each other
        return [v for g in groups for v in (_read_number(g) or [])]
    return None


def parse_count(text: str) -> int | None:
    """Read one non-negative whole number such as ``1.402``, ``1 402`` or ``320 phiếu``."""
    s = nfc(text).replace("\u2212", "-")
    values: set[int] = set()
    for m in _NUMBER.finditer(s):
        if _NEGATIVE.search(s, max(0, m.start() - 2), m.start()):
            return None
        read = _read_number(m.group())
        if read is None:
            return None
        values.update(read)
    if len(values) != 1:
        return None
    value = values.pop()
    return value if value <= MAX_COUNT else None


# --- yes / no ----------------------------------------------------------------------------------

_YES = {
    "co", "c", "dung", "dung roi", "ok", "oke", "okie", "okay", "oki", "vang", "u", "uh", "um", "yes",
    "y", "dong y", "xac nhan", "chuan", "phai", "da", "chinh xac",
}  # fmt: skip
_NO = {
    "khong", "ko", "k", "kh", "hong", "no", "n", "sai", "chua", "khong dung", "ko dung", "k dung",
    "khong phai", "chua dung", "sai roi",
}  # fmt: skip
_YES_NO = _YES | _NO
_POLITE = {"a", "nhe", "nha", "nhen", "ha", "ah", "roi", "oi", "vay"}


def _words(text: str) -> list[str]:
    """Folded words with punctuation and symbols removed."""
    s = fold(text)
    return "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in s).split()


def parse_yes_no(text: str) -> bool | None:
    """``có``/``ok``/``đúng`` … → True, ``không``/``ko``/``sai`` … → False, anything else → None."""
    words = _words(text)
    while len(words) > 1 and words[-1] in _POLITE and " ".join(words) not in _YES_NO:
        words.pop()
    if len(words) > 1 and words[0] in {"da", "vang"} and " ".join(words) not in _YES_NO:
        words.pop(0)  # "dạ không", "vâng đúng"
    phrase = " ".join(words)
    if phrase in _YES:
        return True
    if phrase in _NO:
        return False
    return None


# --- choices -----------------------------------------------------------------------------------

_CHOICE_NUMBER = re.compile(r"(?:so ?)?([0-9]{1,4}) ?[.)]?")


def match_choice(text: str, choices: Sequence[tuple[str, str]]) -> str | None:
    """Pick a choice by its number from 1, its value, its label, or a unique 3+ letter prefix."""
    typed = nfc(text)
    key = fold(typed).rstrip(" .!?")
    if not key:
        return None
    number = _CHOICE_NUMBER.fullmatch(key)
    if number and 1 <= int(number[1]) <= len(choices):
        return choices[int(number[1]) - 1][0]
    for value, _label in choices:
        if typed == value:
            return value
    for keyed in (lambda s: nfc(s).lower().rstrip(" .!?"), fold):
        wanted = keyed(typed)
        hits = {value for value, label in choices if keyed(label) == wanted}
        if len(hits) == 1:
            return hits.pop()
        if hits:
            return None
    if len(key) >= 3:
        hits = {value for value, label in choices if fold(label).startswith(key)}
        if len(hits) == 1:
            return hits.pop()
    return None


# --- names and phones --------------------------------------------------------------------------


def _vietnamese_letters() -> frozenset[str]:
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    vowels = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones}
    letters |= set("abcdefghijklmnopqrstuvwxyzđ")
    return frozenset(letters | {c.upper() for c in letters})


_LETTERS = "".join(sorted(_vietnamese_letters()))
_NAME_WORD = re.compile(f"[{_LETTERS}]+(?:['-][{_LETTERS}]+)*")


def parse_person_name(text: str) -> str | None:
    """A full name of 2+ Vietnamese words → NFC, each word capitalised (``Nguyễn Văn An``)."""
    s = nfc(text).replace("\u2019", "'")
    words = s.split(" ")
    if len(s) > MAX_NAME_LEN or len(words) < 2 or not all(_NAME_WORD.fullmatch(w) for w in words):
        return None
    return " ".join(w[0].upper() + w[1:].lower() for w in words)


def same_person(a: str, b: str) -> bool:
    """True if two non-empty names differ only in case, spacing or diacritics."""
    key = fold(a)
    return bool(key) and key == fold(b)


_PHONE = re.compile(r"(?:\+?840?|0)([35789][0-9]{8})")


def parse_phone(text: str) -> str | None:
    """A Vietnamese mobile number (``0912 345 678``, ``+84912345678`` …) → ``0912345678``."""
    compact = re.sub(r"[\s.\-()]", "", nfc(text))
    m = _PHONE.fullmatch(compact)
    return "0" + m[1] if m else None
