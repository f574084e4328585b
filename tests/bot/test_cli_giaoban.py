"""``python -m bot giaoban schedule|pack`` as users run it, on a real SQLite file with a tiny unit file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.bot.test_cli import bot

UNITS = ("level,code,name,parent_code,type,full_name\nprovince,22,Quảng Ninh,,tỉnh,Tỉnh Quảng Ninh\n"
         "commune,C1,Hà Tu,22,phường,Phường Hà Tu\nvillage,V1,Tổ 1,C1,tổ,Tổ 1\nvillage,V2,Tổ 2,C1,tổ,Tổ 2\n")


def _setup(tmp: Path) -> None:
    bot(tmp, "db", "upgrade")
    (tmp / "u.csv").write_text(UNITS, encoding="utf-8")
    bot(tmp, "units", "import", str(tmp / "u.csv"))


def test_schedule_prints_the_id_and_pack_prints_the_text(tmp_path: Path) -> None:
    _setup(tmp_path)
    out = bot(tmp_path, "giaoban", "schedule", "--unit", "C1", "--at", "2031-03-02 08:00", "--place", "Hội trường")
    meeting_id = int(out.stdout.strip().splitlines()[-1])
    again = bot(tmp_path, "giaoban", "schedule", "--unit", "C1", "--at", "2031-03-02 08:00")
    assert int(again.stdout.strip().splitlines()[-1]) == meeting_id  # the same meeting, not a second one
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        rows = conn.execute("SELECT id, place, starts_at FROM giaoban_meeting").fetchall()
    assert rows == [(meeting_id, "Hội trường", "2031-03-02 01:00:00.000000")]  # 08:00 in Hà Nội, stored in UTC
    pack = bot(tmp_path, "giaoban", "pack", "--unit", "C1").stdout
    assert pack.startswith("TÀI LIỆU GIAO BAN — Phường Hà Tu\nHội nghị lúc 08:00 02/03/2031, tại Hội trường")
    assert "Chưa báo cáo (2): Tổ 1, Tổ 2" in pack and "THAM DỰ: có 0, vắng 0, chưa trả lời 2." in pack
    assert bot(tmp_path, "giaoban", "pack", "--unit", "C1", "--meeting", str(meeting_id)).stdout == pack
    assert "no meeting 99 of C1" in bot(tmp_path, "giaoban", "pack", "--unit", "C1", "--meeting", "99",
                                        ok=False).stderr


def test_schedule_refuses_bad_input(tmp_path: Path) -> None:
    _setup(tmp_path)
    assert "no commune with code V1" in bot(tmp_path, "giaoban", "schedule", "--unit", "V1", "--at",
                                            "2031-03-02 08:00", ok=False).stderr
    assert "YYYY-MM-DD HH:MM" in bot(tmp_path, "giaoban", "schedule", "--unit", "C1", "--at", "mai", ok=False).stderr
    assert "in_past" in bot(tmp_path, "giaoban", "schedule", "--unit", "C1", "--at", "2001-01-01 08:00",
                            ok=False).stderr
