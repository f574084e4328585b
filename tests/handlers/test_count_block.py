"""The one-message vote-count record, and the two numbers of a question asking for two: any separators,
with or without words, read back exactly; anything else is None, never an exception (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.count_block import parse_count_block, parse_count_pair
from models.election.record import FORM_ORDER, FULL_ORDER

COUNT = st.integers(min_value=0, max_value=99_999)
SEP = st.sampled_from([" ", "/", ", ", " - ", "; ", "\n", " | ", "  "])
WORDS = {"roll": "danh sách", "attendees": "có mặt", "ballots_issued": "phát ra", "valid_ballots": "hợp lệ",
         "invalid_ballots": "không hợp lệ", "votes_for": "trúng cử"}


def _shown(n: int, grouped: bool) -> str:
    return f"{n:,}".replace(",", ".") if grouped else str(n)


@given(st.lists(COUNT, min_size=4, max_size=4) | st.lists(COUNT, min_size=6, max_size=6), SEP, st.booleans())
def test_numbers_in_form_order_with_any_separator(values: list[int], sep: str, grouped: bool) -> None:
    order = FORM_ORDER if len(values) == 4 else FULL_ORDER
    text = sep.join(_shown(v, grouped) for v in values)
    assert parse_count_block(text) == dict(zip(order, values, strict=True))


@given(st.permutations(FULL_ORDER), st.lists(COUNT, min_size=6, max_size=6), st.booleans())
def test_words_decide_whatever_the_order(fields: list[str], values: list[int], words_first: bool) -> None:
    parts = [f"{WORDS[f]} {v}" if words_first else f"{v} {WORDS[f]}" for f, v in zip(fields, values, strict=True)]
    assert parse_count_block(", ".join(parts)) == dict(zip(fields, values, strict=True))


@given(st.text(max_size=60))
def test_never_raises(text: str) -> None:
    result = parse_count_block(text)
    assert result is None or set(FORM_ORDER) <= set(result)


def test_not_a_block() -> None:
    for text in ("350", "350 330", "350 330 320", "350 330 320 301 5", "-350 330 320 301", "350 -330 320 301"):
        assert parse_count_block(text) is None


PAIRS = st.sampled_from([("roll", "attendees"), ("valid_ballots", "votes_for")])


@given(PAIRS, st.lists(COUNT, min_size=2, max_size=2), SEP, st.booleans())
def test_a_pair_in_form_order_with_any_separator(pair: tuple[str, str], values: list[int], sep: str,
                                                 grouped: bool) -> None:
    text = sep.join(_shown(v, grouped) for v in values)
    assert parse_count_pair(text, pair) == dict(zip(pair, values, strict=True))


@given(PAIRS, st.lists(COUNT, min_size=2, max_size=2), st.booleans(), st.booleans())
def test_a_pair_named_by_words_in_any_order(pair: tuple[str, str], values: list[int], swapped: bool,
                                            words_first: bool) -> None:
    fields = pair[::-1] if swapped else pair
    parts = [f"{WORDS[f]} {v}" if words_first else f"{v} {WORDS[f]}" for f, v in zip(fields, values, strict=True)]
    assert parse_count_pair(", ".join(parts), pair) == dict(zip(fields, values, strict=True))


@given(PAIRS, st.text(max_size=40))
def test_a_pair_never_raises(pair: tuple[str, str], text: str) -> None:
    result = parse_count_pair(text, pair)
    assert result is None or set(result) == set(pair)


def test_not_a_pair() -> None:
    for text in ("350", "350 330 320", "350 330 320 301", "-350 330", "1 000", "1 050", "hợp lệ 320, có mặt 330"):
        assert parse_count_pair(text, ("roll", "attendees")) is None, text
