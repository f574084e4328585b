"""The operators' commands run as operators run them (``python -m bot …`` on a real SQLite file):
logins listed, disabled and enabled; invites listed and revoked; the migrations' status; a giao ban
meeting cancelled with its villages told; a former head's personal data erased."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.bot.test_cli import bot

UNITS = """level,code,name,parent_code,type,full_name
province,22,Quảng Ninh,,tỉnh,Tỉnh Quảng Ninh
commune,C1,Hải Sơn,22,xã,Xã Hải Sơn
village,C1.01,Khe Lạc,C1,thôn,Thôn Khe Lạc
village,C1.02,Pò Hèn,C1,thôn,Thôn Pò Hèn
"""


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("ops")
    bot(tmp, "db", "upgrade")
    (tmp / "units.csv").write_text(UNITS, encoding="utf-8")
    bot(tmp, "units", "import", str(tmp / "units.csv"))
    return tmp


def sql(tmp: Path, query: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp / "cli.sqlite3") as conn:
        return conn.execute(query, params).fetchall()


def test_webuser_list_disable_enable(small_db: Path) -> None:
    bot(small_db, "webuser", "canbo_c1", "--unit", "C1")
    bot(small_db, "webuser", "quantri", "--unit", "22", "--role", "admin")
    listed = bot(small_db, "webuser", "list").stdout
    line = next(ln for ln in listed.splitlines() if ln.startswith("canbo_c1"))
    assert "staff" in line and "C1" in line and "active" in line and " - " in line  # never logged in
    assert "2 login(s)" in listed
    only_c1 = bot(small_db, "webuser", "list", "--unit", "C1").stdout
    assert "canbo_c1" in only_c1 and "quantri" not in only_c1
    epoch = sql(small_db, "SELECT session_epoch FROM web_user WHERE username = 'canbo_c1'")[0][0]
    assert "disabled" in bot(small_db, "webuser", "disable", "canbo_c1").stdout
    assert sql(small_db, "SELECT disabled, session_epoch FROM web_user WHERE username = 'canbo_c1'") == [
        (1, epoch + 1)]  # its sessions ended
    assert "disabled" in next(ln for ln in bot(small_db, "webuser", "list").stdout.splitlines()
                              if ln.startswith("canbo_c1"))
    bot(small_db, "webuser", "enable", "canbo_c1")
    assert sql(small_db, "SELECT disabled FROM web_user WHERE username = 'canbo_c1'") == [(0,)]
    assert "no dashboard login named 'nobody'" in bot(small_db, "webuser", "disable", "nobody", ok=False).stderr
    assert "needs the user name" in bot(small_db, "webuser", "enable", ok=False).stderr
    # the words of the commands are not user names
    assert "needs --unit" not in bot(small_db, "webuser", "list").stdout
    assert sql(small_db, "SELECT count(*) FROM web_user WHERE username IN ('list', 'disable', 'enable')") == [(0,)]


def test_invite_list_and_revoke(small_db: Path) -> None:
    first = bot(small_db, "invite", "village", "C1.01").stdout.strip().splitlines()[-1]
    second = bot(small_db, "invite", "staff", "--unit", "C1").stdout.strip().splitlines()[-1]
    listed = bot(small_db, "invite", "list").stdout
    assert first in listed and second in listed and "open" in listed
    assert "revoked" in bot(small_db, "invite", "revoke", first.lower()).stdout  # typed in lower case
    assert first not in bot(small_db, "invite", "list").stdout
    everything = bot(small_db, "invite", "list", "--all").stdout
    assert next(ln for ln in everything.splitlines() if ln.startswith(first)).split()[5] == "revoked"
    assert "revoked already" in bot(small_db, "invite", "revoke", first, ok=False).stderr
    assert "no such invite" in bot(small_db, "invite", "revoke", "ZZZZZZZZ", ok=False).stderr
    assert sql(small_db, "SELECT revoked_at IS NOT NULL FROM invite WHERE code = ?", first) == [(1,)]


def test_db_status_names_the_pending_migrations(small_db: Path, tmp_path: Path) -> None:
    status = bot(small_db, "db", "status").stdout
    assert "current: 0013_web_admin" in status and "pending: none" in status
    fresh = bot(tmp_path, "db", "status").stdout  # a database without a schema
    assert "current: none" in fresh and "pending: 0001  initial schema" in fresh and "pending: 0013_web_admin" in fresh
    assert fresh.index("pending: 0001 ") < fresh.index("0013_web_admin")


def test_giaoban_cancel_tells_the_villages(small_db: Path) -> None:
    sql(small_db, "INSERT INTO person (full_name, role, unit_id, created_at) SELECT 'Trưởng thôn', 'village_head', "
                  "id, '2026-01-01 00:00:00' FROM unit WHERE code = 'C1.01'")
    sql(small_db, "INSERT INTO channel_account (channel, external_id, person_id, blocked, digest_opt_out, created_at) "
                  "SELECT 'telegram', '555', id, 0, 0, '2026-01-01 00:00:00' FROM person WHERE role = 'village_head'")
    at = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 08:00")
    meeting = bot(small_db, "giaoban", "schedule", "--unit", "C1", "--at", at, "--place", "Hội trường xã"
                  ).stdout.strip().splitlines()[-1]
    out = bot(small_db, "giaoban", "cancel", meeting).stdout
    assert f"giao ban meeting {meeting} of Xã Hải Sơn (C1) cancelled; 1 message(s)" in out
    assert sql(small_db, "SELECT cancelled FROM giaoban_meeting WHERE id = ?", int(meeting)) == [(1,)]
    [(key, text)] = sql(small_db, "SELECT key, text FROM outbox_message WHERE key LIKE 'giaoban:cancel:%'")
    assert key.startswith(f"giaoban:cancel:{meeting}:C1.01:a")  # type: ignore[union-attr]
    assert "đã được hủy" in text and "Hội trường xã" in text  # type: ignore[operator]
    again = bot(small_db, "giaoban", "cancel", meeting, ok=False).stderr  # nobody is told twice
    assert "already cancelled" in again and len(sql(small_db, "SELECT id FROM outbox_message")) == 1
    assert "no such meeting" in bot(small_db, "giaoban", "cancel", "9999", ok=False).stderr


def test_a_former_heads_personal_data_is_erased(small_db: Path) -> None:
    sql(small_db, "INSERT INTO person (full_name, phone, role, unit_id, created_at) SELECT 'Lý Văn Tài', "
                  "'+84911111111', 'village_head', id, '2026-01-01 00:00:00' FROM unit WHERE code = 'C1.02'")
    sql(small_db, "INSERT INTO channel_account (channel, external_id, display_name, person_id, blocked, digest_opt_out,"
                  " created_at) SELECT 'zalo', 'z-77', 'Tài Lý', id, 0, 0, '2026-01-01 00:00:00' FROM person "
                  "WHERE phone = '+84911111111'")
    village = sql(small_db, "SELECT id FROM unit WHERE code = 'C1.02'")[0][0]
    sql(small_db, "INSERT INTO election_report (village_id, revision, election_date, head_name, votes_for, "
                  "valid_ballots, roll, party_status, updated_at, head_phone, election_no, election_kind) "
                  "VALUES (?, 1, '2026-01-05', 'Lý Văn Tài', 80, 95, 100, 'member', '2026-01-06 00:00:00', "
                  "'+84911111111', 1, 'regular')", village)
    sql(small_db, "INSERT INTO report_revision (kind, village_id, revision, data, created_at) VALUES ('election', ?, 1,"
                  " '{\"head_name\": \"Lý Văn Tài\", \"head_phone\": \"+84911111111\"}', '2026-01-06 00:00:00')",
        village)
    sql(small_db, "INSERT INTO audit_event (at, action, village_id, field, old, new) VALUES ('2026-01-06 00:00:00', "
                  "'election.report', ?, 'head_phone', NULL, '+84911111111')", village)
    refused = bot(small_db, "privacy", "erase-head", "C1.02", ok=False).stderr
    assert "the head is in office" in refused and "/khuyet" in refused
    assert sql(small_db, "SELECT count(*) FROM person WHERE phone = '+84911111111'") == [(1,)]  # nothing changed
    sql(small_db, "UPDATE election_report SET vacated_on = '2026-06-01' WHERE village_id = ?", village)
    out = bot(small_db, "privacy", "erase-head", "C1.02").stdout
    assert "1 chat account(s) unbound" in out
    dump = "\n".join(str(row) for table in ("person", "channel_account", "election_report", "report_revision",
                                            "audit_event") for row in sql(small_db, f"SELECT * FROM {table}"))
    assert "+84911111111" not in dump and "Tài Lý" not in dump
    assert sql(small_db, "SELECT person_id FROM channel_account WHERE external_id = 'z-77'") == [(None,)]
    assert sql(small_db, "SELECT head_name FROM election_report WHERE village_id = ?", village) == [("Lý Văn Tài",)]
