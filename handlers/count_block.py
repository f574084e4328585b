"""The whole vote-count record in one message: ``350 330 320 301``, ``350/330/320/301``,
``danh sách 350, có mặt 330, hợp lệ 320, trúng cử 301`` — or the two numbers of a question that asks
for two (``350 330``) (pure functions, stdlib only).

Numbers are read in the order of the paper form (:data:`models.election.record.FORM_ORDER`, or the
six-number :data:`FULL_ORDER` with ballots issued and invalid); when every number carries a word
that names it (before it, or every one after it), the words decide instead of the order.
Anything unclear → None, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from models.election.record import FORM_ORDER, FULL_ORDER
from texts.catalog import fold

MAX_COUNT = 10_000_000
# a number: digits, or a thousands group such as 1.402 (one separator, then exactly three digits)
_NUMBER = re.compile(r"(?<![0-9])([0-9]{1,3}[.,][0-9]{3}(?![0-9.,]?[0-9])|[0-9]+)")
# folded keywords, longest first ("khong hop le" before "hop le")
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("khong hop le", "invalid_ballots"), ("phat ra", "ballots_issued"), ("so phieu phat", "ballots_issued"),
    ("co mat", "attendees"), ("tham du", "attendees"), ("tham gia", "attendees"), ("du hop", "attendees"),
    ("hop le", "valid_ballots"), ("danh sach", "roll"), ("cu tri", "roll"), ("tong so", "roll"),
    ("trung cu", "votes_for"), ("duoc bau", "votes_for"), ("bau cho", "votes_for"), ("so phieu bau", "votes_for"),
)


def _field_in(segment: str) -> str | None:
    """The one field a stretch of words names, or None (none or several)."""
    found: list[str] = []
    rest = segment
    for word, name in _KEYWORDS:
        if word in rest:
            found.append(name)
            rest = rest.replace(word, " ")
    return found[0] if len(set(found)) == 1 else None


def _read(text: str, orders: Sequence[Sequence[str]], required: Sequence[str]) -> dict[str, int] | None:
    """Two or more numbers keyed by field: by their words when every number has one (all of ``required``
    among them), else by the one of ``orders`` as long as the numbers; None when unclear."""
    s = fold(text).replace("\u2212", "-")
    if re.search(r"(^|\s)-[0-9]", s):  # a negative number (a dash between numbers only separates them)
        return None
    matches = list(_NUMBER.finditer(s))
    if len(matches) < 2:
        return None
    values = [int(re.sub(r"[.,]", "", m[1])) for m in matches]
    if any(v > MAX_COUNT for v in values):
        return None
    bounds = [0, *(m.end() for m in matches)]
    before = [_field_in(s[bounds[i]:m.start()]) for i, m in enumerate(matches)]
    after_ends = [m.start() for m in matches[1:]] + [len(s)]
    after = [_field_in(s[m.end():after_ends[i]]) for i, m in enumerate(matches)]
    for names in (before, after):
        if all(names) and len(set(names)) == len(names):
            keyed = dict(zip((n for n in names if n), values, strict=True))
            return keyed if all(f in keyed for f in required) else None
    order = next((o for o in orders if len(o) == len(values)), None)
    return None if order is None else dict(zip(order, values, strict=True))


def parse_count_block(text: str) -> dict[str, int] | None:
    """The counts of a one-message record keyed by field, or None when it is not one (fewer than two
    numbers, an unreadable or duplicated field, a number too large)."""
    return _read(text, (FORM_ORDER, FULL_ORDER), FORM_ORDER)


def parse_count_pair(text: str, pair: tuple[str, str]) -> dict[str, int] | None:
    """The two numbers of a question asking for ``pair`` (two fields, in form order): in that order, or
    each named by its word; None for anything else (one number, three, another field named, a
    thousands group such as the ``000`` of ``1 000``)."""
    if any(len(m[1]) > 1 and m[1].startswith("0") for m in _NUMBER.finditer(fold(text))):
        return None
    found = _read(text, (pair,), pair)
    return found if found is not None and set(found) == set(pair) else None
