"""The head's title follows the village's type."""

from __future__ import annotations

from texts.titles import head_title


def test_titles_by_village_type() -> None:
    assert head_title("bản", "Đồng Thầm") == "Trưởng bản Đồng Thầm"
    assert head_title("khu phố", "Khu 1") == "Trưởng khu phố Khu 1"
    assert head_title("Thôn", "3") == "Trưởng thôn 3"
    assert head_title("", "", "Bản Khe Vằn") == "Trưởng bản Khe Vằn"
