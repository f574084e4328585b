"""/chamtre: each commune named once above its villages, the day count once per village, one message."""

from __future__ import annotations

import re
from datetime import date, timedelta

from models.reminders.rules import Due
from reports.late_text import render_late_grouped
from texts.catalog import t

TODAY = date(2025, 1, 20)


def dues(n: int, communes: int) -> tuple[list[Due], dict[int, str]]:
    late = [Due("election", i, f"V{i}", f"Thôn {i}", date(2024, 12, 15) + timedelta(days=i % 5)) for i in range(n)]
    return late, {i: f"Xã {i % communes}" for i in range(n)}


def test_each_commune_once_and_the_days_once() -> None:
    late, parents = dues(9, 3)
    text = render_late_grouped("Tỉnh Quảng Ninh", late, 9, TODAY, parents)
    lines = text.splitlines()
    assert lines[0] == t("staffcmd.late_head", unit="Tỉnh Quảng Ninh", n=9)
    for c in range(3):
        assert lines.count(f"Xã {c}:") == 1
    village_lines = [line for line in lines if line.startswith("–")]
    assert len(village_lines) == 9
    assert all(len(re.findall(r"\d+ ngày", line)) == 1 and "Xã" not in line for line in village_lines)
    assert "– Thôn 0 (V0): chưa báo kết quả bầu trưởng thôn (ngày bầu 15/12/2024), chậm 36 ngày" in lines


def test_one_commune_is_not_named_on_every_row() -> None:
    late, parents = dues(4, 1)
    text = render_late_grouped("Xã 0", late, 4, TODAY, parents)
    assert "Xã 0" not in "\n".join(text.splitlines()[1:]) and len(text.splitlines()) == 5


def test_a_long_list_fits_one_message_and_says_how_many_more() -> None:
    late, parents = dues(400, 40)
    text = render_late_grouped("Tỉnh Quảng Ninh", late, 1450, TODAY, parents, limit=1000)
    assert len(text) <= 1000
    shown = sum(line.startswith("–") for line in text.splitlines())
    assert text.splitlines()[-1] == t("staffcmd.late_more", n=1450 - shown)
    assert not text.splitlines()[-2].endswith(":")  # no commune left without its villages
