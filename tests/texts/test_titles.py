"""The head's title follows the village's type."""

from __future__ import annotations

from texts.titles import head_title, unit_full_name


def test_titles_by_village_type() -> None:
    assert head_title("bản", "Đồng Thầm") == "Trưởng bản Đồng Thầm"
    assert head_title("khu phố", "Khu 1") == "Trưởng khu phố Khu 1"
    assert head_title("Thôn", "3") == "Trưởng thôn 3"
    assert head_title("", "", "Bản Khe Vằn") == "Trưởng bản Khe Vằn"


def test_a_name_that_starts_with_its_type_word_says_it_once() -> None:
    assert head_title("thôn", "Thôn 15A") == "Trưởng thôn 15A"
    assert head_title("bản", "bản  Đồng Thầm") == "Trưởng bản Đồng Thầm"
    assert head_title("thôn", "Thôn Đông") == "Trưởng thôn Đông"  # (a name "Thôn Đông" of a thôn: "thôn Đông")
    assert unit_full_name("thôn", "Thôn 15A") == unit_full_name("thôn", "15A") == "Thôn 15A"
    assert unit_full_name("khu phố", "Khu 1") == "Khu phố Khu 1" and unit_full_name("", "Bản Mới") == "Bản Mới"
