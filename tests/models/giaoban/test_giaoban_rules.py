"""The giao ban calendar arithmetic and the parsers of typed answers (hypothesis for the parsers)."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from handlers.giaoban_replies import split_answer
from models.giaoban.rules import nth_weekday, occurrences, parse_hhmm


@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from(["{h}:{m:02d}", "{h}h{m:02d}", "{h:02d}.{m:02d}"]))
def test_parse_hhmm_reads_the_usual_ways_of_writing_a_time(h: int, m: int, fmt: str) -> None:
    assert parse_hhmm(fmt.format(h=h, m=m)) == time(h, m)


@given(st.text(max_size=8))
def test_parse_hhmm_never_raises(text: str) -> None:
    result = parse_hhmm(text)
    assert result is None or isinstance(result, time)


def test_parse_hhmm_refuses_what_is_not_a_time() -> None:
    assert [parse_hhmm(x) for x in ("24:00", "8:60", "mai", "", "8h", " 7 ")] == [None, None, None, None, time(8),
                                                                                   time(7)]


@given(st.dates(date(2020, 1, 1), date(2035, 12, 31)), st.integers(0, 6), st.integers(1, 70))
def test_weekly_occurrences_fall_on_the_weekday_seven_days_apart(start: date, weekday: int, days: int) -> None:
    found = occurrences("weekly", start, start + timedelta(days=days), weekday=weekday)
    assert all(d.weekday() == weekday and start <= d <= start + timedelta(days=days) for d in found)
    assert all((b - a).days == 7 for a, b in pairwise(found))
    assert len(found) in (days // 7, days // 7 + 1)


def test_monthly_occurrences() -> None:
    assert occurrences("monthly_day", date(2025, 1, 15), date(2025, 4, 30), day=31) == [
        date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]
    assert occurrences("monthly_nth", date(2025, 1, 1), date(2025, 3, 31), weekday=0, nth=1) == [
        date(2025, 1, 6), date(2025, 2, 3), date(2025, 3, 3)]  # the first Monday
    assert nth_weekday(2025, 3, 0, 5) == date(2025, 3, 31)  # the last Monday
    assert occurrences("monthly_nth", date(2025, 1, 1), date(2025, 1, 31), weekday=None, nth=1) == []


@given(st.text(max_size=40))
def test_split_answer_never_raises_and_a_yes_has_no_reason(text: str) -> None:
    attending, reason = split_answer(text)
    assert attending in (True, False, None)
    if attending is not False:
        assert reason == ""


def test_split_answer() -> None:
    assert split_answer("Có") == (True, "")
    assert split_answer("không, bận việc gia đình") == (False, "bận việc gia đình")
    assert split_answer("ko - ốm") == (False, "ốm")
    assert split_answer("Không") == (False, "")
    assert split_answer("chưa biết") == (None, "")
    assert split_answer("có lẽ") == (None, "")
