"""The command line, run as users run it: ``python -m bot ...`` in a subprocess on a real SQLite file."""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from handlers.context import Settings
from handlers.engine import Engine
from models.accounts.passwords import verify_password
from models.db import make_engine, make_session_factory
from models.progress.export import EXPORT_COLUMNS_NO_PHONES as EXPORT_COLUMNS
from models.progress.status import STATUSES
from models.units.tree import get_unit
from reports.cells import csv_cell
from tests.handlers.chat import Chat
from texts.catalog import t

ROOT = Path(__file__).resolve().parents[2]


def bot(tmp: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cli.sqlite3'}", "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("ZALO_BOT_TOKEN", None)
    proc = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    bot(tmp, "db", "upgrade")
    out = bot(tmp, "demo", "--if-empty").stdout
    assert "1452 villages" in out
    return tmp


def test_help_everywhere(tmp_path: Path) -> None:
    for args in ([], ["units"], ["invite"], ["invite", "staff"], ["export"], ["digest"], ["db"]):
        out = bot(tmp_path, *args, "--help").stdout
        assert "usage:" in out


def test_the_demo_tells_the_story(demo_db: Path) -> None:
    """The province digest of a fresh demo: about 90% elected, merged branches, the late list not everyone."""
    out = bot(demo_db, "digest", "--unit", "22").stdout
    m = re.search(r"có ([\d.]+)/1\.452 thôn, bản, khu phố \((\d+),?\d*%\) đã bầu trưởng thôn", out)
    assert m and 85 <= int(m[2]) <= 95, out
    merged = re.search(r"Nhất thể hóa bí thư chi bộ kiêm trưởng thôn: ([\d.]+)/", out)
    assert merged and int(merged[1].replace(".", "")) > 0
    late = re.search(r"Thôn chậm tiến độ: ([\d.]+)", out)
    assert late and int(late[1].replace(".", "")) < 1452 // 2


def test_a_second_demo_run_says_how_to_log_in(demo_db: Path) -> None:
    out = bot(demo_db, "demo", "--if-empty").stdout
    assert "left as it is" in out
    assert all(name in out for name in ("admin", "canbo1", "canbo2")) and "python -m bot webuser admin" in out
    assert "/chat" in out


def test_export_of_a_fresh_demo_database(demo_db: Path) -> None:
    out = demo_db / "e.csv"
    bot(demo_db, "export", "--format", "csv", "--out", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel on Windows reads UTF-8 then
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0].keys()) == EXPORT_COLUMNS
    assert len(rows) == 1452 and {"no_election", "merged", "congress_overdue"} <= {r["status"] for r in rows}
    assert len({r["village_code"] for r in rows}) == 1452
    assert all(r["province_code"] == "22" and r["district_code"] == "" for r in rows)
    xlsx = demo_db / "e.xlsx"
    bot(demo_db, "export", "--format", "xlsx", "--out", str(xlsx))
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple(t(f"export.{c}") for c in EXPORT_COLUMNS)
    assert len(values) == 1453 and t("status.no_election") in {v[6] for v in values[1:]}
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(EXPORT_COLUMNS))}1453"
    assert sheet.column_dimensions["D"].width and sheet.column_dimensions["D"].width >= 20
    by_name = dict(zip(EXPORT_COLUMNS, range(len(EXPORT_COLUMNS)), strict=True))
    reported = next(i for i, r in enumerate(rows) if r["election_date"])
    cells = values[reported + 1]
    assert cells[by_name["election_date"]] == datetime.fromisoformat(rows[reported]["election_date"])
    assert sheet.cell(reported + 2, by_name["election_date"] + 1).number_format == "DD/MM/YYYY"
    local = datetime.fromisoformat(rows[reported]["updated_at"])
    assert rows[reported]["updated_at"].endswith("+07:00") and local.utcoffset() == timedelta(hours=7)  # not UTC
    assert cells[by_name["updated_at"]] == local.replace(tzinfo=None)  # the same local time in both files


def test_export_with_vietnamese_labels(demo_db: Path) -> None:
    out = demo_db / "vi.csv"
    bot(demo_db, "export", "--format", "csv", "--labels", "vi", "--out", str(out), "--unit", "06724")
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == [t(f"export.{c}") for c in EXPORT_COLUMNS]
    status = EXPORT_COLUMNS.index("status")
    words = {t(f"status.{s}") for s in STATUSES}
    assert len(rows) > 2 and all(r[status] in words for r in rows[1:])
    dates = [r[EXPORT_COLUMNS.index("election_date")] for r in rows[1:] if r[EXPORT_COLUMNS.index("election_date")]]
    assert dates and all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in dates)  # dates stay ISO


def test_phones_are_exported_only_when_asked_for(demo_db: Path) -> None:
    """A head's phone is personal data (Nghị định 13/2023): the export leaves it out unless --with-phones."""
    with sqlite3.connect(demo_db / "cli.sqlite3") as conn:
        village = conn.execute("SELECT u.code FROM election_report e JOIN unit u ON u.id = e.village_id "
                               "ORDER BY u.code LIMIT 1").fetchone()[0]
        conn.execute("UPDATE election_report SET head_phone = '+84912345678' WHERE village_id = "
                     "(SELECT id FROM unit WHERE code = ?)", (village,))
    plain, phones = demo_db / "plain.csv", demo_db / "phones.csv"
    bot(demo_db, "export", "--out", str(plain))
    bot(demo_db, "export", "--out", str(phones), "--with-phones")
    assert "head_phone" not in plain.read_text(encoding="utf-8-sig") and "+84912345678" not in plain.read_text()
    rows = list(csv.DictReader(io.StringIO(phones.read_text(encoding="utf-8-sig"))))
    # written as the export writes every cell (a leading + is kept from being read as a formula)
    assert next(r for r in rows if r["village_code"] == village)["head_phone"] == csv_cell("+84912345678")
    xlsx = demo_db / "phones.xlsx"
    bot(demo_db, "export", "--out", str(xlsx), "--with-phones")
    sheet = load_workbook(xlsx).active
    assert sheet is not None and t("export.head_phone") in next(sheet.iter_rows(values_only=True))


def test_export_format_follows_the_file_name(demo_db: Path) -> None:
    out = demo_db / "y.xlsx"
    bot(demo_db, "export", "--out", str(out), "--unit", "06724")
    assert out.read_bytes()[:2] == b"PK"  # a real XLSX (a zip), not CSV text
    plain = demo_db / "y.csv"
    bot(demo_db, "export", "--out", str(plain), "--unit", "06724")
    assert plain.read_bytes().startswith(b"\xef\xbb\xbfprovince_code,")


def test_invites(demo_db: Path) -> None:
    code = bot(demo_db, "invite", "village", "06652.03").stdout.strip().splitlines()[-1]
    assert len(code) == 8 and code.isalnum()
    staff = bot(demo_db, "invite", "staff", "--unit", "06652", "--role", "staff").stdout.strip().splitlines()[-1]
    assert len(staff) == 12 and staff != code  # staff and admin codes are longer
    refused = bot(demo_db, "invite", "village", "99999", ok=False)
    assert "no unit with code 99999" in refused.stderr
    commune = bot(demo_db, "invite", "village", "06724", ok=False).stderr  # a commune is not a village
    assert "06724 is a commune Xã Hải Sơn, not a village" in commune and "06724.01" in commune
    assert "not_a_village" not in commune and "village_head" not in commune
    village = bot(demo_db, "invite", "staff", "--unit", "06724.01", ok=False).stderr
    assert "needs a commune, district or province code" in village and "staff_on_village" not in village


async def test_a_secretary_invite_binds_the_branch_secretary(demo_db: Path) -> None:
    out = bot(demo_db, "invite", "village", "06652.03", "--role", "secretary").stdout.strip().splitlines()
    assert out[0].startswith("invite for village_secretary of ") and len(out[-1]) == 8
    assert "invalid choice" in bot(demo_db, "invite", "village", "06652.03", "--role", "chairman", ok=False).stderr
    engine = make_engine(f"sqlite+aiosqlite:///{demo_db / 'cli.sqlite3'}")
    try:
        sessions = make_session_factory(engine)
        async with sessions() as s:
            village = await get_unit(s, "post2025", "06652.03")
        assert village is not None
        chat = Chat(Engine(sessions, Settings()), "secretary-06652.03")
        await chat.send(f"/start {out[-1]}", at=datetime.now(UTC))
        assert chat.text.startswith(t("bind.ok_secretary", village=village.full_name))
        await chat.send("/baucu", at=datetime.now(UTC))  # the election stays with the head
        assert chat.text == t("auth.secretary_only_giaoban")
    finally:
        await engine.dispose()


def test_units_import_twice_and_a_bad_file(demo_db: Path, tmp_path: Path) -> None:
    data = ROOT / "data" / "quang_ninh_units.csv"
    first = bot(demo_db, "units", "import", str(data), "--period", "pre2025").stdout
    assert "185 units read, 185 created" in first
    again = bot(demo_db, "units", "import", str(data), "--period", "pre2025").stdout
    assert "0 created, 0 updated" in again
    bad = tmp_path / "bad.csv"
    bad.write_text("level,code,name,parent_code,type\ncommune,X1,A,NOPE,xã\n", encoding="utf-8")
    err = bot(demo_db, "units", "import", str(bad), ok=False).stderr
    assert "line 2" in err and "parent NOPE" in err and "nothing imported" in err
    short = tmp_path / "short.csv"
    short.write_text("level,code,name,parent_code,type\ncommune,X2,B,22,xã\ncommune,X3,C,22\n", encoding="utf-8")
    err = bot(demo_db, "units", "import", str(short), ok=False).stderr
    assert "line 3: 4 of 5 fields, missing type" in err and "nothing imported" in err
    with sqlite3.connect(demo_db / "cli.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM unit WHERE code IN ('X2', 'X3')").fetchone()[0] == 0


def test_a_wrong_config_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "WEB_PORT": "eighty", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "web.port" in proc.stderr


def test_webuser_creates_and_resets_a_login(demo_db: Path) -> None:
    first = bot(demo_db, "webuser", "clerk9", "--unit", "06652").stdout.strip().splitlines()[-1]
    again = bot(demo_db, "webuser", "clerk9").stdout.strip().splitlines()[-1]
    assert len(first) >= 10 and first != again
    with sqlite3.connect(demo_db / "cli.sqlite3") as conn:
        stored, epoch = conn.execute("SELECT password_hash, session_epoch FROM web_user "
                                     "WHERE username = 'clerk9'").fetchone()
    assert verify_password(again, stored) and not verify_password(first, stored)
    assert epoch == 1  # the new password ended the sessions of the old one
    bot(demo_db, "webuser", "chief9", "--unit", "06652", "--role", "admin")
    assert "(admin)" in bot(demo_db, "webuser", "chief9").stdout  # a new password keeps the role
    assert "(staff)" in bot(demo_db, "webuser", "chief9", "--role", "staff").stdout
    with sqlite3.connect(demo_db / "cli.sqlite3") as conn:
        assert conn.execute("SELECT username, role FROM web_user WHERE username IN ('clerk9', 'chief9') "
                            "ORDER BY username").fetchall() == [("chief9", "staff"), ("clerk9", "staff")]
    assert "needs --unit" in bot(demo_db, "webuser", "nobody", ok=False).stderr
    assert "no commune" in bot(demo_db, "webuser", "x", "--unit", "06652.01", ok=False).stderr


@pytest.mark.parametrize("where", ["before", "after", "nested"])
def test_config_is_honoured_wherever_it_is_given(tmp_path: Path, where: str) -> None:
    from bot.cli import _parser

    path = tmp_path / "elsewhere.toml"
    args = {"before": ["--config", str(path), "invite", "staff", "--unit", "C1"],
            "after": ["invite", "--config", str(path), "staff", "--unit", "C1"],
            "nested": ["invite", "staff", "--unit", "C1", "--config", str(path)]}[where]
    assert _parser().parse_args(args).config == path
    assert _parser().parse_args(["db", "upgrade"]).config is None


def test_config_before_the_command_picks_the_database(tmp_path: Path) -> None:
    db_file = tmp_path / "from-config.sqlite3"
    config = tmp_path / "elsewhere.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{db_file}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "db", "upgrade"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert db_file.exists()
