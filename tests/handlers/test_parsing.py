"""Tests for handlers.parsing: what village heads actually type."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.parsing import (
    fold,
    match_choice,
    nfc,
    parse_count,
    parse_date,
    parse_person_name,
    parse_phone,
    parse_yes_no,
    same_person,
)

TODAY = date(2024, 12, 20)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- nfc / fold --------------------------------------------------------------------------------


def test_nfc_composes_strips_and_collapses() -> None:
    out = nfc("  " + nfd("Nguyễn") + " \t Văn\n\nAn  ")
    assert out == "Nguyễn Văn An"
    assert out == unicodedata.normalize("NFC", out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn  Văn Ân", "nguyen van an"),
        ("Hoà", "hoa"),
        ("Hòa", "hoa"),
        ("ĐẶNG Đức", "dang duc"),
        (nfd("Trần Thị Bích Ngọc"), "tran thi bich ngoc"),
        ("  Ủy   ban\tnhân dân ", "uy ban nhan dan"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_equates_old_and_new_tone_placement() -> None:
    assert fold("Thuỷ") == fold("Thủy") == fold("THUY")


# --- parse_date --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "15/12/2024",
        "15-12-2024",
        "15.12.2024",
        "15/12/24",
        "ngày 15 tháng 12 năm 2024",
        "ngay 15 thang 12 nam 2024",
        "NGÀY 15 THÁNG 12 NĂM 2024",
        "15 tháng 12",
        "ngày 15/12",
        "15/12",
        "bầu ngày 15/12 ạ",
        "Thôn em bầu xong hôm 15-12-2024 rồi",
        nfd("ngày 15 tháng 12"),
        nfd("ngày 15 tháng 12 năm 2024"),
    ],
)
def test_parse_date_forms(text: str) -> None:
    assert parse_date(text, TODAY) == date(2024, 12, 15)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("hôm nay", 0),
        ("hom nay", 0),
        ("Hôm nay ạ", 0),
        ("hôm qua", -1),
        ("hom qua", -1),
        ("hôm kia", -2),
        ("ngày mai", 1),
        ("ngay mai", 1),
        ("mai", 1),
        ("ngày kia", 2),
        (nfd("hôm qua"), -1),
    ],
)
def test_parse_date_relative(text: str, delta: int) -> None:
    assert parse_date(text, TODAY) == TODAY + timedelta(days=delta)


def test_parse_date_is_day_first() -> None:
    assert parse_date("05/03/2024", TODAY) == date(2024, 3, 5)
    assert parse_date("3/5/2024", TODAY) == date(2024, 5, 3)


def test_parse_date_past_default_crosses_new_year() -> None:
    assert parse_date("15/12", date(2025, 1, 3)) == date(2024, 12, 15)
    assert parse_date("15/12", date(2025, 1, 3), prefer="past") == date(2024, 12, 15)
    assert parse_date("3/1", date(2025, 1, 3)) == date(2025, 1, 3)  # today itself is allowed


def test_parse_date_future_crosses_new_year() -> None:
    assert parse_date("5/1", date(2024, 12, 20), prefer="future") == date(2025, 1, 5)
    assert parse_date("20/12", date(2024, 12, 20), prefer="future") == date(2024, 12, 20)
    assert parse_date("25/12", date(2024, 12, 20), prefer="future") == date(2024, 12, 25)


def test_parse_date_past_and_future_differ_for_same_text() -> None:
    assert parse_date("25 tháng 12", TODAY, prefer="past") == date(2023, 12, 25)
    assert parse_date("25 tháng 12", TODAY, prefer="future") == date(2024, 12, 25)


def test_parse_date_leap_day_without_year() -> None:
    assert parse_date("29/2", date(2025, 1, 3)) == date(2024, 2, 29)
    assert parse_date("29/2", date(2025, 1, 3), prefer="future") == date(2028, 2, 29)


def test_parse_date_explicit_year_ignores_prefer() -> None:
    assert parse_date("1/1/2030", TODAY) == date(2030, 1, 1)
    assert parse_date("1/1/2020", TODAY, prefer="future") == date(2020, 1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2024",
        "31/02",
        "30 tháng 2",
        "0/5/2024",
        "15/13/2024",
        "15/0/2024",
        "29/02/2023",
        "15/12/1989",
        "15/12/2101",
        "15/12/0024",
        "",
        "   ",
        "chưa bầu",
        "ngày 15",
        "15",
        "12/2024",
        "15/12/202",
        "15/12 hoặc 16/12",
        "hôm qua hoặc hôm nay",
    ],
)
def test_parse_date_rejects(text: str) -> None:
    assert parse_date(text, TODAY) is None


def test_parse_date_same_date_twice_is_fine() -> None:
    assert parse_date("15/12, đúng 15/12/2024", TODAY) == date(2024, 12, 15)


def test_parse_date_name_mai_next_to_written_date() -> None:
    assert parse_date("chị Mai trúng, bầu ngày 15/12", TODAY) == date(2024, 12, 15)


# --- parse_count -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("320", 320),
        (" 15 ", 15),
        ("0", 0),
        ("1.402", 1402),
        ("1 402", 1402),
        ("1,402", 1402),
        ("1.402.000", 1_402_000),
        ("1402 phiếu", 1402),
        ("320 phieu", 320),
        ("khoảng 320", 320),
        ("được 320 phiếu ạ", 320),
        ("320.", 320),
        ("10.000.000", 10_000_000),
        ("320 phiếu, đúng 320", 320),
    ],
)
def test_parse_count_accepts(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "-5",
        "- 5",
        "−5",
        "3.5",
        "1.40",
        "1,4025",
        "3,5",
        "0.500",
        "320 hoặc 330",
        "320/400",
        "",
        "   ",
        "ba trăm",
        "10000001",
        "10.000.001",
        "99999999999999999999",
        "1.402,5",
    ],
)
def test_parse_count_rejects(text: str) -> None:
    assert parse_count(text) is None


# --- parse_yes_no ------------------------------------------------------------------------------

YES_WORDS = [
    "có", "co", "c", "đúng", "dung", "ok", "oke", "okie", "vâng", "vang", "ừ", "u", "uh", "yes", "y",
    "đồng ý", "dong y", "xác nhận", "xac nhan", "chuẩn", "phải", "phai",
]  # fmt: skip
NO_WORDS = [
    "không", "khong", "ko", "k", "kh", "hông", "no", "n", "sai", "chưa", "chua", "không đúng",
    "khong dung",
]  # fmt: skip


@pytest.mark.parametrize("text", YES_WORDS)
def test_parse_yes(text: str) -> None:
    assert parse_yes_no(text) is True
    assert parse_yes_no(text.upper()) is True
    assert parse_yes_no(nfd(text) + " ạ!") is True


@pytest.mark.parametrize("text", NO_WORDS)
def test_parse_no(text: str) -> None:
    assert parse_yes_no(text) is False
    assert parse_yes_no(text.upper() + ".") is False
    assert parse_yes_no(text + " nhé") is False


@pytest.mark.parametrize("text", ["Có ạ", "OK!", "đúng rồi", "Dạ đúng ạ.", "có a", "Vâng ạ"])
def test_parse_yes_polite_forms(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["Không ạ", "dạ không", "không đúng nhé!", "Sai rồi"])
def test_parse_no_polite_forms(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize("text", ["1", "0", "2", "", "  ", "có không", "ạ", "abc", "để mai", "?"])
def test_parse_yes_no_unknown(text: str) -> None:
    assert parse_yes_no(text) is None


# --- match_choice ------------------------------------------------------------------------------

CHOICES = [
    ("head", "Bầu trưởng thôn"),
    ("congress", "Đại hội chi bộ"),
    ("hoa", "Thôn Hoà Bình"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "head"),
        ("2", "congress"),
        ("3", "hoa"),
        ("2.", "congress"),
        (" 2 ", "congress"),
        ("số 2", "congress"),
        ("so 2", "congress"),
        ("Số 3)", "hoa"),
        ("congress", "congress"),
        ("Bầu trưởng thôn", "head"),
        ("bầu TRƯỞNG thôn", "head"),
        ("bau truong thon", "head"),
        (nfd("Đại hội chi bộ"), "congress"),
        ("dai hoi chi bo", "congress"),
        ("thôn hòa bình", "hoa"),
        ("dai", "congress"),
        ("Đại hội", "congress"),
        ("bầu", "head"),
        ("thon h", "hoa"),
    ],
)
def test_match_choice(text: str, expected: str) -> None:
    assert match_choice(text, CHOICES) == expected


@pytest.mark.parametrize("text", ["0", "4", "số 9", "", "   ", "ba", "xyz", "-1", "1 2"])
def test_match_choice_no_match(text: str) -> None:
    assert match_choice(text, CHOICES) is None


def test_match_choice_ambiguous_prefix() -> None:
    choices = [("a", "Thôn Đông"), ("b", "Thôn Tây"), ("c", "Xóm Mới")]
    assert match_choice("thôn", choices) is None
    assert match_choice("thon d", choices) == "a"
    assert match_choice("xom", choices) == "c"


def test_match_choice_prefix_needs_three_letters() -> None:
    choices = [("a", "Thôn Đông"), ("c", "Xóm Mới")]
    assert match_choice("xo", choices) is None
    assert match_choice("xom", choices) == "c"


def test_match_choice_number_beats_value() -> None:
    choices = [("2", "Hai"), ("1", "Một")]
    assert match_choice("1", choices) == "2"
    assert match_choice("mot", choices) == "1"


def test_match_choice_exact_label_beats_prefix() -> None:
    choices = [("short", "Thôn"), ("long", "Thôn Đông")]
    assert match_choice("thôn", choices) == "short"
    assert match_choice("thon", choices) == "short"
    assert match_choice("thon do", choices) == "long"


def test_match_choice_diacritic_collision_prefers_exact_case_insensitive() -> None:
    choices = [("yes", "Có"), ("grass", "Cỏ")]
    assert match_choice("có", choices) == "yes"
    assert match_choice("CỎ", choices) == "grass"
    assert match_choice("co", choices) is None


def test_match_choice_empty_choices() -> None:
    assert match_choice("1", []) is None


# --- parse_person_name / same_person -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nguyễn văn an", "Nguyễn Văn An"),
        ("NGUYỄN THỊ BÍCH", "Nguyễn Thị Bích"),
        ("  trần   văn   bình ", "Trần Văn Bình"),
        (nfd("lê thị hoà"), "Lê Thị Hoà"),
        ("nguyen van an", "Nguyen Van An"),
        ("đặng đức", "Đặng Đức"),
        ("Hờ A'Lềnh", "Hờ A'lềnh"),
        ("y-moan niê", "Y-moan Niê"),
        ("Triệu Văn Phúc", "Triệu Văn Phúc"),
    ],
)
def test_parse_person_name(text: str, expected: str) -> None:
    out = parse_person_name(text)
    assert out == expected
    assert out == unicodedata.normalize("NFC", out)


@pytest.mark.parametrize(
    "text",
    [
        "An",
        "",
        "   ",
        "/huy",
        "/huy bỏ",
        "Nguyễn Văn 2",
        "Nguyen Van An 😀",
        "Nguyễn, Văn An",
        "Nguyễn -Văn",
        "Nguyễn Văn'",
        "Nguyễn Văn--An",
        "Nguyễn Văn An" + " Văn" * 20,
        "张 伟",
        "Nguyễn_Văn An",
    ],
)
def test_parse_person_name_rejects(text: str) -> None:
    assert parse_person_name(text) is None


def test_parse_person_name_length_limit() -> None:
    name = "An " + "B" * 77  # exactly 80 characters
    assert parse_person_name(name) == "An " + "B" + "b" * 76
    assert parse_person_name(name + "b") is None


def test_same_person() -> None:
    assert same_person("Nguyễn Văn An", "nguyen  van an")
    assert same_person("Lê Thị Hoà", nfd("LÊ THỊ HÒA"))
    assert same_person("Đặng Đức", "dang duc")
    assert not same_person("Nguyễn Văn An", "Nguyễn Văn Anh")
    assert not same_person("", "  ")


# --- parse_phone -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["0912 345 678", "0912345678", "+84912345678", "84912345678", "0912.345.678", "0912-345-678",
     "+84 912 345 678", " 0912345678 ", "(+84) 912345678"],
)  # fmt: skip
def test_parse_phone(text: str) -> None:
    assert parse_phone(text) == "0912345678"


def test_parse_phone_other_mobile_prefixes() -> None:
    assert parse_phone("0388 123 456") == "0388123456"
    assert parse_phone("+84 868 123 456") == "0868123456"


@pytest.mark.parametrize(
    "text",
    ["", "091234567", "09123456789", "1912345678", "0212345678", "02033 123 456", "abc", "0912 345 67a",
     "+85912345678", "00912345678", "0912345678 0912345678"],
)  # fmt: skip
def test_parse_phone_rejects(text: str) -> None:
    assert parse_phone(text) is None


# --- properties --------------------------------------------------------------------------------

dates_in_range = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
vietnamese_text = st.text(
    alphabet=st.sampled_from(list("aăâeêioôơuưyđbcdghklmnpqrstvx ÀÁẢÃẠàáảãạĐ0123456789/.-,\u0300\u0301")),
)


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(vietnamese_text)
def test_fold_is_idempotent_on_vietnamese(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert "đ" not in folded


@given(st.text(), dates_in_range, st.sampled_from(["past", "future"]))
def test_parsers_never_raise(text: str, today: date, prefer: str) -> None:
    result = parse_date(text, today, prefer)  # type: ignore[arg-type]
    assert result is None or isinstance(result, date)
    count = parse_count(text)
    assert count is None or 0 <= count <= 10_000_000
    assert parse_yes_no(text) in (True, False, None)
    assert match_choice(text, CHOICES) in (None, "head", "congress", "hoa")
    name = parse_person_name(text)
    assert name is None or len(name) <= 80
    phone = parse_phone(text)
    assert phone is None or (len(phone) == 10 and phone.isdigit())
    assert same_person(text, text) is bool(fold(text))  # any name is its own, a blank one nobody's
    assert nfc(text) == nfc(nfc(text))


@given(vietnamese_text, dates_in_range)
def test_parsers_never_raise_on_vietnamese_like_text(text: str, today: date) -> None:
    parse_date(text, today)
    parse_date(text, today, "future")
    count = parse_count(text)
    assert count is None or count >= 0
    parse_yes_no(text)
    parse_phone(text)
    name = parse_person_name(text)
    assert name is None or parse_person_name(name) == name


@given(st.text())
def test_person_name_reparses_to_itself(text: str) -> None:
    name = parse_person_name(text)
    if name is not None:
        assert parse_person_name(name) == name
        assert same_person(name, text)


name_words = st.text(alphabet=st.sampled_from(list("aăâeêioôơuưyđbcdghklmnpqrstvxỄễÁáỌọĐ")), min_size=1)


@given(st.lists(name_words, min_size=2, max_size=5))
def test_person_name_round_trip_on_generated_names(words: list[str]) -> None:
    text = " ".join(words)
    name = parse_person_name(text)
    if len(text) <= 80:
        assert name is not None
        assert parse_person_name(name) == name
        assert same_person(name, text)
        assert all(w[0].isupper() for w in name.split())
    else:
        assert name is None


@given(st.integers(min_value=0, max_value=10_000_000))
def test_parse_count_round_trip(n: int) -> None:
    assert parse_count(str(n)) == n
    assert parse_count(f"{n:,}".replace(",", ".")) == n
    assert parse_count(f"{n:,}") == n
    assert parse_count(f"{n} phiếu") == n


@given(st.integers(min_value=10_000_001, max_value=10**12))
def test_parse_count_rejects_large(n: int) -> None:
    assert parse_count(str(n)) is None


@given(dates_in_range, dates_in_range)
def test_parse_date_round_trip(d: date, today: date) -> None:
    assert parse_date(d.strftime("%d/%m/%Y"), today) == d
    assert parse_date(d.strftime("%d-%m-%Y"), today, prefer="future") == d
    assert parse_date(f"ngày {d.day} tháng {d.month} năm {d.year}", today) == d


@given(st.dates(min_value=date(1995, 1, 1), max_value=date(2095, 12, 31)))
def test_parse_date_missing_year_rules(today: date) -> None:
    for day, month in [(15, 12), (5, 1), (today.day, today.month)]:
        past = parse_date(f"{day}/{month}", today)
        future = parse_date(f"{day}/{month}", today, prefer="future")
        assert past is not None and future is not None
        assert past <= today <= future
        assert (past.day, past.month) == (future.day, future.month) == (day, month)
        assert (today - past).days < 366 and (future - today).days < 366


# --- a planned month as a date answer ("tháng 3/2027") --------------------------------------------
months_ahead = st.integers(min_value=0, max_value=60)
todays = st.dates(min_value=date(1990, 1, 1), max_value=date(2094, 12, 31))  # (five years ahead stay in range)


def _month_after(today: date, n: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + n
    return index // 12, index % 12 + 1


@pytest.mark.parametrize(("text", "expected"), [
    ("tháng 3/2027", date(2027, 3, 1)), ("Tháng 3 năm 2027", date(2027, 3, 1)), ("thang 03-2027", date(2027, 3, 1)),
    ("3/2027", date(2027, 3, 1)), ("dự kiến tháng 3", date(2025, 3, 1)), ("tháng 12", TODAY),
    ("tháng 12/2024", TODAY), ("15 tháng 3", date(2025, 3, 15)), ("tháng 13/2027", None),
    ("tháng 3/2027 hoặc tháng 4/2027", None),
])
def test_a_planned_month_is_read_as_its_first_day(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY, "future") == expected


def test_a_month_alone_is_not_a_past_date() -> None:
    """A date that happened needs its day (12 months from the admission count from it)."""
    assert parse_date("tháng 3/2024", TODAY, "past") is None and parse_date("tháng 3", TODAY) is None


@given(todays, months_ahead, st.sampled_from(["tháng {m}/{y}", "Tháng {m} năm {y}", "tháng {m:02d}-{y}",
                                                     "{m}/{y}", "dự kiến tháng {m} năm {y} ạ"]))
def test_any_month_ahead_reads_as_a_day_of_that_month_not_before_today(today: date, n: int, form: str) -> None:
    year, month = _month_after(today, n)
    parsed = parse_date(form.format(m=month, y=year), today, "future")
    assert parsed is not None and (parsed.year, parsed.month) == (year, month)
    assert parsed >= today and (parsed.day == 1 or n == 0)


@given(todays, months_ahead)
def test_a_month_without_its_year_is_the_next_such_month(today: date, n: int) -> None:
    year, month = _month_after(today, n % 12)
    parsed = parse_date(f"tháng {month}", today, "future")
    assert parsed is not None and (parsed.year, parsed.month) == (year, month) and parsed >= today


@given(dates_in_range, st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
       st.sampled_from(["past", "future"]))
def test_a_full_date_is_read_as_itself_whatever_the_preference(today: date, d: date, prefer: str) -> None:
    for text in (f"{d.day}/{d.month}/{d.year}", f"{d.day:02d}/{d.month:02d}/{d.year}",
                 f"ngày {d.day} tháng {d.month} năm {d.year}"):
        assert parse_date(text, today, "future" if prefer == "future" else "past") == d
