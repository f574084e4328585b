"""Every command's failures are one plain line on stderr and a non-zero exit, never a traceback
(``--debug`` adds it): the database down, no schema yet, a missing or wrong file, a wrong argument."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.web.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
DOWN = "postgresql+asyncpg://postgres@127.0.0.1:1/nobody"  # nothing listens on port 1

NEEDS_THE_DATABASE = [
    ["db", "upgrade"], ["db", "status"], ["demo"], ["demo", "--if-empty"], ["units", "merge", "A", "B", "--into", "C"],
    ["units", "import", str(ROOT / "data" / "quang_ninh_units.csv")], ["units", "split", "A", "--into", "B", "C"],
    ["invite", "village", "22.01", "--role", "secretary"],
    ["invite", "village", "22.01"], ["invite", "staff", "--unit", "22"], ["invite", "list"], ["invite", "revoke", "AB"],
    ["webuser", "clerk", "--unit", "22"], ["webuser", "list"], ["webuser", "disable", "clerk"],
    ["webuser", "enable", "clerk"], ["export", "--out", "{tmp}/e.csv"], ["digest", "--unit", "22"],
    ["giaoban", "schedule", "--unit", "C1", "--at", "2030-01-01 08:00"], ["giaoban", "pack", "--unit", "C1"],
    ["giaoban", "cancel", "1"], ["backup", "--out", "{tmp}/b.tar.gz"], ["privacy", "erase-head", "22.01"],
]


def run(tmp: Path, args: list[str], url: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), **env}
    full.pop("TELEGRAM_BOT_TOKEN", None)
    full.pop("ZALO_BOT_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot", *(a.format(tmp=tmp) for a in args)], cwd=tmp, env=full,
                          capture_output=True, text=True, check=False)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stdout
    said = (proc.stdout + proc.stderr).strip()
    assert "Traceback" not in said and said.count("\n") == 0, said
    assert said
    return said


@pytest.mark.parametrize("args", NEEDS_THE_DATABASE, ids=lambda a: " ".join(a[:2] if a[0] != "demo" else a))
def test_the_database_down(tmp_path: Path, args: list[str]) -> None:
    said = one_line(run(tmp_path, args, DOWN))
    assert said.startswith("database unreachable (postgresql+asyncpg://postgres@127.0.0.1:1/nobody)"), said


def test_restore_with_the_database_down(migrated: str, tmp_path: Path) -> None:
    assert run(tmp_path, ["backup", "--out", str(tmp_path / "good.tar.gz")], migrated).returncode == 0
    said = one_line(run(tmp_path, ["restore", str(tmp_path / "good.tar.gz")], DOWN))
    assert said.startswith("database unreachable (postgresql+asyncpg://postgres@127.0.0.1:1/nobody)"), said


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command the parser knows, as its words (``("db", "upgrade")``, ``("check",)``)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {path}
    return {leaf for name, child in subs[0].choices.items() for leaf in leaf_commands(child, (*path, name))}


# commands that do not fail when the database is down, and where that is shown
NOT_FAILING = {("run",): "serves, and waits for the database (test_run_with_the_database_down)",
               ("check",): "a FAIL line among its lines (tests/bot/test_cli_check.py)",
               ("restore",): "reads the backup first (test_restore_with_the_database_down)"}


def test_every_command_is_tried_with_the_database_down() -> None:
    from bot.cli import _parser

    leaves = leaf_commands(_parser())
    tried = {leaf for leaf in leaves if any(tuple(args[:len(leaf)]) == leaf for args in NEEDS_THE_DATABASE)}
    assert leaves - tried == set(NOT_FAILING), leaves - tried
    assert len(leaves) > 20


@pytest.mark.parametrize("args", [["webuser", "list"], ["export", "--out", "{tmp}/e.csv"], ["invite", "list"],
                                  ["giaoban", "cancel", "1"], ["backup", "--out", "{tmp}/b.tar.gz"]],
                         ids=lambda a: " ".join(a[:2]))
def test_no_schema_yet(tmp_path: Path, args: list[str]) -> None:
    said = one_line(run(tmp_path, args, f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"))
    assert "db upgrade" in said


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("errors")
    url = f"sqlite+aiosqlite:///{tmp / 'bot.sqlite3'}"
    assert run(tmp, ["db", "upgrade"], url).returncode == 0
    (tmp / "units.csv").write_text("level,code,name,parent_code,type\nprovince,22,Quảng Ninh,,tỉnh\n"
                                   "commune,C1,Hải Sơn,22,xã\nvillage,C1.01,Khe Lạc,C1,thôn\n", encoding="utf-8")
    assert run(tmp, ["units", "import", str(tmp / "units.csv")], url).returncode == 0
    yield url


CASES = {
    "a missing unit file": (["units", "import", "{tmp}/none.csv"], "none.csv: No such file or directory"),
    "a unit file that is not one": (["units", "import", "{tmp}/bad.csv"], "nothing imported"),
    "a missing backup": (["restore", "{tmp}/none.tar.gz"], "no such backup file"),
    "a file that is not a backup": (["restore", "{tmp}/bad.csv"], "not a backup file"),
    "a restore into a database in use": (["restore", "{tmp}/good.tar.gz"], "not empty"),
    "an export where no folder can be": (["export", "--out", "/proc/none/e.csv"], "/proc/none"),
    "an unknown unit": (["digest", "--unit", "99"], "no unit with code 99"),
    "an unknown village": (["privacy", "erase-head", "99"], "no village with code 99"),
    "a village for a staff invite": (["invite", "staff", "--unit", "C1.01"], "needs a commune"),
    "an unknown meeting": (["giaoban", "cancel", "77"], "no such meeting"),
    "a bad meeting time": (["giaoban", "schedule", "--unit", "C1", "--at", "tomorrow"], "YYYY-MM-DD HH:MM"),
    "an unknown login": (["webuser", "disable", "nobody"], "no dashboard login named 'nobody'"),
    "an unknown invite": (["invite", "revoke", "ZZZZ"], "no such invite"),
    "a missing user name": (["webuser", "enable"], "needs the user name"),
    "a missing argument": (["webuser"], "required"),
    "a word that is no number": (["giaoban", "cancel", "x"], "invalid int value"),
    "an unknown command": (["nope"], "invalid choice"),
    "a config file that is not there": (["--config", "{tmp}/none.toml", "db", "status"], "config file not found"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_input(migrated: str, tmp_path: Path, case: str) -> None:
    args, expected = CASES[case]
    (tmp_path / "bad.csv").write_text("level,code\nvillage\n", encoding="utf-8")
    if case == "a restore into a database in use":
        assert run(tmp_path, ["backup", "--out", str(tmp_path / "good.tar.gz")], migrated).returncode == 0
    assert expected in one_line(run(tmp_path, args, migrated))


def test_a_wrong_setting(tmp_path: Path) -> None:
    assert "web.port" in one_line(run(tmp_path, ["db", "status"], DOWN, WEB_PORT="eighty"))


def test_run_with_the_port_taken(migrated: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said = one_line(run(tmp_path, ["run"], migrated, WEB_PORT=str(port)))
    assert "address already in use" in said


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = run(tmp_path, ["--debug", "db", "upgrade"], DOWN)
    assert proc.returncode == 1 and "Traceback" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("database unreachable")
    after = run(tmp_path, ["db", "upgrade", "--debug"], DOWN)  # after the command as well
    assert "Traceback" in after.stderr


def test_run_with_the_database_down(tmp_path: Path) -> None:
    """``run`` does not fail when the database is away: it serves /healthz (503, database unreachable) and
    says so in a line per task, never a traceback; SIGTERM stops it cleanly."""
    env = {**os.environ, "DATABASE_URL": DOWN, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": ""}
    for _attempt in range(3):  # the free port may be taken by someone else in between: try another
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env={**env, "WEB_PORT": str(port)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        out: list[str] = []
        while (line := proc.stdout.readline()) and not line.startswith("serving web: "):
            out.append(line)
        if line:
            break
        proc.wait()
    try:
        assert line.startswith("serving web: "), "".join(out)
        with pytest.raises(urllib.error.HTTPError) as health:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.value.code == 503 and json.loads(health.value.read())["database"] == "unreachable"
        while not all(any(task in ln for ln in out) for task in ("scheduler lease failed", "polling failed")):
            line = proc.stdout.readline()
            assert line, "".join(out)
            out.append(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate()
    said = "".join(out) + rest
    assert proc.returncode == 0, said
    assert "Traceback" not in said, said
    first = [ln for ln in said.splitlines() if "failures since the last line" not in ln]  # a minute's reminder
    assert sum("scheduler lease failed" in ln for ln in first) == 1, said
    assert sum("file builder: polling failed" in ln for ln in first) == 1, said
