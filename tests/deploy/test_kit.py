"""The installation kit (deploy/): the image's install steps run for real in a clean venv (Docker does
not run here) and the bot served from it, the two lock files checked against pyproject.toml, the
PostgreSQL set-up script run against the real server, and the compose file, the systemd unit and the
nginx example checked against the bot's own settings."""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import ENV_OVERRIDES, Config, load_config
from tests.bot.web.conftest import free_port
from tests.conftest import PG_DSN, require_service

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def copied_sources(dockerfile: str) -> list[str]:
    """What the Dockerfile copies into the image (``COPY a b ./`` and ``COPY src dest``)."""
    out: list[str] = []
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            parts = line.split()[1:]
            out.extend(parts[:-1])
    return out


# pip's words when PyPI cannot be reached at all (not when a pin is wrong: that is a failure)
UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
               "Network is unreachable", "ProxyError")
TEST_ONLY = ("pytest", "mypy", "ruff", "playwright", "hypothesis", "import-linter", "py-spy")


def pins(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith(("#", "-r "))]


def _serve_once(python: Path, app: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``python -m bot run`` of the built venv; returned once it serves the web (or has exited)."""
    port = free_port()
    proc = subprocess.Popen([str(python), "-m", "bot", "run"], cwd=app, env={**env, "WEB_PORT": str(port)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out: list[str] = []
    while line := proc.stdout.readline():
        out.append(line)
        if line.startswith("serving web: "):
            break
    return proc, f"http://127.0.0.1:{port}", out


def test_the_image_steps_build_a_working_bot(tmp_path: Path) -> None:
    """deploy/build.sh, as the Dockerfile runs it, on a copy of exactly what the Dockerfile copies: the
    bot's pins and nothing else installed; then the image's commands and its server, run from that venv."""
    app = tmp_path / "app"
    for source in copied_sources((DEPLOY / "Dockerfile").read_text()):
        src, dest = ROOT / source, app / source
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(src, dest)
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    build = subprocess.run(["sh", str(app / "deploy" / "build.sh"), str(venv), str(app)], env=env,
                           capture_output=True, text=True, check=False)
    said = build.stdout + build.stderr
    require_service(build.returncode == 0 or not any(word in said for word in UNREACHABLE),
                    f"PyPI cannot be reached to install requirements.lock: {said.strip().splitlines()[-1:]}")
    assert build.returncode == 0, said
    python = venv / "bin" / "python"
    frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    pinned = pins(ROOT / "requirements.lock")
    assert sorted(frozen, key=str.lower) == sorted(pinned, key=str.lower)  # exactly the lock, nothing resolved anew
    names = {ln.split("==")[0].lower() for ln in frozen}
    assert not names & set(TEST_ONLY), names & set(TEST_ONLY)  # no test tools in the image

    run_env = {**env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", "PYTHONUNBUFFERED": "1",
               "TELEGRAM_BOT_TOKEN": "", "ZALO_BOT_TOKEN": "", "WEB_HOST": "127.0.0.1"}
    for args in (["db", "upgrade"], ["check"], ["units", "import", "data/quang_ninh_units.csv", "--period", "pre2025"],
                 ["export", "--out", str(tmp_path / "all.xlsx")], ["backup", "--out", str(tmp_path / "b.tar.gz")]):
        proc = subprocess.run([str(python), "-m", "bot", *args], cwd=app, env=run_env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    assert "database: ok" in subprocess.run([str(python), "-m", "bot", "check"], cwd=app,
                                            env=run_env, capture_output=True, text=True).stdout
    assert (tmp_path / "all.xlsx").read_bytes()[:2] == b"PK"

    for _attempt in range(3):  # the free port may be taken by someone else in between: try another
        server, base, out = _serve_once(python, app, run_env)
        if out and out[-1].startswith("serving web: "):
            break
        server.wait()
    try:
        assert out[-1].startswith("serving web: "), "".join(out)
        with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:  # the image's HEALTHCHECK
            assert resp.status == 200 and json.loads(resp.read())["database"] == "ok"
        with urllib.request.urlopen(base + "/login", timeout=10) as resp:  # templates and catalog in the package
            assert "Đăng nhập" in resp.read().decode()
        with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
            assert b"bot_database_up 1.0" in resp.read()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    assert server.returncode == 0  # stops cleanly on SIGTERM, as docker stop and systemd ask


def _requirements(dist: str, extras: frozenset[str]) -> list[Requirement]:
    wanted = extras | {""}
    return [r for r in map(Requirement, distribution(dist).requires or [])
            if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in wanted)]


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the requirements need, with their extras, in this venv (made from the locks)."""
    seen: dict[str, frozenset[str]] = {}
    todo = list(roots)
    while todo:
        req = todo.pop()
        name, extras = canonicalize_name(req.name), frozenset(req.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, frozenset()) | extras
        todo.extend(_requirements(req.name, seen[name]))
    return set(seen)


def test_the_locks_hold_what_pyproject_asks_and_no_more() -> None:
    """requirements.lock is exactly what the bot needs (pyproject's dependencies and theirs); the test
    lock adds exactly what the test extra needs on top, and pins nothing the bot's lock pins."""
    project = [Requirement(r) for r in distribution("village-report-bot").requires or []]
    runtime = closure([r for r in project if r.marker is None])
    everything = closure([Requirement(str(r).split(";")[0]) for r in project])
    bot_lock = {canonicalize_name(ln.split("==")[0]) for ln in pins(ROOT / "requirements.lock")}
    test_lock = {canonicalize_name(ln.split("==")[0]) for ln in pins(ROOT / "requirements-test.lock")}
    assert bot_lock == runtime - {"village-report-bot"}, (bot_lock ^ runtime)
    assert test_lock == everything - runtime, (test_lock ^ (everything - runtime))
    assert "-r requirements.lock" in (ROOT / "requirements-test.lock").read_text().splitlines()
    assert {"pytest", "mypy", "playwright"} <= test_lock and not bot_lock & set(TEST_ONLY)
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -r requirements-test.lock" in makefile  # make run and make test
    assert '-m pip install --quiet -r "$SRC/requirements.lock"' in (DEPLOY / "build.sh").read_text()  # the image


def test_the_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert re.search(r"^USER bot$", text, re.M) and "useradd --system" in text  # not root
    assert "RUN sh deploy/build.sh /opt/venv /app" in text
    copied = set(copied_sources(text))
    for package in ("bot", "handlers", "models", "reports", "texts", "migrations", "scheduler.py",
                    "requirements.lock", "pyproject.toml", "deploy/build.sh"):
        assert package in copied, package
    assert "db upgrade" in text and "python -m bot run" in text and "/healthz" in text


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"^\s+([A-Z][A-Z_]+): ", text, re.M)) | set(re.findall(r"\b([A-Z][A-Z_]+)=", text))


def test_compose_and_systemd_set_only_settings_the_bot_reads() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    bot_part = compose.split("\n  bot:\n", 1)[1].split("\n  nginx:\n", 1)[0]
    names = _env_names(bot_part)
    assert {"DATABASE_URL", "TELEGRAM_MODE", "ZALO_MODE", "WEB_PUBLIC_URL", "WEB_CHAT_ENABLED"} <= names
    assert names <= set(ENV_OVERRIDES), names - set(ENV_OVERRIDES)
    assert "TELEGRAM_MODE: webhook" in bot_part and "condition: service_healthy" in bot_part
    # behind nginx: its forwarded headers believed, and the bot's port reachable only through it
    assert "ports:" not in bot_part and 'expose:\n      - "8080"' in bot_part
    compose_env = dict(re.findall(r'^      ([A-Z_]+): "?([^"\n]*)"?$', bot_part, re.M))
    proxies = load_config(None, env={"WEB_TRUSTED_PROXIES": compose_env["WEB_TRUSTED_PROXIES"]}).web.trusted_proxies
    docker_nginx = ipaddress.ip_address("172.18.0.4")  # an address Docker gives a compose network's container
    assert any(docker_nginx in ipaddress.ip_network(p) for p in proxies)
    assert all(f"\n  {s}:\n" in compose for s in ("postgres", "bot", "nginx"))
    example = _env_names((DEPLOY / "env.example").read_text()) - {"PUBLIC_HOST", "POSTGRES_PASSWORD"}
    assert example <= set(ENV_OVERRIDES), example - set(ENV_OVERRIDES)

    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "village-report-bot.service")
    service = unit["Service"]
    assert service["User"] not in ("root", "") and service["ExecStart"].endswith("-m bot run --log-format json")
    assert service["ExecStartPre"].endswith("-m bot db upgrade") and service["Restart"] == "on-failure"
    assert _env_names(service["Environment"]) <= set(ENV_OVERRIDES) | {"PYTHONUNBUFFERED"}
    assert "WEB_HOST=127.0.0.1" in service["Environment"] and "WEB_TRUSTED_PROXIES=127.0.0.1" in service["Environment"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_nginx_serves_the_bots_paths_over_https() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    defaults = Config()
    for path in (defaults.telegram.webhook_path, defaults.zalo.webhook_path):
        assert f"location = {path} " in text, path
    assert f"location {defaults.zalo.files_path}/ " in text
    assert "listen 443 ssl;" in text and "return 301 https://" in text
    assert re.search(r"location = /metrics \{[^}]*deny all;", text)
    assert f"client_max_body_size {12}m" in text  # a 10 MB photo fits


def test_the_postgres_role_and_database_script(tmp_path: Path) -> None:
    """deploy/postgres-setup.sql as the guide runs it (names made unique), then the schema as that role."""
    psql = shutil.which("psql")
    require_service(psql is not None, "psql is not installed")
    assert psql is not None
    name = f"vb_{uuid.uuid4().hex[:8]}"
    script = tmp_path / "setup.sql"
    script.write_text((DEPLOY / "postgres-setup.sql").read_text().replace("villagebot", name))
    admin = PG_DSN.rsplit("/", 1)[0] + "/postgres"
    try:
        done = subprocess.run([psql, admin, "-v", "ON_ERROR_STOP=1", "-v", "password='secret-pw'", "-f", str(script)],
                              capture_output=True, text=True, check=False)
        require_service("could not connect" not in done.stderr, f"PostgreSQL does not answer at {PG_DSN}")
        assert done.returncode == 0, done.stderr
        host = PG_DSN.split("@", 1)[1].rsplit("/", 1)[0]
        url = f"postgresql+asyncpg://{name}:secret-pw@{host}/{name}"
        upgrade = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=ROOT,
                                 env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
                                 capture_output=True, text=True, check=False)
        assert upgrade.returncode == 0, upgrade.stderr
    finally:
        subprocess.run([psql, admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True,
                       check=False)
        subprocess.run([psql, admin, "-c", f'DROP ROLE IF EXISTS "{name}"'], capture_output=True, check=False)


def test_the_command_wrapper_runs_with_the_services_settings(tmp_path: Path) -> None:
    """deploy/villagebot: the service's env file read as systemd reads it (comments, a value with spaces), the
    unit's own settings, the service's user; a variable given on the command line wins; without the file, one
    line."""
    work = Path(tempfile.mkdtemp(prefix="villagebot-", dir="/tmp"))  # a folder another user may enter
    try:
        work.chmod(0o777)
        (work / "env").write_text("# the secrets\n\nDATABASE_URL=sqlite+aiosqlite:///" + str(work / "bot.sqlite3")
                                  + "\nBACKUP_CRON=30 2 * * *\nWEB_SECRET_KEY=a-long-secret\n", encoding="utf-8")
        env = {**os.environ, "ENV_FILE": str(work / "env"), "APP_DIR": str(ROOT), "RUN_AS": "",
               "PYTHON": sys.executable}
        env.pop("DATABASE_URL", None)

        def villagebot(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(DEPLOY / "villagebot"), *args], cwd=tmp_path, env={**env, **more},
                                  capture_output=True, text=True, check=False)

        assert villagebot("db", "upgrade").returncode == 0
        check = villagebot("check")
        assert check.returncode == 0 and f"database: ok sqlite+aiosqlite:///{work / 'bot.sqlite3'}" in check.stdout
        other = f"sqlite+aiosqlite:///{work / 'other.sqlite3'}"  # given on the command line: it wins
        assert "\ncurrent: none" in villagebot("db", "status", DATABASE_URL=other).stdout
        if os.geteuid() == 0:  # as the service's user (here nobody)
            (work / "bot.sqlite3").chmod(0o666)
            done = villagebot("backup", "--out", str(work / "b.tar.gz"), RUN_AS="nobody")
            assert done.returncode == 0, done.stderr
            assert (work / "b.tar.gz").stat().st_uid == int(subprocess.check_output(["id", "-u", "nobody"]))
        missing = villagebot("check", ENV_FILE=str(work / "none"))
        assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "sudo" in missing.stderr
    finally:
        shutil.rmtree(work)

    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read(DEPLOY / "village-report-bot.service")
    service_env = set(unit["Service"]["Environment"].split()) - {"PYTHONUNBUFFERED=1"}
    exported = re.search(r"^export (WEB_HOST=.*)$", (DEPLOY / "villagebot").read_text(), re.M)
    assert exported is not None and set(exported.group(1).split()) == service_env  # the unit's, word for word
